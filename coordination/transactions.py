"""How a transaction takes its locks, and what happens when PostgreSQL aborts one anyway.

The lock order. Every transaction takes its locks in this order, so that no two can each
hold what the other waits for:

1. Referral rows. First the referral a person acts on (its conditional UPDATE takes the
   row lock); then referrals whose holds ran out, in id order (`expire_overdue_holds`).
   Expiry only touches referrals that hold a bed, never a draft, so nobody waiting on
   those rows holds the draft that a submission locks first. Escalation takes a shared
   lock on each referral it escalates, in id order (`escalate_waiting_referrals`), then
   inserts that referral's escalation steps (a unique key: another server inserting the
   same step waits for this one, then inserts nothing), and takes no pool. A transfer's
   arrival takes the transfer's row, then the placement it ends, and then both pools, in id
   order; a discharge of that placement takes them in the same order (it withdraws the
   transfer in progress first, then ends the placement), so the two never wait on each
   other in a circle.
2. Bed pool rows, in id order. A person's step touches one pool; a run of expire-holds
   closes all its referrals first and then releases their beds, pool by pool, in id order.
   Siblings referred together (referrals/siblings.py) are one step on several referrals:
   their rows are locked first, all of them, in id order; then the overdue holds of their
   pools are closed; then each sibling is moved in the order of its pool's id.
   An arrival then takes the child's row, to note when they first reached a bed; nothing
   that holds a child's row goes on to wait for a referral or a pool.
   The alert on a child found at a police station or detention centre with no referral
   (referrals/found.py) claims child rows only, one conditional UPDATE each, in id order, and
   takes no referral or pool: a correction of the record locks one child row alone.
3. The audit chain, last. Events recorded during a transaction wait in its session and
   are linked into the chain in one step just before commit (`audit.services`), so the
   chain's lock is held only for the append, never while waiting for a row.

Outgoing e-mail (notifications/sending.py) stays outside this order: a step only inserts
its outbox rows, and a sender claims and closes them in short transactions of their own
that touch no other table, never while the SMTP server is talked to.

On SQLite there is nothing to order: a transaction that may write takes the whole
database's write lock when it begins (BEGIN IMMEDIATE), so that two never both read and
then both try to write, which SQLite cannot resolve. A request that only asks (GET, HEAD)
begins without it (BEGIN DEFERRED): in WAL mode it reads beside the writer and never makes
anyone wait while its page renders. When such a request writes after all (the audit event
of a page that shows names) and SQLite answers "busy", because another connection wrote
since this one began reading, it runs again, whole, this time with the write lock
(`sqlite_begin`).

The safety net. Should PostgreSQL still abort a transaction as a deadlock or a
serialization failure, the whole operation runs again from the start, a few times; a
request that has already committed part of its work is never re-run, and one that keeps
failing is answered "try again", never with a 500.
"""
import logging
import random
import time
from typing import Callable, TypeVar

from flask import g, has_request_context, request
from flask_babel import gettext as _
from sqlalchemy import event as sa_event
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from .errors import DomainError
from .extensions import db

log = logging.getLogger(__name__)

T = TypeVar("T")

# SQLSTATEs after which running the same transaction again can succeed.
RETRYABLE = {"40P01": "deadlock", "40001": "serialization failure"}
_COMMITTED = "committed"
# Set on `g` when a request that began reading without SQLite's write lock needs it after all.
_WRITE_LOCK_FIRST = "sqlite_write_lock_first"


class TryAgain(DomainError):
    """Other people's work collided with this at the same instant, every time it was tried."""

    status = 409


def retryable_reason(error: BaseException) -> str | None:
    """'deadlock' or 'serialization failure' when the database aborted the transaction for
    that reason; None for any other error."""
    if not isinstance(error, DBAPIError):
        return None
    if getattr(error.orig, "sqlite_errorname", "").startswith("SQLITE_BUSY"):
        return "busy"  # SQLite: a read became a write after another connection wrote (see above)
    return RETRYABLE.get(getattr(error.orig, "sqlstate", None))


def sqlite_begin() -> str:
    """How a transaction on SQLite begins: DEFERRED for a request that only asks (GET, HEAD),
    unless it already found that it writes; IMMEDIATE for everything else, in a request or
    not (commands, tests)."""
    if has_request_context() and request.method in ("GET", "HEAD") and not g.get(_WRITE_LOCK_FIRST):
        return "BEGIN DEFERRED"
    return "BEGIN IMMEDIATE"


@sa_event.listens_for(Session, "after_commit")
def _note_commit(session: Session) -> None:
    session.info[_COMMITTED] = True


def run_whole(operation: Callable[[], T], attempts: int, what: str = "") -> T:
    """Run `operation` (which does its work and commits), again from the start when the
    database aborts it as a deadlock or serialization failure, at most `attempts` times.

    An operation that had already committed part of its work when it failed is not run
    again (that part would be done twice); it is answered with TryAgain, as is one that
    fails every time."""
    db.session.info.pop(_COMMITTED, None)
    attempt = 1
    while True:
        try:
            return operation()
        except DBAPIError as error:
            reason = retryable_reason(error)
            if reason is None:
                raise
            db.session.rollback()
            if reason == "busy" and has_request_context():
                g.setdefault(_WRITE_LOCK_FIRST, True)
            half_done = db.session.info.get(_COMMITTED, False)
            log.warning("%s: the database aborted the transaction (%s), attempt %d of %d%s",
                        what or "operation", reason, attempt, attempts,
                        "; part was already committed, so it is not run again" if half_done else "")
            if half_done or attempt >= attempts:
                raise TryAgain(_("Other people were changing the same records at this very moment, and "
                                 "your last step could not be saved. Reload the page to see where things "
                                 "stand, then try again.")) from error
            time.sleep(random.uniform(0.01, 0.05) * attempt)  # so the two do not meet again at once
            attempt += 1


def commit_keeping_loaded() -> None:
    """Commit, and leave the objects this request has loaded as they are rather than expire
    them: for a page that records that it was read (who saw which names) and then shows what
    it read, so that showing a list does not load every row of it once more."""
    session = db.session()
    session.expire_on_commit = False
    try:
        session.commit()
    finally:
        session.expire_on_commit = True
