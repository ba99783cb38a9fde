"""The audit trail: one append-only, hash-chained log of every state change and every
view of a child's name, each hash signed with the audit key, which the database does not
hold (audit/signing.py), so that whoever can write to the database cannot rewrite the trail
unseen. What the key's holder could still do, checkpoints kept outside catch
(audit/checkpoints.py).

Services call `record(...)`; who acted and from where come from the `actor` context that
the web layer (or a CLI command) sets, so services never read the request themselves. The
events join the chain when their transaction commits, in one step at the end.
"""
import hashlib
import logging
import re
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import date, timedelta

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import Select, and_, event as sa_event, func, insert, or_, select, text, update
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value

from ..clock import now
from ..extensions import db
from ..i18n import start_of_local_day
from . import signing
from .models import AuditEvent, AuditHead
from .signing import LEGACY, AuditKeyError, Keyring

log = logging.getLogger(__name__)

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


def _content(event: AuditEvent) -> dict:
    return {
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


def legacy_hash(event: AuditEvent) -> str:
    """How events were hashed before the trail was keyed: plain SHA-256, which anyone can
    recompute. Still checked for those events (key id "legacy"), never made for new ones."""
    return hashlib.sha256(signing.canonical(_content(event))).hexdigest()


def signed_hash(event: AuditEvent, key: str) -> str:
    """An event's hash: an HMAC with the audit key over its content, the hash of the event
    before it and the id of the key."""
    return signing.mac(key, {**_content(event), "key_id": event.key_id, "purpose": "audit event"})


def record(action: str, object_type: str, object_id, details: dict | None = None, by=None) -> AuditEvent:
    """Add one event to the trail, in the caller's transaction: it is written when, and only
    if, the transaction commits. Who acted, and the time, are taken now.

    `by` names the person acting when the request does not know them yet: a sign-in is made
    by someone who was anonymous until it succeeded, and it reads as theirs, not the system's.
    The address is still the request's."""
    actor = _actor.get()
    user_id, organization_id = (by.id, by.organization_id) if by is not None else (actor.user_id,
                                                                                    actor.organization_id)
    event = AuditEvent(
        created_at=now(),
        user_id=user_id, organization_id=organization_id,
        action=action, object_type=object_type, object_id=str(object_id),
        details=details or {}, client_address=actor.client_address[:64],
    )
    db.session.info.setdefault(_PENDING, []).append(event)
    return event


# Events recorded in a transaction wait in its session until it commits. Linking them into
# the chain needs the chain's lock, and the lock order of every transaction (see
# coordination/transactions.py) puts that lock last: after the row locks on referrals and
# pools, and held only for the append itself, so a transaction holding the chain never
# waits for a pool that another transaction, waiting for the chain, already holds.
_PENDING = "audit_events_pending"
# A savepoint is part of its transaction: what it records is linked at the transaction's
# commit, never at the savepoint's (which would take the chain's lock before the row locks
# that follow), and a savepoint rolled back takes back what it recorded.
_AT_SAVEPOINTS = "audit_events_pending_at_savepoints"  # how many were pending when each began


@sa_event.listens_for(Session, "before_commit")
def _append_pending(session: Session) -> None:
    if session.in_nested_transaction():
        return  # a savepoint released: its events wait for the transaction's own commit
    events = session.info.pop(_PENDING, None)
    if events:
        session.flush()  # the transaction's own writes first, with their row locks
        _append(session, events)


@sa_event.listens_for(Session, "after_transaction_create")
def _mark_savepoint(session: Session, transaction) -> None:
    if transaction.nested:
        session.info.setdefault(_AT_SAVEPOINTS, {})[transaction] = len(session.info.get(_PENDING, ()))


@sa_event.listens_for(Session, "after_rollback")
def _forget_savepoints_events(session: Session) -> None:
    """A savepoint rolled back (one refused row of many) takes back what it recorded."""
    savepoint = session.get_nested_transaction()
    mark = session.info.get(_AT_SAVEPOINTS, {}).get(savepoint)
    if mark is not None:
        del session.info.get(_PENDING, [])[mark:]


@sa_event.listens_for(Session, "after_transaction_end")
def _forget_pending(session: Session, transaction) -> None:
    """A transaction that ends without committing (a refusal, an error) records nothing."""
    session.info.get(_AT_SAVEPOINTS, {}).pop(transaction, None)
    if transaction.parent is None:
        session.info.pop(_PENDING, None)
        session.info.pop(_AT_SAVEPOINTS, None)


def _locked_head(session: Session) -> AuditHead | None:
    """The chain's head, read for an append that takes its turn: appends take turns, so two
    servers never link two events to the same predecessor.

    PostgreSQL: the head's row is read FOR UPDATE, one statement that both waits for the
    append before and reads the head it left (every append rewrites the head, so the row's
    lock is the chain's). Before the first event there is no row to lock: a transaction-scoped
    advisory lock takes its place, and the head is read again after it, as the first append
    may have made it meanwhile. SQLite: every write transaction already holds the database's
    write lock (BEGIN IMMEDIATE)."""
    read = select(AuditHead).where(AuditHead.id == 1).with_for_update().execution_options(populate_existing=True)
    head = session.scalar(read)
    if head is None and session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(74201)"))
        head = session.scalar(read)
    return head


# What an append writes as the head's signature when the head it extends was not signed by
# the audit key: never a valid signature, so the alteration stays visible after the append.
ALTERED = "altered"


def keyring() -> Keyring:
    return Keyring.from_config(current_app.config)


def _head_is_genuine(head: AuditHead, keys: Keyring) -> bool:
    key = keys.keys.get(head.key_id)
    if key is None:
        raise AuditKeyError(
            f"the audit trail's head is signed with a key this server does not know (key id {head.key_id}; "
            f"this server's AUDIT_KEY has id {keys.current_id}): give every server the same AUDIT_KEY, "
            f"with the earlier keys in AUDIT_PREVIOUS_KEYS")
    return signing.matches(
        signing.head_signature(key, head.last_event_id, head.last_hash, head.event_count), head.signature)


def _append(session: Session, events: list[AuditEvent]) -> None:
    """Link `events`, in the order they were recorded, to the end of the chain, signed with
    the current key, and sign the new head.

    The head is re-signed only when its old signature held: an append never makes a head
    that someone moved (after cutting events from the end) look genuine again."""
    keys = keyring()
    head = _locked_head(session)
    previous = head.last_hash if head is not None else GENESIS
    genuine = head is None or _head_is_genuine(head, keys)
    if not genuine:
        log.error("the audit trail's head does not match its signature; it stays marked as altered")
    # Plain INSERT and UPDATE statements, not objects flushed through the session: the lock
    # is held for as little as the append itself, and the trail is never read back here.
    for audit_event in events:
        audit_event.key_id = keys.current_id
        audit_event.previous_hash = previous
        audit_event.hash = previous = signed_hash(audit_event, keys.current)
        # One at a time: the chain's order is the order of the ids.
        audit_event.id = session.scalar(insert(AuditEvent).values(
            {column: getattr(audit_event, column) for column in _EVENT_COLUMNS}).returning(AuditEvent.id))
    last = events[-1]
    count = (head.event_count if head is not None else 0) + len(events)
    written = {"last_event_id": last.id, "last_hash": last.hash, "event_count": count, "key_id": keys.current_id,
               "signature": signing.head_signature(keys.current, last.id, last.hash, count) if genuine else ALTERED}
    if head is None:
        session.execute(insert(AuditHead).values(id=1, **written))
    else:
        session.execute(update(AuditHead).where(AuditHead.id == 1).values(written)
                        .execution_options(synchronize_session=False))
        for column, value in written.items():
            set_committed_value(head, column, value)


_EVENT_COLUMNS = ("created_at", "user_id", "organization_id", "action", "object_type", "object_id", "details",
                  "client_address", "previous_hash", "hash", "key_id")


def verify_chain(batch: int = 1000) -> list[str]:
    """Walk the chain from the first event; what is wrong, starting with the first broken link.

    An edited event no longer matches its own hash; an inserted or removed one breaks the
    link to its neighbour; events removed from the end no longer match the recorded head.
    Hashes and the head are signed with the audit key, which is not in the database, so
    re-hashing the chain after an edit does not hide it either.

    Keys follow one another along the chain and never come back: the unkeyed ("legacy")
    events of before the trail was keyed, then each key in turn. The first event of a key
    signs the hash of the last event before it, so whatever came before is pinned by a key
    that is not in the database: rewriting the legacy events, which needs no key, breaks
    that link. An event after the chain has moved on from its key (an unkeyed one after
    keyed ones, or one signed with a key replaced since) is a forgery, made by someone who
    lacks the current key, and is reported as such. So is a head that is not signed with the
    current key: only the current key can say where the trail ends.
    """
    keys = keyring()
    previous_hash, count, last_id = GENESIS, 0, None
    signer, left_behind = LEGACY, set()
    query = select(AuditEvent).order_by(AuditEvent.id)
    for event in db.session.scalars(query.execution_options(yield_per=batch)):
        if event.previous_hash != previous_hash:
            return [f"event {event.id}: its link to the event before does not match "
                    f"(an event before it was inserted, removed or altered)"]
        if event.key_id != signer:
            if event.key_id in left_behind:
                return [f"event {event.id}: " + (
                    "it is unkeyed, yet it comes after keyed events (only the oldest events, from before "
                    "the trail was keyed, may be unkeyed: it was added by someone without the key)"
                    if event.key_id == LEGACY else
                    f"it is signed with key id {event.key_id}, which the trail had already stopped using "
                    f"(it was added by someone holding a replaced key)")]
            left_behind.add(signer)
            signer = event.key_id
        if event.key_id == LEGACY:
            expected = legacy_hash(event)
        elif event.key_id in keys.keys:
            expected = signed_hash(event, keys.keys[event.key_id])
        else:
            return [f"event {event.id}: it is signed with a key this system does not know (key id "
                    f"{event.key_id}); if the key was changed, list the earlier one in AUDIT_PREVIOUS_KEYS"]
        if not signing.matches(expected, event.hash):
            return [f"event {event.id}: its content does not match its hash (it was altered)"]
        previous_hash, count, last_id = event.hash, count + 1, event.id
    head = db.session.get(AuditHead, 1)
    if head is None:
        return [] if count == 0 else [f"the chain head is missing ({count} events)"]
    if head.key_id != keys.current_id:
        if head.key_id not in keys.keys:
            return [f"the chain head is signed with a key this system does not know (key id {head.key_id})"]
        return [f"the chain head is still signed with an earlier key (key id {head.key_id}), not with AUDIT_KEY "
                f"(key id {keys.current_id}): nothing was recorded since the key was changed; the next event "
                f"signs it with the current key (audit-checkpoint records one)"]
    expected = signing.head_signature(keys.current, head.last_event_id, head.last_hash, head.event_count)
    if not signing.matches(expected, head.signature):
        return ["the chain head does not match its signature (it was moved or altered: events were removed "
                "from the end or added)"]
    if (head.last_event_id, head.last_hash, head.event_count) != (last_id, previous_hash, count):
        return [f"the chain ends at event {last_id} with {count} events, but the recorded head is event "
                f"{head.last_event_id} with {head.event_count} (events were removed from the end or added)"]
    return []


# --- reading the trail -----------------------------------------------------------------------

def may_browse(user) -> bool:
    """Admins and oversight read the whole trail."""
    return user.role in ("admin", "oversight")


def known_actions() -> list[str]:
    """The actions the filter offers: those the app records (a fixed list, so that drawing
    the page never scans millions of events for their distinct actions)."""
    from .sentences import ACTIONS

    return list(ACTIONS)


def known_object_types() -> list[str]:
    from .sentences import OBJECTS

    return list(OBJECTS)


CASE_REFERENCE = re.compile(r"^UC-\d{4}-\d{1,10}$", re.IGNORECASE | re.ASCII)


class BadFilter(ValueError):
    """A filter value that names nothing the trail could hold; the message says why."""


def _like(text_: str) -> str:
    return "%" + text_.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


def _people(person: str):
    """The ids of the people a filter names: the one whose e-mail it is, or else everyone
    whose name or e-mail contains it (whatever the case)."""
    from ..accounts.models import User

    wanted = person.strip().lower()
    exact = db.session.scalar(select(User.id).where(func.lower(User.email) == wanted))
    if exact is not None:
        return [exact]
    pattern = _like(wanted)
    return select(User.id).where(or_(func.lower(User.name).like(pattern, escape="\\"),
                                     func.lower(User.email).like(pattern, escape="\\")))


def _object_filter(object_type: str, reference: str):
    """Events about one record: by its id, or for a child or referral by the child's case
    reference (a case reference without a kind: the child and all its referrals)."""
    from ..referrals.models import Child, Referral

    reference = reference.strip()
    if CASE_REFERENCE.match(reference):
        if object_type not in ("", "child", "referral"):
            raise BadFilter(_("A case reference names a child or a referral; choose one of those, or give a number."))
        child_id = db.session.scalar(select(Child.id).where(Child.case_reference == reference.upper()))
        referral_ids = [] if child_id is None else list(db.session.scalars(
            select(Referral.id).where(Referral.child_id == child_id)))
        # No such child: "-", which no event's object id is (anonymize.run's is empty).
        about_child = and_(AuditEvent.object_type == "child",
                           AuditEvent.object_id == (str(child_id) if child_id is not None else "-"))
        about_referrals = and_(AuditEvent.object_type == "referral",
                               AuditEvent.object_id.in_([str(i) for i in referral_ids]))
        return {"child": about_child, "referral": about_referrals}.get(object_type, or_(about_child, about_referrals))
    if not (reference.isascii() and reference.isdigit()) or len(reference) > 18:
        raise BadFilter(_("Give the record's number, or a child's case reference such as UC-2026-00042."))
    # With the kind of record always named, the (object_type, object_id) index finds them.
    kinds = [object_type] if object_type else known_object_types()
    return and_(AuditEvent.object_type.in_(kinds), AuditEvent.object_id == str(int(reference)))


def search(person: str = "", organization_id: int | None = None, action: str = "", object_type: str = "",
           object_reference: str = "", day_from: date | None = None, day_to: date | None = None) -> Select:
    """The events that match every filter given, newest first. Days are the reader's local
    days (Asia/Baku by default), both ends included; an empty filter matches everything.
    Raises BadFilter for a value that cannot name anything."""
    query = select(AuditEvent).order_by(AuditEvent.id.desc())
    if person.strip():
        query = query.where(AuditEvent.user_id.in_(_people(person)))
    if organization_id is not None:
        query = query.where(AuditEvent.organization_id == organization_id)
    if action:
        query = query.where(AuditEvent.action == action)
    if object_reference.strip():
        query = query.where(_object_filter(object_type, object_reference))
    elif object_type:
        query = query.where(AuditEvent.object_type == object_type)
    if day_from:
        query = query.where(AuditEvent.created_at >= start_of_local_day(day_from))
    if day_to and day_to < date.max:  # up to the last day there is: no bound
        query = query.where(AuditEvent.created_at < start_of_local_day(day_to + timedelta(days=1)))
    return query


@dataclass(frozen=True)
class Page:
    """One page of events, newest first, and the ids to ask for the pages beside it: keyset
    paging on the event id, so a page deep in millions of events costs what the first does,
    and no page counts them all."""
    items: list
    older: int | None  # ask for before=older for the next older page
    newer: int | None  # ask for after=newer for the next newer page


def page_of(query: Select, per_page: int, before: int | None = None, after: int | None = None) -> Page:
    """The page of `query` (newest first) just older than event `before`, or just newer than
    event `after`, or the newest."""
    if after is not None:
        rows = list(db.session.scalars(query.where(AuditEvent.id > after).order_by(None)
                                       .order_by(AuditEvent.id).limit(per_page + 1)))
        more_newer = len(rows) > per_page
        items = list(reversed(rows[:per_page]))
        more_older = _any(query.where(AuditEvent.id <= after))
    else:
        if before is not None:
            query_page = query.where(AuditEvent.id < before)
        else:
            query_page = query
        rows = list(db.session.scalars(query_page.limit(per_page + 1)))
        more_older = len(rows) > per_page
        items = rows[:per_page]
        more_newer = before is not None and _any(query.where(AuditEvent.id >= before))
    return Page(items=items, older=items[-1].id if items and more_older else None,
                newer=items[0].id if items and more_newer else None)


def _any(query: Select) -> bool:
    return db.session.scalar(select(query.order_by(None).with_only_columns(AuditEvent.id).limit(1)
                                    .exists())) or False


def batch_before(query: Select, before: int | None, size: int) -> list[AuditEvent]:
    """The next `size` events of `query` (newest first) older than event `before`: an export
    of millions of events reads them a batch at a time, by keyset, never all at once."""
    return list(db.session.scalars((query if before is None else query.where(AuditEvent.id < before)).limit(size)))


def history_of(object_type: str, object_id) -> list[AuditEvent]:
    """One record's own history, oldest first."""
    return list(db.session.scalars(select(AuditEvent).where(
        AuditEvent.object_type == object_type, AuditEvent.object_id == str(object_id)).order_by(AuditEvent.id)))
