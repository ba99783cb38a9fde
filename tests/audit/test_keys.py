"""The audit key: where it comes from, and changing it (rotation) without losing what the
old key signed, or letting the old key sign anything new."""
import stat

import pytest
from sqlalchemy import select

from coordination.audit import services as audit
from coordination.audit.models import AuditEvent, AuditHead
from coordination.audit.signing import AuditKeyError, key_id
from coordination.config import ConfigError, from_environment
from coordination.extensions import db

from ..conftest import AUDIT_KEY
from . import forgery
from .forgery import Forger

NEW_KEY = "the-key-after-rotation-0123456789abcdef0123"


def verify(app, *args):
    result = app.test_cli_runner().invoke(args=["verify-audit", *args])
    return result.exit_code, result.output


@pytest.fixture
def rotated(app, make, monkeypatch):
    """Events under the old key, then the key changed (the old one kept as a previous key),
    then events under the new one."""
    make.referral(status="accepted")
    monkeypatch.setitem(app.config, "AUDIT_KEY", NEW_KEY)
    monkeypatch.setitem(app.config, "AUDIT_PREVIOUS_KEYS", (AUDIT_KEY,))
    make.referral(status="accepted")
    return app


def test_after_a_rotation_old_events_verify_with_the_old_key_and_new_ones_with_the_new(rotated):
    signers = [e.key_id for e in forgery.events()]
    assert signers[0] == key_id(AUDIT_KEY) and signers[-1] == key_id(NEW_KEY)
    assert signers == sorted(signers, key=[key_id(AUDIT_KEY), key_id(NEW_KEY)].index)  # one turn, no return
    code, output = verify(rotated)
    assert code == 0, output


def test_without_the_previous_key_the_old_events_do_not_verify(rotated, monkeypatch):
    monkeypatch.setitem(rotated.config, "AUDIT_PREVIOUS_KEYS", ())
    code, output = verify(rotated)
    assert code == 1
    assert f"BROKEN event 1: it is signed with a key this system does not know (key id {key_id(AUDIT_KEY)})" in output
    assert "AUDIT_PREVIOUS_KEYS" in output


def test_previous_keys_may_be_given_as_the_comma_separated_text_of_the_environment(rotated, monkeypatch):
    monkeypatch.setitem(rotated.config, "AUDIT_PREVIOUS_KEYS", f"{'z' * 40}, {AUDIT_KEY}")
    assert verify(rotated)[0] == 0


def test_a_replaced_key_cannot_add_events_after_the_new_one_took_over(rotated):
    """Whoever still holds the old key (the reason to change it) cannot append with it."""
    old = Forger("the replaced key", lambda e: audit.signed_hash(e, AUDIT_KEY), key_id=key_id(AUDIT_KEY),
                 head_key=AUDIT_KEY)
    forged = forgery.append_forged(old)
    code, output = verify(rotated)
    assert code == 1
    assert f"BROKEN event {forged}: it is signed with key id {key_id(AUDIT_KEY)}, which the trail had already " \
           f"stopped using" in output


def test_a_replaced_key_cannot_sign_the_head_after_cutting_off_the_new_keys_events(rotated):
    first_new = next(e.id for e in forgery.events() if e.key_id == key_id(NEW_KEY))
    forgery.sql("DELETE FROM audit_event WHERE id >= :id", id=first_new)
    forgery.move_head(Forger("the replaced key", None, key_id=key_id(AUDIT_KEY), head_key=AUDIT_KEY))
    code, output = verify(rotated)
    assert code == 1 and "BROKEN the chain head is still signed with an earlier key" in output


def test_right_after_a_rotation_the_head_is_signed_anew_by_the_next_event(app, make, monkeypatch):
    make.referral()
    monkeypatch.setitem(app.config, "AUDIT_KEY", NEW_KEY)
    monkeypatch.setitem(app.config, "AUDIT_PREVIOUS_KEYS", (AUDIT_KEY,))
    code, output = verify(app)
    assert code == 1 and "nothing was recorded since the key was changed" in output
    assert app.test_cli_runner().invoke(args=["audit-checkpoint"]).exit_code == 0  # records an event
    assert db.session.get(AuditHead, 1).key_id == key_id(NEW_KEY)
    assert verify(app)[0] == 0


def test_a_server_whose_key_is_out_of_date_records_nothing(app, make, monkeypatch):
    """One server restarted with the new key, another still on the old one: the old one's
    transactions fail rather than sign events with a key the trail has moved on from."""
    make.referral()
    monkeypatch.setitem(app.config, "AUDIT_KEY", NEW_KEY)
    monkeypatch.setitem(app.config, "AUDIT_PREVIOUS_KEYS", (AUDIT_KEY,))
    make.referral()
    monkeypatch.setitem(app.config, "AUDIT_KEY", AUDIT_KEY)
    monkeypatch.setitem(app.config, "AUDIT_PREVIOUS_KEYS", ())
    before = forgery.count()
    audit.record("test.stale", "thing", 1)
    with pytest.raises(AuditKeyError, match="give every server the same AUDIT_KEY"):
        db.session.commit()
    db.session.rollback()
    assert forgery.count() == before
    assert db.session.scalars(select(AuditEvent).where(AuditEvent.action == "test.stale")).all() == []


# --- where the key comes from ------------------------------------------------------------------

def test_production_refuses_to_start_without_an_audit_key(tmp_path):
    with pytest.raises(ConfigError, match="AUDIT_KEY must be set"):
        from_environment(str(tmp_path), environ={"COORDINATION_ENV": "production", "SECRET_KEY": "s" * 64})
    assert not (tmp_path / "audit_key").exists()  # never a generated key in production


def test_production_takes_the_audit_key_from_the_environment_or_the_instance_file(tmp_path):
    production = {"COORDINATION_ENV": "production", "SECRET_KEY": "s" * 64}
    assert from_environment(str(tmp_path), environ={**production, "AUDIT_KEY": "a" * 64})["AUDIT_KEY"] == "a" * 64
    (tmp_path / "audit_key").write_text("b" * 64 + "\n")
    assert from_environment(str(tmp_path), environ=production)["AUDIT_KEY"] == "b" * 64
    assert from_environment(str(tmp_path), environ={**production, "AUDIT_KEY": "a" * 64})["AUDIT_KEY"] == "a" * 64


def test_development_makes_an_audit_key_of_its_own_readable_only_by_its_owner(tmp_path):
    config = from_environment(str(tmp_path), environ={})
    path = tmp_path / "audit_key"
    assert config["AUDIT_KEY"] == path.read_text().strip() and len(config["AUDIT_KEY"]) == 64
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert from_environment(str(tmp_path), environ={})["AUDIT_KEY"] == config["AUDIT_KEY"]  # kept
    assert config["AUDIT_KEY"] != config["SECRET_KEY"]
    assert config["AUDIT_PREVIOUS_KEYS"] == ()


def test_previous_audit_keys_are_read_comma_separated(tmp_path):
    config = from_environment(str(tmp_path), environ={"AUDIT_PREVIOUS_KEYS": f" {'c' * 40}, ,{'d' * 40} "})
    assert config["AUDIT_PREVIOUS_KEYS"] == ("c" * 40, "d" * 40)


@pytest.mark.parametrize("environ", [{"AUDIT_KEY": "short"}, {"AUDIT_PREVIOUS_KEYS": "e" * 40 + ",short"}])
def test_a_short_audit_key_stops_the_app(tmp_path, environ):
    with pytest.raises(ConfigError, match="32 characters or more"):
        from_environment(str(tmp_path), environ=environ)
