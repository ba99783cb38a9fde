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
from .models import AuditEvent, AuditHead

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
    head = db.session.get(AuditHead, 1)
    if head is None:
        db.session.add(AuditHead(id=1, last_event_id=event.id, last_hash=event.hash, event_count=1))
    else:
        head.last_event_id, head.last_hash = event.id, event.hash
        head.event_count += 1
    db.session.flush()
    return event


def verify_chain(batch: int = 1000) -> list[str]:
    """Walk the chain from the first event; what is wrong, starting with the first broken link.

    An edited event no longer matches its own hash; an inserted or removed one breaks the
    link to its neighbour; events removed from the end no longer match the recorded head.
    """
    previous_hash, count, last_id = GENESIS, 0, None
    query = select(AuditEvent).order_by(AuditEvent.id)
    for event in db.session.scalars(query.execution_options(yield_per=batch)):
        if event.previous_hash != previous_hash:
            return [f"event {event.id}: its link to the event before does not match "
                    f"(an event before it was inserted, removed or altered)"]
        if event_hash(event) != event.hash:
            return [f"event {event.id}: its content does not match its hash (it was altered)"]
        previous_hash, count, last_id = event.hash, count + 1, event.id
    head = db.session.get(AuditHead, 1)
    if head is None:
        return [] if count == 0 else [f"the chain head is missing ({count} events)"]
    if (head.last_event_id, head.last_hash, head.event_count) != (last_id, previous_hash, count):
        return [f"the chain ends at event {last_id} with {count} events, but the recorded head is event "
                f"{head.last_event_id} with {head.event_count} (events were removed from the end or added)"]
    return []


# --- reading the trail -----------------------------------------------------------------------

def may_browse(user) -> bool:
    """Admins and oversight read the whole trail."""
    return user.role in ("admin", "oversight")


def known_actions() -> list[str]:
    return list(db.session.scalars(select(AuditEvent.action).distinct().order_by(AuditEvent.action)))


def known_object_types() -> list[str]:
    return list(db.session.scalars(select(AuditEvent.object_type).distinct().order_by(AuditEvent.object_type)))


def history_of(object_type: str, object_id) -> list[AuditEvent]:
    """One record's own history, oldest first."""
    return list(db.session.scalars(select(AuditEvent).where(
        AuditEvent.object_type == object_type, AuditEvent.object_id == str(object_id)).order_by(AuditEvent.id)))


def names_of(events) -> dict:
    """Who each event's user is, in one query for a whole page of events."""
    from ..accounts.models import User

    ids = {e.user_id for e in events if e.user_id}
    if not ids:
        return {}
    return {u.id: u for u in db.session.scalars(select(User).where(User.id.in_(ids)))}
