"""The audit trail: one append-only, hash-chained log of every state change and every
view of a child's name.

Services call `record(...)`; who acted and from where come from the `actor` context that
the web layer (or a CLI command) sets, so services never read the request themselves.
"""
import hashlib
import json
from contextvars import ContextVar
from dataclasses import dataclass

from sqlalchemy import select, text

from ..clock import now
from ..extensions import db
from .models import AuditEvent

GENESIS = "0" * 64


@dataclass(frozen=True)
class Actor:
    user_id: int | None = None
    organization_id: int | None = None
    client_address: str = ""


SYSTEM = Actor(client_address="system")
_actor: ContextVar[Actor] = ContextVar("audit_actor", default=SYSTEM)


def act_as(actor: Actor):
    """Set who the following records are attributed to; returns a token for reset()."""
    return _actor.set(actor)


def reset(token) -> None:
    _actor.reset(token)


def event_hash(event: AuditEvent) -> str:
    content = {
        "created_at": event.created_at.isoformat(),
        "user_id": event.user_id,
        "organization_id": event.organization_id,
        "action": event.action,
        "object_type": event.object_type,
        "object_id": event.object_id,
        "details": event.details,
        "client_address": event.client_address,
        "previous_hash": event.previous_hash,
    }
    canonical = json.dumps(content, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def _lock_chain() -> None:
    """Appends take turns, so two servers never link two events to the same predecessor.
    PostgreSQL: a transaction-scoped advisory lock; SQLite: every write transaction
    already holds the database's write lock (BEGIN IMMEDIATE)."""
    if db.session.get_bind().dialect.name == "postgresql":
        db.session.execute(text("SELECT pg_advisory_xact_lock(74201)"))


def record(action: str, object_type: str, object_id, details: dict | None = None) -> AuditEvent:
    """Append one event to the chain, in the caller's transaction."""
    actor = _actor.get()
    _lock_chain()
    previous = db.session.scalar(select(AuditEvent.hash).order_by(AuditEvent.id.desc()).limit(1))
    event = AuditEvent(
        created_at=now(),
        user_id=actor.user_id, organization_id=actor.organization_id,
        action=action, object_type=object_type, object_id=str(object_id),
        details=details or {}, client_address=actor.client_address[:64],
        previous_hash=previous or GENESIS,
    )
    event.hash = event_hash(event)
    db.session.add(event)
    db.session.flush()
    return event
