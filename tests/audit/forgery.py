"""What a database administrator can do to the audit trail: plain SQL on the real tables,
with or without the audit key. The tests in this folder use it to forge, then ask
verify-audit whether it notices."""
import hashlib
import json
from dataclasses import dataclass
from types import SimpleNamespace
from typing import Callable

from sqlalchemy import func, select, text

from coordination.audit import services as audit
from coordination.audit import signing
from coordination.audit.models import AuditEvent
from coordination.extensions import db

from ..conftest import AUDIT_KEY

WRONG_KEY = "a-key-the-forger-made-up-0123456789abcdef"


def plain_sha256(event) -> str:
    """The unkeyed hash the trail used to have, as anyone can recompute it from the code."""
    content = {
        "created_at": event.created_at.isoformat(), "user_id": event.user_id,
        "organization_id": event.organization_id, "action": event.action, "object_type": event.object_type,
        "object_id": event.object_id, "details": event.details, "client_address": event.client_address,
        "previous_hash": event.previous_hash,
    }
    return hashlib.sha256(json.dumps(content, sort_keys=True, ensure_ascii=False,
                                     separators=(",", ":")).encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class Forger:
    name: str
    hasher: Callable  # event -> hash
    key_id: str | None = None  # the key id written on what it rewrites; None: left as it was
    head_key: str | None = None  # the key it signs the head with; None: it cannot sign

    def __str__(self) -> str:
        return self.name


WITHOUT_THE_KEY = [
    Forger("plain SHA-256", plain_sha256),
    Forger("plain SHA-256, marked legacy", plain_sha256, key_id=signing.LEGACY),
    Forger("a wrong key under the real key id", lambda e: audit.signed_hash(e, WRONG_KEY), head_key=WRONG_KEY),
    Forger("a key of its own", lambda e: audit.signed_hash(e, WRONG_KEY), key_id=signing.key_id(WRONG_KEY),
           head_key=WRONG_KEY),
]
WITH_THE_KEY = Forger("the audit key", lambda e: audit.signed_hash(e, AUDIT_KEY), head_key=AUDIT_KEY)


def events() -> list[SimpleNamespace]:
    """The trail as plain values, oldest first (a copy: changing one changes nothing)."""
    db.session.expire_all()
    columns = [c.key for c in AuditEvent.__table__.columns]
    return [SimpleNamespace(**{name: getattr(e, name) for name in columns})
            for e in db.session.scalars(select(AuditEvent).order_by(AuditEvent.id))]


def ids() -> list[int]:
    return [e.id for e in events()]


def sql(statement: str, **values) -> None:
    db.session.execute(text(statement), values)
    db.session.commit()


def rechain(forger: Forger) -> None:
    """Hash every event again, each linked to the one before, as one would after rewriting or
    removing an event so that the links hold again."""
    previous = audit.GENESIS
    for event in events():
        event.key_id = forger.key_id or event.key_id
        event.previous_hash = previous
        event.hash = previous = forger.hasher(event)
        db.session.execute(text("UPDATE audit_event SET previous_hash = :previous_hash, hash = :hash, key_id = :key_id "
                                "WHERE id = :id"), vars(event))
    db.session.commit()


def move_head(forger: Forger) -> None:
    """Point the head at the end the chain now has, signed if the forger has a key to sign with."""
    trail = events()
    head = {"last_event_id": trail[-1].id, "last_hash": trail[-1].hash, "event_count": len(trail)}
    db.session.execute(text("UPDATE audit_head SET last_event_id = :last_event_id, last_hash = :last_hash, "
                            "event_count = :event_count WHERE id = 1"), head)
    if forger.head_key:
        db.session.execute(text("UPDATE audit_head SET signature = :signature, key_id = :key_id WHERE id = 1"), {
            "signature": signing.head_signature(forger.head_key, **head),
            "key_id": forger.key_id or signing.key_id(AUDIT_KEY)})
    db.session.commit()


def append_forged(forger: Forger, action: str = "referral.withdrawn") -> int:
    """Add an event at the end, a copy of the last one saying `action`, linked and hashed as
    the forger can; the head moved to it. Returns its id."""
    last = events()[-1]
    forged = SimpleNamespace(**{**vars(last), "id": last.id + 1, "action": action, "previous_hash": last.hash,
                                "key_id": forger.key_id or last.key_id})
    forged.hash = forger.hasher(forged)
    db.session.execute(text(
        "INSERT INTO audit_event (id, created_at, user_id, organization_id, action, object_type, object_id, "
        "details, client_address, previous_hash, hash, key_id) SELECT :id, created_at, user_id, organization_id, "
        ":action, object_type, object_id, details, client_address, :previous_hash, :hash, :key_id "
        "FROM audit_event WHERE id = :last"), {**vars(forged), "last": last.id})
    db.session.commit()
    move_head(forger)
    return forged.id


def count() -> int:
    return db.session.scalar(select(func.count(AuditEvent.id)))
