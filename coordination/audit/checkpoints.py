"""Checkpoints: signed statements of where the audit trail ended, for the ombudsman's office
to keep outside the system.

The keyed chain stops whoever can write to the database but lacks the audit key. It cannot
stop whoever has both: they could rewrite an event and sign the chain again, or put the
database back to yesterday's backup. A checkpoint held outside the system catches them: it
states how many events there were, the last one's id and hash, and when; signed with the
audit key, so it cannot be made up either. A trail that still extends a checkpoint has, at
the checkpoint's last event, the very hash it witnessed, and since every hash covers the one
before it, every event up to there is as it was then.
"""
import json
from dataclasses import dataclass
from datetime import datetime, timezone

from sqlalchemy import func, select

from ..clock import now
from ..extensions import db
from . import signing
from .models import AuditEvent, AuditHead

FORMAT = "coordination-audit-checkpoint/1"
ABOUT = ("A signed statement of how far the audit trail went when it was made. Keep it outside the "
         "system; check the trail against it with: flask --app app verify-audit --checkpoint FILE")


class MalformedCheckpoint(ValueError):
    """The file is not a checkpoint this system makes; the message says what is wrong."""


@dataclass(frozen=True)
class Checkpoint:
    event_count: int
    last_event_id: int
    last_hash: str
    made_at: str
    key_id: str
    signature: str
    statement: dict  # every field as written, for checking the signature

    def __str__(self) -> str:
        return f"made at {self.made_at}: {self.event_count} events up to event {self.last_event_id}"


def _signature(key: str, statement: dict) -> str:
    return signing.mac(key, {name: value for name, value in statement.items() if name != "signature"})


def make(keys: signing.Keyring, head: AuditHead) -> dict:
    """The statement of `head`, signed with the current key, ready to print."""
    statement = {
        "format": FORMAT,
        "about": ABOUT,
        "made_at": now().astimezone(timezone.utc).isoformat(timespec="seconds"),
        "event_count": head.event_count,
        "last_event_id": head.last_event_id,
        "last_hash": head.last_hash,
        "key_id": keys.current_id,
    }
    statement["signature"] = _signature(keys.current, statement)
    return statement


def dumps(statement: dict) -> str:
    return json.dumps(statement, indent=2, ensure_ascii=False) + "\n"


def _field(statement: dict, name: str, kind: type):
    if name not in statement:
        raise MalformedCheckpoint(f"it has no {name}")
    value = statement[name]
    if not isinstance(value, kind) or isinstance(value, bool):
        raise MalformedCheckpoint(f"its {name} is not a {'whole number' if kind is int else 'text'}: {value!r}")
    return value


def loads(text: str) -> Checkpoint:
    """Read a checkpoint back; MalformedCheckpoint says what is wrong with one that is not."""
    try:
        statement = json.loads(text)
    except ValueError as error:
        raise MalformedCheckpoint(f"it is not a checkpoint (not JSON: {error})") from None
    if not isinstance(statement, dict) or statement.get("format") != FORMAT:
        raise MalformedCheckpoint(f'it is not a checkpoint (no "format": "{FORMAT}")')
    checkpoint = Checkpoint(
        event_count=_field(statement, "event_count", int),
        last_event_id=_field(statement, "last_event_id", int),
        last_hash=_field(statement, "last_hash", str),
        made_at=_field(statement, "made_at", str),
        key_id=_field(statement, "key_id", str),
        signature=_field(statement, "signature", str),
        statement=statement,
    )
    try:
        datetime.fromisoformat(checkpoint.made_at)
    except ValueError:
        raise MalformedCheckpoint(f"its made_at is not a time: {checkpoint.made_at!r}") from None
    return checkpoint


def problems_with(checkpoint: Checkpoint, keys: signing.Keyring) -> list[str]:
    """What is wrong: a signature that is not this system's, or a trail that no longer extends
    the checkpoint (its last event gone or changed, or events before it removed or added)."""
    key = keys.keys.get(checkpoint.key_id)
    if key is None:
        return [f"it is signed with a key this system does not know (key id {checkpoint.key_id}); if the "
                f"key was changed since, list the earlier one in AUDIT_PREVIOUS_KEYS"]
    if not signing.matches(_signature(key, checkpoint.statement), checkpoint.signature):
        return ["its signature does not match what it states (the file was altered, or not made by this system)"]
    event = db.session.get(AuditEvent, checkpoint.last_event_id)
    if event is None:
        return [f"event {checkpoint.last_event_id}, the last one it witnessed, is no longer in the trail "
                f"(events were removed, or the trail was put back to an earlier state)"]
    problems = []
    count = db.session.scalar(select(func.count(AuditEvent.id)).where(AuditEvent.id <= checkpoint.last_event_id))
    if count != checkpoint.event_count:
        problems.append(f"the trail now holds {count} events up to event {checkpoint.last_event_id}, where it "
                        f"witnessed {checkpoint.event_count} (events at or before it were removed or added)")
    if event.hash != checkpoint.last_hash:
        problems.append(f"event {checkpoint.last_event_id} no longer has the hash it witnessed (the trail was "
                        f"rewritten at or before that event)")
    return problems
