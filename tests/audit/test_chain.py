"""The audit trail cannot be changed behind its back without verify-audit saying so, even by
whoever can write to its database: its hashes are signed with a key the database does not
hold. (What the key's holder can still do is caught by checkpoints: test_checkpoints.py.)"""
import threading

import pytest
from sqlalchemy import event as sa_event, func, select, text

from coordination.audit import services as audit
from coordination.audit.models import AuditEvent, AuditHead
from coordination.extensions import db

from . import forgery
from .forgery import WITH_THE_KEY, WITHOUT_THE_KEY


def verify(app):
    result = app.test_cli_runner().invoke(args=["verify-audit"])
    return result.exit_code, result.output


def some_history(make, login_as):
    """A real trail: a referral walked to placed, counts edited, a sign-in, a child viewed."""
    referral = make.referral(status="placed")
    caseworker = login_as(referral.caseworker)
    caseworker.get(f"/children/{referral.child_id}")
    return referral


ids = forgery.ids


def test_an_untouched_trail_verifies(app, make, login_as):
    some_history(make, login_as)
    code, output = verify(app)
    assert code == 0, output
    assert "intact" in output


def test_every_move_login_and_child_view_is_in_the_trail(app, make, login_as):
    referral = some_history(make, login_as)
    actions = set(db.session.scalars(select(AuditEvent.action)))
    assert {"child.register", "referral.draft", "referral.submitted", "referral.accepted",
            "referral.approved", "referral.placed", "login", "child.view"} <= actions
    view = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "child.view")).one()
    assert (view.user_id, view.object_id) == (referral.caseworker_id, str(referral.child_id))
    assert view.client_address == "127.0.0.1"


def test_an_altered_event_is_named(app, make, login_as):
    some_history(make, login_as)
    target = ids()[3]
    db.session.execute(text("UPDATE audit_event SET action = 'referral.withdrawn' WHERE id = :id"), {"id": target})
    db.session.commit()
    code, output = verify(app)
    assert code != 0
    assert f"event {target}" in output and "altered" in output


def test_altered_details_are_caught_too(app, make, login_as):
    some_history(make, login_as)
    target = ids()[2]
    db.session.execute(text("UPDATE audit_event SET client_address = '10.6.6.6' WHERE id = :id"), {"id": target})
    db.session.commit()
    code, output = verify(app)
    assert code != 0 and f"event {target}" in output


def test_a_removed_event_is_named(app, make, login_as):
    some_history(make, login_as)
    all_ids = ids()
    db.session.execute(text("DELETE FROM audit_event WHERE id = :id"), {"id": all_ids[4]})
    db.session.commit()
    code, output = verify(app)
    assert code != 0
    assert f"event {all_ids[5]}" in output  # the first one whose link is now broken


def test_events_cut_from_the_end_are_noticed(app, make, login_as):
    some_history(make, login_as)
    all_ids = ids()
    db.session.execute(text("DELETE FROM audit_event WHERE id >= :id"), {"id": all_ids[-2]})
    db.session.commit()
    code, output = verify(app)
    assert code != 0 and "removed from the end" in output


def test_an_inserted_event_is_named(app, make, login_as):
    some_history(make, login_as)
    all_ids = ids()
    copy = db.session.get(AuditEvent, all_ids[2])
    forged_id = all_ids[2] * 1000 + 1  # any id; it is placed between two real events below
    db.session.execute(text(
        "INSERT INTO audit_event (id, created_at, user_id, organization_id, action, object_type, object_id, "
        "details, client_address, previous_hash, hash, key_id) SELECT :new, created_at, user_id, organization_id, "
        "'referral.withdrawn', object_type, object_id, details, client_address, hash, :fake, key_id "
        "FROM audit_event WHERE id = :old"), {"new": forged_id, "old": copy.id, "fake": "f" * 64})
    # Renumber so the forgery sits in the middle of the chain.
    db.session.execute(text("UPDATE audit_event SET id = id + 100000 WHERE id > :id AND id <> :new"),
                       {"id": copy.id, "new": forged_id})
    db.session.execute(text("UPDATE audit_event SET id = :slot WHERE id = :new"),
                       {"slot": copy.id + 1, "new": forged_id})
    db.session.commit()
    code, output = verify(app)
    assert code != 0
    assert f"event {copy.id + 1}" in output


# --- a database administrator without the key ---------------------------------------------
# Each forgery is made whole: the chain hashed again after the change so that every link
# holds, and the head moved to the new end, as the old, unkeyed chain let anyone do.

def test_every_event_is_signed_with_the_audit_key_and_so_is_the_head(app, make, login_as):
    from coordination.audit.signing import key_id

    from ..conftest import AUDIT_KEY

    some_history(make, login_as)
    assert set(db.session.scalars(select(AuditEvent.key_id))) == {key_id(AUDIT_KEY)}
    assert all(e.hash != forgery.plain_sha256(e) for e in forgery.events())
    assert db.session.get(AuditHead, 1).key_id == key_id(AUDIT_KEY)


def caught_rehashing(app) -> bool:
    """The first event the forger hashed again gives it away; or, when the forger marked every
    event unkeyed (so the chain is one of legacy events only), the head's signature."""
    code, output = verify(app)
    return code == 1 and ("BROKEN event" in output or "BROKEN the chain head does not match" in output)


@pytest.mark.parametrize("forger", WITHOUT_THE_KEY, ids=str)
def test_an_event_edited_and_the_chain_hashed_again_is_caught(app, make, login_as, forger):
    some_history(make, login_as)
    target = ids()[3]
    forgery.sql("UPDATE audit_event SET action = 'referral.withdrawn' WHERE id = :id", id=target)
    forgery.rechain(forger)
    forgery.move_head(forger)
    assert caught_rehashing(app)


@pytest.mark.parametrize("forger", WITHOUT_THE_KEY, ids=str)
def test_an_event_removed_and_the_chain_hashed_again_is_caught(app, make, login_as, forger):
    some_history(make, login_as)
    forgery.sql("DELETE FROM audit_event WHERE id = :id", id=ids()[4])
    forgery.rechain(forger)
    forgery.move_head(forger)
    assert caught_rehashing(app)


@pytest.mark.parametrize("forger", WITHOUT_THE_KEY, ids=str)
def test_events_cut_from_the_end_with_the_head_moved_back_are_caught(app, make, login_as, forger):
    some_history(make, login_as)
    forgery.sql("DELETE FROM audit_event WHERE id >= :id", id=ids()[-2])
    forgery.move_head(forger)
    code, output = verify(app)
    assert code == 1 and "BROKEN the chain head" in output


@pytest.mark.parametrize("forger", WITHOUT_THE_KEY, ids=str)
def test_an_event_added_at_the_end_with_the_head_moved_to_it_is_caught(app, make, login_as, forger):
    some_history(make, login_as)
    forged = forgery.append_forged(forger)
    code, output = verify(app)
    assert code == 1 and f"BROKEN event {forged}:" in output


def test_the_next_event_does_not_make_a_moved_head_look_genuine(app, make, login_as):
    """An append extends the head it finds; it signs the new head only when the old one's
    signature held, so cutting the end and waiting for the next event hides nothing."""
    some_history(make, login_as)
    forgery.sql("DELETE FROM audit_event WHERE id >= :id", id=ids()[-2])
    forgery.move_head(WITHOUT_THE_KEY[0])
    make.referral()  # more events, through the app
    code, output = verify(app)
    assert code == 1 and "BROKEN the chain head does not match its signature" in output


def test_a_forger_with_the_key_passes_verify_audit_alone(app, make, login_as):
    """The limit of the keyed chain, and why checkpoints exist (test_checkpoints.py)."""
    some_history(make, login_as)
    forgery.sql("DELETE FROM audit_event WHERE id = :id", id=ids()[4])
    forgery.rechain(WITH_THE_KEY)
    forgery.move_head(WITH_THE_KEY)
    assert verify(app)[0] == 0


@pytest.mark.parametrize("first", [True, False], ids=["the first events", "events after others"])
def test_appends_from_many_connections_at_once_stay_one_chain(app, make, first):
    # The first events find no head to wait for (a lock of its own stands in); later ones
    # wait for the head's row. Either way they take turns.
    user = make.user("caseworker")
    actor = audit.Actor(user_id=user.id, organization_id=user.organization_id, client_address="test")
    if not first:
        audit.record("test.before", "thing", 0)
        db.session.commit()
    assert (db.session.get(AuditHead, 1) is None) == first
    db.session.commit()  # the test's own session holds no lock while the threads write
    barrier = threading.Barrier(12)
    errors = []

    def append(n):
        try:
            with app.app_context():
                token = audit.act_as(actor)
                barrier.wait(timeout=30)
                audit.record("test.append", "thing", n)
                db.session.commit()
                audit.reset(token)
        except Exception as error:  # pragma: no cover - reported below
            errors.append(error)

    threads = [threading.Thread(target=append, args=(n,)) for n in range(12)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert errors == []
    assert db.session.scalar(select(func.count(AuditEvent.id)).where(AuditEvent.action == "test.append")) == 12
    code, output = verify(app)
    assert code == 0, output


def test_behind_a_trusted_proxy_the_trail_records_the_clients_address(database_url, make):
    from coordination.audit.models import AuditEvent as Event

    from ..conftest import Client, make_app

    email = make.user("caseworker").email
    db.session.commit()
    for hops, expected in ((1, "203.0.113.9"), (0, "127.0.0.1")):
        proxied = make_app(database_url, PROXY_HOPS=hops)
        with proxied.app_context():
            client = Client(proxied)
            client.http.environ_base["HTTP_X_FORWARDED_FOR"] = "203.0.113.9"
            assert client.login(email).status_code == 303
            last_login = db.session.scalars(
                select(Event).where(Event.action == "login").order_by(Event.id.desc())).first()
            assert last_login.client_address == expected
            db.session.commit()


def _statements_during(work) -> list[str]:
    seen = []

    def record(conn, cursor, statement, parameters, context, executemany):
        seen.append(statement)

    sa_event.listen(db.engine, "before_cursor_execute", record)
    try:
        work()
    finally:
        sa_event.remove(db.engine, "before_cursor_execute", record)
    return seen


def test_a_savepoint_links_its_events_at_the_transactions_commit_not_its_own(app):
    """Rows loaded one savepoint each (an import) take the chain's lock once, at the commit,
    after every row lock; a savepoint rolled back takes back what it recorded."""
    # A chain under way: its very first append on PostgreSQL reads the head a second time,
    # after the advisory lock that stands in for the head row not made yet (_locked_head).
    audit.record("test.first", "thing", 0)
    db.session.commit()

    def work():
        with db.session.begin_nested():
            audit.record("test.kept", "thing", 1)
        try:
            with db.session.begin_nested():
                audit.record("test.refused", "thing", 2)
                raise ValueError("this row is refused")
        except ValueError:
            pass
        with db.session.begin_nested():
            audit.record("test.kept", "thing", 3)
        assert db.session.scalar(select(func.count()).select_from(AuditEvent)) == 1  # nothing linked yet
        db.session.commit()

    statements = _statements_during(work)

    assert [(e.action, e.object_id) for e in db.session.scalars(select(AuditEvent).order_by(AuditEvent.id))] == [
        ("test.first", "0"), ("test.kept", "1"), ("test.kept", "3")]
    assert sum("audit_head" in s and s.lstrip().upper().startswith("SELECT") for s in statements) == 1
    assert audit.verify_chain() == []
