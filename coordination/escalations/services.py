"""A referral that waits on someone longer than its urgency allows escalates: first a
reminder to everyone who must act, then the guardianship and custody body of the shelter's
region, then oversight (the ombudsman's office); the referring caseworker hears of each
step. Each step happens once, however many servers run the periodic command at once.

What a referral waits for depends on its status: WAITS says who must act, since when the
wait counts, how long it may last, and whom each level tells. Level n is reached after n
times the allowed wait. A status that is not in WAITS never escalates; a new status that
waits on someone gets a row there (its own `since` and `allowed` when the urgency's hours
or the moment it entered the status are not the measure, e.g. a decision due by a date).
"""
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Callable

from flask import current_app
from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import contains_eager, joinedload

from ..accounts.models import OVERSIGHT as OVERSIGHT_ROLE, Organization, User
from ..audit import services as audit
from ..beds.models import BedPool, Shelter
from ..clock import now
from ..extensions import db
from ..notifications.services import notify
from ..referrals import services as referrals
from ..referrals.models import ACCEPTED, APPROVED, EMERGENCY_PLACED, MOVING_OUT, SUBMITTED, URGENCIES, Referral
from .models import ACTORS, GUARDIANSHIP_BODY, OVERSIGHT, Escalation


def allowed_by_urgency(referral: Referral, config) -> timedelta:
    """How long a referral of this urgency may wait: ESCALATE_<URGENCY>_HOURS."""
    return timedelta(hours=config[f"ESCALATE_{referral.urgency.upper()}_HOURS"])


def entered_status(referral: Referral) -> datetime | None:
    """A wait counts from the moment the referral entered its present status."""
    return referral.status_changed_at


def decision_deadline_less_one_wait(referral: Referral) -> datetime | None:
    """An emergency placement's wait for its decision is measured from the deadline: the
    first step comes when the decision is due (one wait after this moment), the next one
    wait later."""
    if referral.decision_due_at is None:
        return None
    return referral.decision_due_at - allowed_by_urgency(referral, current_app.config)


@dataclass(frozen=True)
class Wait:
    part: str            # who must act (a part of referrals.services)
    ladder: tuple        # whom each level tells, level 1 first
    since: Callable[[Referral], datetime | None] = entered_status
    allowed: Callable[[Referral, dict], timedelta] = allowed_by_urgency


# status -> what the referral waits for in it.
WAITS: dict[str, Wait] = {
    # The shelter's answer; then the shelter's arrival record.
    SUBMITTED: Wait(referrals.POOL_STAFF, (ACTORS, GUARDIANSHIP_BODY, OVERSIGHT)),
    APPROVED: Wait(referrals.POOL_STAFF, (ACTORS, GUARDIANSHIP_BODY, OVERSIGHT)),
    # The guardianship body's decision: its officers are reminded first; above them is only oversight.
    ACCEPTED: Wait(referrals.REGIONAL_GUARDIAN, (ACTORS, OVERSIGHT)),
    # A child taken in before the decision: the guardianship body has until `decision_due_at`
    # (EMERGENCY_DECISION_HOURS); its officers are reminded when the decision is due, and
    # oversight is told one wait later.
    EMERGENCY_PLACED: Wait(referrals.REGIONAL_GUARDIAN, (ACTORS, OVERSIGHT), since=decision_deadline_less_one_wait),
    # An emergency placement the guardianship body rejected: the child keeps the bed until the
    # caseworker finds another place. Every caseworker of the referring organization is
    # reminded, then the region's guardianship body, then oversight.
    MOVING_OUT: Wait(referrals.REFERRING_CASEWORKER, (ACTORS, GUARDIANSHIP_BODY, OVERSIGHT)),
}


@dataclass
class Step:
    """One step of escalation made by this run."""
    referral: Referral
    level: int
    audience: str
    waited: timedelta


def shortest_wait(config) -> timedelta:
    return min(timedelta(hours=config[f"ESCALATE_{urgency.upper()}_HOURS"]) for urgency in URGENCIES)


def escalate_waiting_referrals(at: datetime | None = None) -> list[Step]:
    """Escalate every referral whose wait has reached a level not yet recorded (every such
    level, lowest first, when the command has not run for a while), in the caller's
    transaction. Safe to run from several servers at once: each step is one insert into a
    unique key that only one transaction wins, and only the winner tells anyone.

    In the lock order of coordination/transactions.py: the referrals it escalates, in id
    order (a shared lock, so that a referral moved on meanwhile is left alone), then their
    escalation rows, then the audit chain."""
    at = at or now()
    config = current_app.config
    # A wait is never shorter than the shortest of the urgencies' (a status plugged into
    # WAITS with a shorter allowance must lower this).
    candidates = db.session.scalars(
        select(Referral).where(Referral.status.in_(WAITS), Referral.status_changed_at <= at - shortest_wait(config))
        .order_by(Referral.id)).all()
    due = []  # (referral, its wait, since, the highest level it reached)
    for referral in candidates:
        wait = WAITS[referral.status]
        since, allowed = wait.since(referral), wait.allowed(referral, config)
        if since is None or allowed <= timedelta(0) or referrals.hold_is_overdue(referral, at):
            continue  # an overdue hold is expiring, not waiting
        reached = min(len(wait.ladder), int((at - since) / allowed))
        if reached >= 1:
            due.append((referral, wait, since, reached))
    if not due:
        return []
    recorded = set(db.session.execute(
        select(Escalation.referral_id, Escalation.status, Escalation.waiting_since, Escalation.level)
        .where(Escalation.referral_id.in_([referral.id for referral, *_ in due]))).all())
    steps = []
    for referral, wait, since, reached in due:
        missing = [level for level in range(1, reached + 1)
                   if (referral.id, referral.status, since, level) not in recorded]
        if not missing or not _still_waiting(referral):
            continue
        for level in missing:
            if _record_once(referral, since, level, wait.ladder[level - 1], at):
                # How long it has waited is told from when it entered the status, whatever
                # `since` (the key of its wait) says: a decision due by a date waited all along.
                step = Step(referral, level, wait.ladder[level - 1], at - referral.status_changed_at)
                _tell(step, wait)
                steps.append(step)
    db.session.flush()
    return steps


def _still_waiting(referral: Referral) -> bool:
    """Whether the referral is still in the status (and the wait) this run saw, holding it
    there until commit: a step somebody takes meanwhile waits for this run, or this run
    for the step, and a referral that moved on is not escalated."""
    return db.session.scalar(
        select(Referral.id).where(Referral.id == referral.id, Referral.status == referral.status,
                                  Referral.status_changed_at == referral.status_changed_at)
        .with_for_update(read=True)) is not None


def _record_once(referral: Referral, since: datetime, level: int, audience: str, at: datetime) -> bool:
    """Insert the step unless it is there; True only for the transaction whose insert made it."""
    values = {"referral_id": referral.id, "status": referral.status, "waiting_since": since, "level": level,
              "audience": audience, "created_at": at}
    key = ["referral_id", "status", "waiting_since", "level"]
    dialect = db.session.get_bind().dialect.name
    if dialect in ("postgresql", "sqlite"):
        insert = postgresql_insert if dialect == "postgresql" else sqlite_insert
        made = db.session.execute(insert(Escalation).values(**values).on_conflict_do_nothing(
            index_elements=key).returning(Escalation.id)).scalar()
        return made is not None
    try:
        with db.session.begin_nested():
            db.session.add(Escalation(**values))
    except IntegrityError:
        return False
    return True


def _tell(step: Step, wait: Wait) -> None:
    """Notify the step's audience and the referring caseworker, and record the step."""
    referral = step.referral
    minutes = int(step.waited.total_seconds() // 60)
    params = {"waited_minutes": minutes, "level": step.level}
    audience = set(audience_of(step.audience, wait, referral))
    if wait.part == referrals.REFERRING_CASEWORKER and step.audience == ACTORS:
        notify(audience, referral, "escalation.actors", params)  # the wait is the caseworkers' own
    else:
        caseworker = set(referrals.people_playing(referrals.REFERRING_CASEWORKER, referral))
        notify(audience - caseworker, referral, f"escalation.{step.audience}", params)
        notify(caseworker, referral, f"escalation.caseworker.{step.audience}", params)
    audit.record("referral.escalated", "referral", referral.id,
                 {"status": referral.status, "level": step.level, "audience": step.audience,
                  "waited_minutes": minutes, "pool": referral.pool_id})


def audience_of(audience: str, wait: Wait, referral: Referral) -> list[User]:
    """The active people a step tells: those who play the waited-on part (every shelter
    worker of the organization, every officer of the region's guardianship body, or every
    caseworker of the referring organization), the
    region's guardianship officers, or every oversight user."""
    if audience == ACTORS and wait.part == referrals.REFERRING_CASEWORKER:
        return referrals.referring_caseworkers(referral)
    if audience == ACTORS:
        return referrals.people_playing(wait.part, referral)
    if audience == GUARDIANSHIP_BODY:
        return referrals.people_playing(referrals.REGIONAL_GUARDIAN, referral)
    return list(db.session.scalars(select(User).join(User.organization).where(
        User.role == OVERSIGHT_ROLE, User.active.is_(True), Organization.active.is_(True))))


# --- what people see -------------------------------------------------------------------------

def steps_of(referral: Referral) -> list[Escalation]:
    """The steps the referral's present wait has reached, lowest first; none once it moved on."""
    wait = WAITS.get(referral.status)
    since = wait.since(referral) if wait else None
    if since is None:
        return []
    return list(db.session.scalars(select(Escalation).where(
        Escalation.referral_id == referral.id, Escalation.status == referral.status,
        Escalation.waiting_since == since).order_by(Escalation.level)))


def may_watch_escalations(user: User) -> bool:
    """Oversight (the ombudsman's office) watches the referrals that nobody answers."""
    return user.is_authenticated and user.role == OVERSIGHT_ROLE


@dataclass
class Escalated:
    referral: Referral
    highest: Escalation  # the highest step its present wait reached


def escalated_referrals(limit: int = 200) -> list[Escalated]:
    """The referrals whose present wait has escalated, the highest level first and, within
    it, the longest waiting first; each with its case reference, shelter and region, never
    a child's name (this is oversight's list)."""
    steps = db.session.scalars(
        select(Escalation).join(Escalation.referral)
        .where(Referral.status.in_(WAITS), Escalation.status == Referral.status)
        .options(contains_eager(Escalation.referral).joinedload(Referral.child),
                 contains_eager(Escalation.referral).joinedload(Referral.pool).joinedload(BedPool.shelter)
                 .joinedload(Shelter.region))).unique().all()
    highest: dict[int, Escalation] = {}
    for step in steps:
        referral = step.referral
        if step.waiting_since != WAITS[referral.status].since(referral):
            continue  # an earlier wait in the same status
        if referral.id not in highest or step.level > highest[referral.id].level:
            highest[referral.id] = step
    ordered = sorted(highest.values(), key=lambda step: (-step.level, step.waiting_since, step.referral_id))
    return [Escalated(step.referral, step) for step in ordered[:limit]]
