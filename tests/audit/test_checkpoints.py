"""Checkpoints: the ombudsman's office keeps a signed statement of the trail's end outside the
system, and verify-audit --checkpoint proves the trail still extends it, even against
someone who holds the audit key and signed the whole chain again."""
import json

import pytest
from sqlalchemy import select

from coordination.audit.models import AuditEvent
from coordination.audit.signing import key_id
from coordination.extensions import db

from ..conftest import AUDIT_KEY
from . import forgery
from .forgery import WITH_THE_KEY, WITHOUT_THE_KEY


def run(app, *args):
    result = app.test_cli_runner().invoke(args=list(args))
    return result.exit_code, result.output


def take_checkpoint(app, tmp_path, name="checkpoint.json"):
    path = tmp_path / name
    code, output = run(app, "audit-checkpoint", "--output", str(path))
    assert code == 0, output
    return path


def some_history(make):
    make.referral(status="placed")


def test_a_checkpoint_states_the_trails_end_signed_with_the_key(app, make):
    some_history(make)
    code, output = run(app, "audit-checkpoint")
    assert code == 0, output
    statement = json.loads(output)
    trail = forgery.events()
    assert trail[-1].action == "audit.checkpoint"  # its making is in the trail, and it covers that
    assert (statement["event_count"], statement["last_event_id"], statement["last_hash"]) == (
        len(trail), trail[-1].id, trail[-1].hash)
    assert statement["key_id"] == key_id(AUDIT_KEY)
    assert statement["made_at"].endswith("+00:00")
    assert "verify-audit --checkpoint" in statement["about"]
    assert len(statement["signature"]) == 64


def test_the_trail_extends_its_checkpoints_as_it_grows(app, make, tmp_path):
    some_history(make)
    first = take_checkpoint(app, tmp_path, "week-1.json")
    some_history(make)
    second = take_checkpoint(app, tmp_path, "week-2.json")
    some_history(make)
    code, output = run(app, "verify-audit", "--checkpoint", str(first), "--checkpoint", str(second))
    assert code == 0, output
    assert "intact" in output
    assert f"still extends checkpoint {first}" in output and f"still extends checkpoint {second}" in output


def test_a_checkpoint_is_refused_when_the_trail_does_not_verify(app, make):
    some_history(make)
    forgery.sql("UPDATE audit_event SET action = 'referral.withdrawn' WHERE id = :id", id=forgery.ids()[2])
    code, output = run(app, "audit-checkpoint")
    assert code == 1
    assert "No checkpoint was made" in output and "{" not in output


# --- someone who holds the key -------------------------------------------------------------

@pytest.fixture
def witnessed(app, make, tmp_path):
    """A trail, a checkpoint of it, and more events after."""
    some_history(make)
    path = take_checkpoint(app, tmp_path)
    some_history(make)
    return path


def test_an_event_rewritten_before_a_checkpoint_and_signed_again_is_caught(app, witnessed):
    target = forgery.ids()[3]
    forgery.sql("UPDATE audit_event SET client_address = '10.6.6.6' WHERE id = :id", id=target)
    forgery.rechain(WITH_THE_KEY)
    forgery.move_head(WITH_THE_KEY)
    assert run(app, "verify-audit")[0] == 0  # the chain alone cannot tell
    code, output = run(app, "verify-audit", "--checkpoint", str(witnessed))
    assert code == 1
    checkpoint = json.loads(witnessed.read_text())
    assert f"BROKEN checkpoint {witnessed}: event {checkpoint['last_event_id']} no longer has the hash" in output


def test_an_event_removed_before_a_checkpoint_and_the_chain_signed_again_is_caught(app, witnessed):
    forgery.sql("DELETE FROM audit_event WHERE id = :id", id=forgery.ids()[2])
    forgery.rechain(WITH_THE_KEY)
    forgery.move_head(WITH_THE_KEY)
    assert run(app, "verify-audit")[0] == 0
    code, output = run(app, "verify-audit", "--checkpoint", str(witnessed))
    assert code == 1
    count = json.loads(witnessed.read_text())["event_count"]
    assert f"where it witnessed {count} (events at or before it were removed or added)" in output


def test_a_trail_put_back_to_before_a_checkpoint_is_caught(app, witnessed):
    """As if yesterday's backup were restored: the checkpoint's last event is gone."""
    checkpoint = json.loads(witnessed.read_text())
    forgery.sql("DELETE FROM audit_event WHERE id >= :id", id=checkpoint["last_event_id"] - 1)
    forgery.move_head(WITH_THE_KEY)
    assert run(app, "verify-audit")[0] == 0
    code, output = run(app, "verify-audit", "--checkpoint", str(witnessed))
    assert code == 1
    assert f"event {checkpoint['last_event_id']}, the last one it witnessed, is no longer in the trail" in output


def test_events_changed_after_a_checkpoint_are_for_the_chain_to_catch(app, witnessed):
    forgery.sql("UPDATE audit_event SET action = 'referral.withdrawn' WHERE id = :id", id=forgery.ids()[-1])
    code, output = run(app, "verify-audit", "--checkpoint", str(witnessed))
    assert code == 1
    assert "altered" in output and "checkpoint" not in output


# --- the file itself -------------------------------------------------------------------------

def test_a_checkpoint_with_an_edited_count_is_refused_for_its_signature(app, witnessed):
    statement = json.loads(witnessed.read_text())
    statement["event_count"] -= 1
    witnessed.write_text(json.dumps(statement, indent=2))
    code, output = run(app, "verify-audit", "--checkpoint", str(witnessed))
    assert code == 1
    assert f"BROKEN checkpoint {witnessed}: its signature does not match what it states" in output


@pytest.mark.parametrize("forger", [f for f in WITHOUT_THE_KEY if f.head_key], ids=str)
def test_a_checkpoint_made_up_without_the_key_is_refused(app, witnessed, forger):
    statement = json.loads(witnessed.read_text())
    statement["key_id"] = forger.key_id or statement["key_id"]
    from coordination.audit.checkpoints import _signature

    statement["signature"] = _signature(forger.head_key, statement)
    witnessed.write_text(json.dumps(statement))
    code, output = run(app, "verify-audit", "--checkpoint", str(witnessed))
    assert code == 1
    assert "signature does not match" in output or "key this system does not know" in output


@pytest.mark.parametrize("content, says", [
    ("", "it is not a checkpoint (not JSON"),
    ("this is not a checkpoint", "it is not a checkpoint (not JSON"),
    ("[1, 2, 3]", "it is not a checkpoint"),
    ('{"event_count": 3}', "it is not a checkpoint"),
    ('{"format": "coordination-audit-checkpoint/1", "event_count": 3}', "it has no last_event_id"),
    ('{"format": "coordination-audit-checkpoint/1", "event_count": "3", "last_event_id": 3}',
     "its event_count is not a whole number"),
    ('{"format": "coordination-audit-checkpoint/1", "event_count": 3, "last_event_id": 3, "last_hash": "a",'
     ' "made_at": "last week", "key_id": "x", "signature": "y"}', "its made_at is not a time"),
])
def test_a_file_that_is_not_a_checkpoint_is_named_without_a_traceback(app, make, tmp_path, content, says):
    some_history(make)
    path = tmp_path / "checkpoint.json"
    path.write_text(content)
    result = app.test_cli_runner().invoke(args=["verify-audit", "--checkpoint", str(path)])
    assert result.exit_code == 1
    assert isinstance(result.exception, SystemExit)
    assert f"BROKEN checkpoint {path}: {says}" in result.output


def test_a_checkpoint_file_that_is_not_text_is_named_without_a_traceback(app, make, tmp_path):
    some_history(make)
    path = tmp_path / "checkpoint.json"
    path.write_bytes(b"\xff\xfe\x00garbage")
    result = app.test_cli_runner().invoke(args=["verify-audit", "--checkpoint", str(path)])
    assert result.exit_code == 1 and isinstance(result.exception, SystemExit)
    assert f"BROKEN checkpoint {path}: it cannot be read" in result.output


def test_a_missing_checkpoint_file_is_named(app, tmp_path):
    code, output = run(app, "verify-audit", "--checkpoint", str(tmp_path / "nowhere.json"))
    assert code == 2 and "nowhere.json" in output and "does not exist" in output


def test_the_making_of_each_checkpoint_is_in_the_trail(app, make, tmp_path):
    some_history(make)
    take_checkpoint(app, tmp_path, "a.json")
    take_checkpoint(app, tmp_path, "b.json")
    made = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "audit.checkpoint")).all()
    assert len(made) == 2
    assert {(e.user_id, e.client_address) for e in made} == {(None, "system")}
