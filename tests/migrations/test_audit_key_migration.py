"""The migration that keys the audit trail (f7b8c9d0e1a2), on a database of its own that has a
trail from before: its events stay verifiable as an unkeyed ("legacy") start of the chain,
its head is signed, new events are keyed, and the legacy part cannot be rewritten or added
to without it showing."""
from datetime import datetime, timedelta, timezone
from types import SimpleNamespace

import pytest
import sqlalchemy as sa
from flask_migrate import downgrade, upgrade

from coordination.audit import services as audit
from coordination.audit import signing
from coordination.audit.models import AuditHead
from coordination.extensions import db

from ..audit import forgery
from ..audit.forgery import WITHOUT_THE_KEY
from ..conftest import AUDIT_KEY

BEFORE, REVISION = "e5a6b7c8d9f0", "f7b8c9d0e1a2"
LEGACY_EVENTS = 6


def _write_trail_as_before(connection) -> None:
    """Events hashed as the app hashed them before, with plain SHA-256, and their head."""
    events = sa.table("audit_event", *(sa.column(name) for name in (
        "id", "created_at", "user_id", "organization_id", "action", "object_type", "object_id",
        "client_address", "previous_hash", "hash")), sa.column("details", sa.JSON()))
    previous, start = audit.GENESIS, datetime(2026, 3, 1, 9, 0, tzinfo=timezone.utc)
    for n in range(1, LEGACY_EVENTS + 1):
        event = SimpleNamespace(id=n, created_at=start + timedelta(minutes=n), user_id=None, organization_id=None,
                                action="referral.submitted", object_type="referral", object_id=str(n),
                                details={"pool": n}, client_address="10.0.0.1", previous_hash=previous)
        event.hash = previous = forgery.plain_sha256(event)
        connection.execute(events.insert().values(
            **{**vars(event), "created_at": event.created_at.replace(tzinfo=None)}))
    connection.execute(sa.text("INSERT INTO audit_head (id, last_event_id, last_hash, event_count) "
                               "VALUES (1, :id, :hash, :count)"), {"id": LEGACY_EVENTS, "hash": previous,
                                                                   "count": LEGACY_EVENTS})
    if connection.dialect.name == "postgresql":  # rows given their ids: the next one the app adds follows them
        connection.execute(sa.text("SELECT setval(pg_get_serial_sequence('audit_event', 'id'), :n)"),
                           {"n": LEGACY_EVENTS})


def verify(app):
    result = app.test_cli_runner().invoke(args=["verify-audit"])
    return result.exit_code, result.output


@pytest.fixture
def migrated(database):
    upgrade(revision=BEFORE)
    with db.engine.begin() as connection:
        _write_trail_as_before(connection)
    upgrade(revision=REVISION)
    return database


def test_the_trail_from_before_verifies_as_legacy_and_its_head_is_signed(migrated):
    assert {e.key_id for e in forgery.events()} == {signing.LEGACY}
    head = db.session.get(AuditHead, 1)
    assert head.key_id == signing.key_id(AUDIT_KEY)
    assert head.signature == signing.head_signature(AUDIT_KEY, LEGACY_EVENTS, head.last_hash, LEGACY_EVENTS)
    code, output = verify(migrated)
    assert code == 0, output


def test_new_events_are_keyed_and_link_to_the_legacy_ones(migrated):
    last_legacy = forgery.events()[-1]
    audit.record("test.after", "thing", 1)
    db.session.commit()
    new = forgery.events()[-1]
    assert (new.key_id, new.previous_hash) == (signing.key_id(AUDIT_KEY), last_legacy.hash)
    code, output = verify(migrated)
    assert code == 0, output


def test_a_legacy_event_rewritten_and_rehashed_is_caught_by_the_first_keyed_one(migrated):
    audit.record("test.after", "thing", 1)
    db.session.commit()
    forgery.sql("UPDATE audit_event SET action = 'referral.withdrawn' WHERE id = 2")
    forgery.rechain(WITHOUT_THE_KEY[0])  # plain SHA-256: the legacy part is right again, the keyed one not
    code, output = verify(migrated)
    assert code == 1 and f"BROKEN event {LEGACY_EVENTS + 1}:" in output


def test_a_legacy_event_added_after_keyed_ones_is_caught(migrated):
    audit.record("test.after", "thing", 1)
    db.session.commit()
    forged = forgery.append_forged(WITHOUT_THE_KEY[1])  # plain SHA-256, marked legacy
    code, output = verify(migrated)
    assert code == 1
    assert f"BROKEN event {forged}: it is unkeyed, yet it comes after keyed events" in output


@pytest.mark.parametrize("forger", WITHOUT_THE_KEY[:2], ids=str)
def test_a_legacy_trail_is_rewritten_no_more_easily_before_its_first_keyed_event(migrated, forger):
    """The head signed by the migration pins the legacy trail from the start."""
    forgery.sql("DELETE FROM audit_event WHERE id = 3")
    forgery.rechain(forger)
    forgery.move_head(forger)
    code, output = verify(migrated)
    assert code == 1 and "BROKEN the chain head does not match its signature" in output


def test_a_blanked_head_signature_is_caught(migrated):
    forgery.sql("UPDATE audit_head SET signature = ''")
    assert verify(migrated)[0] == 1


def test_an_empty_trail_migrates_with_no_head_and_downgrades(database):
    upgrade(revision=REVISION)
    assert db.session.get(AuditHead, 1) is None
    audit.record("test.first", "thing", 1)
    db.session.commit()
    assert verify(database)[0] == 0
    db.session.remove()
    downgrade(revision=BEFORE)
    columns = {c["name"] for c in sa.inspect(db.engine).get_columns("audit_event")}
    assert "key_id" not in columns
    assert "signature" not in {c["name"] for c in sa.inspect(db.engine).get_columns("audit_head")}
