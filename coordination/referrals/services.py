"""The rules for children and referrals: who sees what, who may move a referral where,
and what each move does to the bed pool. The table MOVES is the only place that decides
who may move a referral where; templates ask `allowed_moves`, routes call `move`."""
import hashlib
import hmac
from collections import Counter
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from flask import current_app
from flask_babel import gettext as _, lazy_gettext as _l, ngettext
from sqlalchemy import Select, and_, case, exists, func, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import contains_eager, joinedload

from .. import availability, languages as spoken
from ..accounts.models import CASEWORKER, GUARDIANSHIP, SHELTER_STAFF, Organization, Region, User
from ..audit import services as audit
from ..beds import services as beds
from ..beds.models import BedPool, Shelter
from ..beds.parts import all_of, guards_region_of, keeps_shelter
from ..clock import now
from ..errors import Conflict, DomainError, InvalidFields, InvalidInput, InvalidMove, NoBedAvailable, NotAllowed
from ..extensions import db
from ..i18n import local_today, when
from ..notifications.services import notify
from ..paging import Page, newest_first
from ..words import word
from .models import (
    ACCEPTED, APPROVED, CHILD_SEXES, DECLINE_CODES, DECLINED, DISCHARGE_CODES, DRAFT, EXPIRED, HOLDING, LIVE, MISSING,
    NEEDS, PLACED, REJECTED, SUBMITTED, DISCHARGED, TRANSFERABLE, TRANSFERRED, URGENCIES, WITHDRAWN, CaseNote, Child,
    DemandSignal, Referral, ReferralEvent, age_band,
)
from .models import EMERGENCY, EMERGENCY_PLACED, IN_BED, MOVING_OUT, NOT_RECORDED
from .names import fold, name_key
from . import urgency as urgencies
from .found import found_problems

# --- who is who for a referral ---------------------------------------------------------------

REFERRING_CASEWORKER = "referring_caseworker"
POOL_STAFF = "pool_staff"
REGIONAL_GUARDIAN = "regional_guardian"


def refers(user, referral):
    """Any caseworker of the referring organization: colleagues cover each other's nights.
    Like the predicates of beds/parts.py, asked of records or of a query alike."""
    return all_of(user.role == CASEWORKER, user.organization_id == referral.referring_organization_id)


def plays(user: User, part: str, referral: Referral) -> bool:
    """Whether `user` plays `part` for this referral."""
    if part == REFERRING_CASEWORKER:
        return refers(user, referral)
    if part == POOL_STAFF:
        return keeps_shelter(user, referral.pool.shelter)
    if part == REGIONAL_GUARDIAN:
        return guards_region_of(user, referral.pool.shelter)
    return False


# --- the state machine -----------------------------------------------------------------------

@dataclass(frozen=True)
class Move:
    action: str          # the last part of POST /referrals/<id>/<action>
    sources: tuple       # the statuses it moves from
    target: str          # the status it moves to
    part: str            # who may make it
    label: object        # the button's words
    reason: str = ""     # "" none, "text" a reason, "code" a reason code and text
    pool_effect: str = ""  # what it does to the bed pool
    # What happens, said before a decision that changes a child's life; the page asks once.
    consequence: object = None
    # For siblings referred together (referrals/siblings.py): the step is taken for every
    # sibling of the group at once, in one transaction, never for one of them alone.
    together: bool = False
    # A step that exists only for siblings referred together.
    group_only: bool = False
    codes: tuple = ()    # the reason codes to choose from, when `reason` is "code"
    urgency: str = ""    # "" any referral; otherwise only a referral of this urgency
    # What happened, naming the audit action, the notification and whom TELL tells;
    # "" means the status reached (a status reached by two moves needs its own word for one).
    event: str = ""

    @property
    def happened(self) -> str:
        return self.event or self.target


MOVES: dict[str, Move] = {m.action: m for m in (
    Move("submit", (DRAFT,), SUBMITTED, REFERRING_CASEWORKER, _l("Submit and hold a bed"), pool_effect="hold",
         together=True),
    Move("accept", (SUBMITTED,), ACCEPTED, POOL_STAFF, _l("Accept"), pool_effect="renew",
         consequence=_l("Your shelter takes responsibility for this child: you will see the child's name, the "
                        "bed stays held, and the guardianship body of the region is asked to decide."),
         together=True),
    Move("decline", (SUBMITTED,), DECLINED, POOL_STAFF, _l("Decline"), reason="code", pool_effect="release",
         codes=DECLINE_CODES,
         consequence=_l("The held bed is freed and the caseworker must find the child another place. "
                        "This cannot be undone."), together=True),
    Move("approve", (ACCEPTED,), APPROVED, REGIONAL_GUARDIAN, _l("Approve placement"), pool_effect="renew",
         consequence=_l("The placement is agreed: the shelter is told to expect the child, and the bed stays "
                        "held until the child arrives."), together=True),
    Move("reject", (ACCEPTED,), REJECTED, REGIONAL_GUARDIAN, _l("Reject placement"), reason="text",
         pool_effect="release",
         consequence=_l("The placement is refused: the held bed is freed and the caseworker must find the child "
                        "another place. This cannot be undone."), together=True),
    # A transfer's arrival (transfer_of_id set) also ends the placement it replaces: see `move`.
    Move("place", (APPROVED,), PLACED, POOL_STAFF, _l("Record arrival"), pool_effect="occupy"),
    # A child placed (also before the guardianship decision, or while moving out) leaves.
    Move("discharge", IN_BED, DISCHARGED, POOL_STAFF, _l("Record discharge"), reason="code",
         pool_effect="free", codes=DISCHARGE_CODES,
         consequence=_l("The child's stay here ends and the bed becomes free for another child. "
                        "This cannot be undone.")),
    Move("withdraw", HOLDING, WITHDRAWN, REFERRING_CASEWORKER, _l("Withdraw referral"), reason="text",
         pool_effect="release"),
    # Siblings referred together: the caseworker may withdraw them all (or, with "withdraw",
    # deliberately one of them, with a reason: a person's choice, never the system's).
    Move("withdraw_siblings", HOLDING, WITHDRAWN, REFERRING_CASEWORKER, _l("Withdraw the referrals of all the siblings"),
         reason="text", pool_effect="release", together=True, group_only=True),
    # Emergency placement: a child found at night gets the bed now, the decision follows.
    Move("place_now", (SUBMITTED,), EMERGENCY_PLACED, POOL_STAFF, _l("Take the child in now"),
         pool_effect="occupy", urgency=EMERGENCY, together=True,
         consequence=_l("This is an emergency: your shelter takes the child in now, before the guardianship "
                        "decision. The held bed becomes occupied, you will see the child's name, and the "
                        "guardianship body of the region must then approve or reject the placement within "
                        "the set time. If it rejects it, the child moves out once another place is found.")),
    Move("approve_emergency", (EMERGENCY_PLACED,), PLACED, REGIONAL_GUARDIAN, _l("Approve placement"),
         event="emergency_approved", together=True,
         consequence=_l("The emergency placement is agreed: the child stays in this shelter, placed as any "
                        "other child.")),
    Move("reject_emergency", (EMERGENCY_PLACED,), MOVING_OUT, REGIONAL_GUARDIAN, _l("Reject placement"),
         reason="text", together=True,
         consequence=_l("The placement is refused, but the child is not sent away: the child keeps the bed "
                        "while the caseworker finds another place, and the shelter records the discharge when "
                        "the child leaves. This cannot be undone.")),
)}

# Who is told when a referral reaches a status: the parts that act next, and the caseworker
# whenever the answer is someone else's.
TELL = {
    SUBMITTED: (POOL_STAFF,),
    ACCEPTED: (REGIONAL_GUARDIAN, REFERRING_CASEWORKER),
    DECLINED: (REFERRING_CASEWORKER,),
    APPROVED: (POOL_STAFF, REFERRING_CASEWORKER),
    REJECTED: (REFERRING_CASEWORKER, POOL_STAFF),
    PLACED: (REFERRING_CASEWORKER,),
    DISCHARGED: (REFERRING_CASEWORKER,),
    WITHDRAWN: (POOL_STAFF, REGIONAL_GUARDIAN),
    EXPIRED: (REFERRING_CASEWORKER, POOL_STAFF),
    EMERGENCY_PLACED: (REGIONAL_GUARDIAN, REFERRING_CASEWORKER),
    "emergency_approved": (POOL_STAFF, REFERRING_CASEWORKER),
    MOVING_OUT: (REFERRING_CASEWORKER, POOL_STAFF),
}


def require_part(user: User, part: str, referral: Referral) -> None:
    """Refuse, saying who may, unless `user` plays `part` for this referral."""
    if not plays(user, part, referral):
        raise NotAllowed({
            REFERRING_CASEWORKER: _("Only a caseworker of the referring organization can do that."),
            POOL_STAFF: _("Only staff of the organization running this shelter can do that."),
            REGIONAL_GUARDIAN: _("Only a guardianship officer of the shelter's region can do that."),
        }[part])


def hold_is_overdue(referral: Referral, at: datetime | None = None) -> bool:
    return referral.holds_bed and referral.hold_until is not None and referral.hold_until <= (at or now())


def allowed_moves(user: User, referral: Referral, at: datetime | None = None) -> list[Move]:
    """The moves `user` may make on this referral now; the buttons a page shows."""
    if hold_is_overdue(referral, at):
        return []
    return [m for m in MOVES.values() if referral.status in m.sources and plays(user, m.part, referral)
            and (referral.group_id is not None or not m.group_only)
            and m.urgency in ("", referral.urgency)]


def move(referral: Referral, action: str, user: User, *, reason_code: str = "", reason_text: str = "",
         arrived_at: datetime | None = None, with_siblings: bool = False) -> Referral:
    """Make one move of the state machine, with its effect on the pool, its timeline entry,
    audit event and notifications, in the caller's transaction.

    Every refusal but two is raised before anything is written: a step the table does not
    allow, someone who does not play the part, an overdue hold, a missing reason, consent or
    arrival time. One exception is "no bed free" on submitting: the lock order
    (coordination/transactions.py) takes the referral's row before the pool's, so the
    referral is already marked submitted, and overdue holds of the pool closed, when the
    pool's conditional UPDATE finds no bed. NoBedAvailable then leaves those writes in the
    caller's transaction, which must roll back, as every caller does on a DomainError.

    The arrival of a transfer is the other: it takes the transfer's row, then ends the
    placement it replaces (`_end_replaced_placement`), and refuses if that placement ended
    meanwhile; the child then stays where the shelter that discharged them said.

    Siblings referred together take their together-steps only all at once, through
    referrals/siblings.py (which says `with_siblings`): never one of them alone."""
    step = MOVES.get(action)
    if step is None:
        raise InvalidMove(_("There is no such step for a referral."))
    require_part(user, step.part, referral)
    if (step.together and referral.group_id is not None) != with_siblings or (step.group_only and not with_siblings):
        raise InvalidMove(_("This referral is one of siblings referred together: this step is taken for all of "
                            "them at once."))
    at = now()
    if referral.status not in step.sources:
        raise InvalidMove(_("This referral is %(status)s; it cannot be moved that way now.",
                            status=word(referral.status)))
    if hold_is_overdue(referral, at):
        raise InvalidMove(_("The hold on this bed ran out at %(deadline)s; the referral is closing as expired.",
                            deadline=when(referral.hold_until)))
    if step.urgency and referral.urgency != step.urgency:
        raise InvalidMove(_("Only an emergency referral can be placed before the guardianship decision; "
                            "accept this one and wait for the decision."))
    reason_code, reason_text = _check_reason(step, reason_code, reason_text)
    values = {"status": step.target, "status_changed_at": at}
    hold_hours = urgencies.hold_length(referral.urgency)

    if step.pool_effect == "hold":
        _check_can_submit(referral)
        values.update(holds_bed=True, hold_until=at + hold_hours, submitted_at=at)
    elif step.pool_effect == "renew":
        values.update(hold_until=at + hold_hours)
        values["accepted_at" if step.target == ACCEPTED else "approved_at"] = at
    elif step.pool_effect == "release":
        values.update(holds_bed=False, hold_until=None, ended_at=at)
    elif step.pool_effect == "occupy":
        arrived_at = _check_arrival(referral, arrived_at, at)
        values.update(holds_bed=False, hold_until=None, arrived_at=arrived_at)
        if step.target == EMERGENCY_PLACED:  # accepted and arrived at once; the decision is due
            values.update(accepted_at=at, decision_due_at=urgencies.decision_due(arrived_at))
    elif step.pool_effect == "free":
        values.update(ended_at=at)
    if step.reason:
        values.update(reason_code=reason_code, reason_text=reason_text)
    if step.action == "approve_emergency":
        values.update(approved_at=at)

    replaced = None
    if step.pool_effect == "occupy" and referral.transfer_of_id is not None:
        _take_row(referral, at)  # the lock order: the transfer's row first, then the placement it replaces
        replaced_from = referral.transfer_of.status
        replaced = _end_replaced_placement(referral, at)
    onward_from, onward = _withdraw_transfer_out(referral, at) if step.pool_effect == "free" else (None, None)
    before = _compare_and_set(referral, values)

    if step.pool_effect == "hold" and not with_siblings:
        # A bed whose hold ran out is free again. (Siblings moving together had the holds of all
        # their pools closed first, before any pool's row was taken: referrals/siblings.py.)
        expire_overdue_holds(pool_id=referral.pool_id)
    if step.pool_effect == "hold" and not beds.take_hold(referral.pool_id):
        raise NoBedAvailable(_("No bed is free in this pool now. Nothing was held; the referral "
                               "stays a draft. Other pools that fit are listed below."))
    if step.pool_effect == "release":
        beds.release_hold(referral.pool_id)
    elif step.pool_effect == "occupy" and replaced is not None:
        _occupy_and_free(referral, replaced, user, at)
    elif step.pool_effect == "occupy":
        beds.occupy_held_bed(referral.pool_id, user, _("arrival of %(ref)s", ref=referral.child.case_reference), at)
    elif step.pool_effect == "free":
        beds_of_the_discharge = [(referral.pool_id, lambda: beds.free_occupied_bed(
            referral.pool_id, user, _("discharge of %(ref)s", ref=referral.child.case_reference), at))]
        if onward is not None:
            beds_of_the_discharge.append((onward.pool_id, lambda: beds.release_hold(onward.pool_id)))
        for _pool_id, change in sorted(beds_of_the_discharge, key=lambda pair: pair[0]):  # pools in id order
            change()

    if step.pool_effect == "occupy":
        _note_first_bed(referral.child_id, arrived_at)
    _after_move(referral, before, user, at, reason_code, reason_text, event=step.happened)
    if onward is not None:
        _after_move(onward, onward_from, None, at, "", "", key="referral.transfer_cancelled",
                    recipients=set(people_playing(POOL_STAFF, onward)) | set(people_playing(REFERRING_CASEWORKER, onward)))
    if replaced is not None:
        _after_move(replaced, replaced_from, user, at, TRANSFERRED, "", key="referral.transferred_out",
                    recipients=people_playing(POOL_STAFF, replaced))
    return referral


def _note_first_bed(child_id: int, arrived_at: datetime) -> None:
    """The child has reached a bed: when first (the earliest arrival, should one be recorded
    back in time after a later one). The child's row is taken after the pools' (the lock order)."""
    db.session.execute(update(Child).where(
        Child.id == child_id, or_(Child.reached_bed_at.is_(None), Child.reached_bed_at > arrived_at))
        .values(reached_bed_at=arrived_at))


def _take_row(referral: Referral, at: datetime) -> None:
    """Lock the referral's row while it is still in the status this request saw (a conditional
    UPDATE that changes only its time), before touching any other referral."""
    result = db.session.execute(
        update(Referral).where(Referral.id == referral.id, Referral.status == referral.status)
        .values(status_changed_at=at).execution_options(synchronize_session=False))
    if result.rowcount != 1:
        raise Conflict(_("Someone else moved this referral meanwhile. Reload to see where it stands; "
                         "nothing of yours was saved."))


def _withdraw_transfer_out(placement: Referral, at: datetime) -> tuple[str | None, Referral | None]:
    """A child leaving a placement no longer moves on from it: the transfer in progress out of
    it (if any) is withdrawn, by the system, in one conditional UPDATE that takes the
    transfer's row before the placement's (the order a transfer's arrival takes them in).
    Returns the status it had and the transfer; its held bed is released by the caller, with
    the placement's pool, in pool id order."""
    onward = db.session.scalar(select(Referral).where(
        Referral.transfer_of_id == placement.id, Referral.status.in_(HOLDING)))
    if onward is None:
        return None, None
    seen = onward.status
    result = db.session.execute(
        update(Referral).where(Referral.id == onward.id, Referral.status == seen, Referral.holds_bed.is_(True))
        .values(status=WITHDRAWN, holds_bed=False, hold_until=None, ended_at=at, status_changed_at=at)
        .execution_options(synchronize_session=False))
    if result.rowcount != 1:
        raise Conflict(_("Someone else moved this referral meanwhile. Reload to see where it stands; "
                         "nothing of yours was saved."))
    db.session.refresh(onward)
    return seen, onward


def _end_replaced_placement(transfer: Referral, at: datetime) -> Referral:
    """End the placement a transfer replaces, as discharged with the outcome "transferred",
    in one conditional UPDATE: only while the child is still placed there (TRANSFERABLE).
    The bed is freed by the caller, in pool id order."""
    replaced = transfer.transfer_of
    result = db.session.execute(
        update(Referral).where(Referral.id == replaced.id, Referral.status.in_(TRANSFERABLE))
        .values(status=DISCHARGED, ended_at=at, status_changed_at=at, reason_code=TRANSFERRED, reason_text="")
        .execution_options(synchronize_session=False))
    if result.rowcount != 1:
        raise InvalidMove(_("The placement this transfer was to replace has ended meanwhile (the child was "
                            "discharged from %(shelter)s). Nothing was recorded; withdraw this transfer, or ask "
                            "the caseworker to refer the child anew.", shelter=replaced.pool.shelter.name))
    db.session.refresh(replaced)
    return replaced


def _occupy_and_free(transfer: Referral, replaced: Referral, user: User, at: datetime) -> None:
    """The beds of a transfer's arrival, pool rows in id order: the new pool's hold becomes
    occupied, the old pool's occupied bed is freed."""
    ref = transfer.child.case_reference
    steps = [(transfer.pool_id, lambda: beds.occupy_held_bed(
                 transfer.pool_id, user, _("arrival of %(ref)s (transfer)", ref=ref), at)),
             (replaced.pool_id, lambda: beds.free_occupied_bed(
                 replaced.pool_id, user, _("transfer of %(ref)s to another shelter", ref=ref), at))]
    for _pool, step in sorted(steps, key=lambda s: s[0]):
        step()


def _compare_and_set(referral: Referral, values: dict) -> str:
    """Change the referral only if it is still in the status this request saw, so two
    people pressing buttons at once cannot both move it."""
    seen = referral.status
    try:
        result = db.session.execute(
            update(Referral).where(Referral.id == referral.id, Referral.status == seen)
            .values(**values).execution_options(synchronize_session=False))
    except IntegrityError:
        raise InvalidMove(_("This child already has a live referral; withdraw it before making another.")) from None
    if result.rowcount != 1:
        raise Conflict(_("Someone else moved this referral meanwhile. Reload to see where it stands; "
                         "nothing of yours was saved."))
    db.session.refresh(referral)
    return seen


def _after_move(referral: Referral, before: str, user: User | None, at: datetime, reason_code: str,
                reason_text: str, event: str | None = None, *, key: str | None = None, recipients=None) -> None:
    """What every move leaves behind: a timeline step, an audit event, and word to whoever acts
    next (or to `recipients`, under `key`). `event` names what happened (Move.happened), the
    status reached unless given. A child discharged as missing (left without notice) is an
    alarm: see `tell_missing`."""
    event = event or referral.status
    db.session.add(ReferralEvent(referral_id=referral.id, from_status=before, to_status=referral.status,
                                 user_id=user.id if user else None, created_at=at,
                                 reason_code=reason_code, reason_text=reason_text))
    audit.record(f"referral.{event}", "referral", referral.id,
                 {"from": before, "to": referral.status, "pool": referral.pool_id,
                  "reason_code": reason_code})
    if referral.status == DISCHARGED and reason_code == MISSING:
        tell_missing(referral, user)
    else:
        if recipients is None:
            parts = TELL.get(event, ())
            if referral.status == DISCHARGED and before == EMERGENCY_PLACED:
                parts += (REGIONAL_GUARDIAN,)  # the decision they owe is moot now: they must know
            recipients = {u for part in parts for u in people_playing(part, referral)}
        recipients = set(recipients) - {user}
        notify(recipients, referral, key or f"referral.{event}")
    db.session.flush()


def referring_caseworkers(referral: Referral) -> list[User]:
    """Every active caseworker of the referring organization: for what must reach whoever is
    on duty, not only the one caseworker of the referral."""
    return list(db.session.scalars(select(User).join(User.organization).where(
        User.active.is_(True), Organization.active.is_(True), refers(User, referral))))


def tell_missing(referral: Referral, user: User | None) -> None:
    """A child who left without notice: every active caseworker of the referring organization
    (whoever is on duty must act now, not the one caseworker when back at work) and the
    guardianship officers of the shelter's region are told at once, by case reference only,
    and the audit trail records that the alarm went to them."""
    recipients = set(people_playing(REGIONAL_GUARDIAN, referral)) | set(referring_caseworkers(referral))
    recipients.discard(user)
    notify(recipients, referral, "referral.missing")
    audit.record("referral.missing", "referral", referral.id,
                 {"pool": referral.pool_id, "told": sorted(u.id for u in recipients)})


def _check_reason(step: Move, code: str, text: str) -> tuple[str, str]:
    """The reason a step needs (a code from the list and a text, or a text), refusing with
    every problem at once."""
    code, text = (code or "").strip(), (text or "").strip()
    problems = {}
    if step.reason == "code" and code not in step.codes:
        problems["reason_code"] = (
            _("Choose how the stay ended: family reunification, foster care, another guardian, came of age, "
              "left without notice, transferred, or other.") if step.action == "discharge"
            else _("Choose why you decline: no capacity, not eligible, needs not met, or other."))
    if step.reason and not text:
        problems["reason_text"] = _("Give a reason; the caseworker and the audit trail need it.")
    elif len(text) > 2000:
        problems["reason_text"] = _("Keep the reason under 2,000 characters.")
    if problems:
        raise InvalidFields(problems)
    return (code if step.reason == "code" else ""), (text if step.reason else "")


def _check_can_submit(referral: Referral) -> None:
    child = referral.child
    if not child.has_consent:
        raise InvalidInput(_("Record who gave consent to share this child's data, and when, before submitting."))
    if referral.pool.shelter.status != "open":
        raise InvalidMove(_("This shelter is not open for referrals now."))
    if not pool_fits_child(referral.pool, child):
        raise InvalidMove(_("This pool does not admit this child (sex or age)."))
    if referral.transfer_of_id is not None and referral.transfer_of.status not in TRANSFERABLE:
        raise InvalidMove(_("The child's placement has ended; a transfer can only start from a current placement."))
    other = db.session.scalar(select(Referral.id).where(
        Referral.child_id == child.id, Referral.status.in_(LIVE), Referral.id != referral.id,
        Referral.id != (referral.transfer_of_id or referral.id)))
    if other is not None:
        raise InvalidMove(_("This child already has a live referral; withdraw it before making another."))


def _check_arrival(referral: Referral, arrived_at: datetime | None, at: datetime) -> datetime:
    if arrived_at is None:
        return at
    if arrived_at > at + timedelta(minutes=5):
        raise InvalidInput(_("The arrival time cannot be in the future."))
    if referral.submitted_at and arrived_at < referral.submitted_at:
        raise InvalidInput(_("The arrival time cannot be before the referral was submitted."))
    return arrived_at


def people_playing(part: str, referral: Referral) -> list[User]:
    """The active users who play `part` for this referral, to be told of a move."""
    if part == REFERRING_CASEWORKER:
        return [referral.caseworker] if referral.caseworker.is_active else []
    predicate = {POOL_STAFF: keeps_shelter, REGIONAL_GUARDIAN: guards_region_of}[part]
    return list(db.session.scalars(
        select(User).join(User.organization)
        .where(User.active.is_(True), Organization.active.is_(True), predicate(User, referral.pool.shelter))))


# --- holds running out -----------------------------------------------------------------------

def _overdue(at: datetime):
    """A referral whose hold ran out at `at` and that expire-holds has not closed yet."""
    return and_(Referral.holds_bed.is_(True), Referral.hold_until <= at, Referral.status.in_(HOLDING))


def expire_overdue_holds(pool_id: int | None = None, at: datetime | None = None,
                         pool_ids: list[int] | None = None) -> list[Referral]:
    """Close every referral whose hold ran out (of one pool, or all) as expired and free its
    bed. Safe to run from several servers at once: each referral is closed by a conditional
    UPDATE that only one transaction can win, and only the winner releases the bed.

    In the lock order of coordination/transactions.py: first the referrals, in id order,
    then their pools' beds, in pool id order. `pool_ids`: the holds of several pools at once
    (siblings submitted together), so that those orders hold across them all."""
    at = at or now()
    query = select(Referral).where(_overdue(at)).order_by(Referral.id)
    if pool_id is not None:
        query = query.where(Referral.pool_id == pool_id)
    if pool_ids is not None:
        query = query.where(Referral.pool_id.in_(pool_ids))
    closed = []  # (referral, the status it had)
    for referral in db.session.scalars(query).all():
        seen = referral.status
        result = db.session.execute(
            update(Referral)
            .where(Referral.id == referral.id, Referral.status == seen, Referral.holds_bed.is_(True))
            .values(status=EXPIRED, holds_bed=False, hold_until=None, ended_at=at, status_changed_at=at)
            .execution_options(synchronize_session=False))
        if result.rowcount == 1:  # otherwise another server expired it first
            closed.append((referral, seen))
    released = Counter(referral.pool_id for referral, _seen in closed)
    for pool in sorted(released):
        beds.release_holds(pool, released[pool])
    for referral, seen in closed:
        db.session.refresh(referral)
        _after_move(referral, seen, None, at, "", "")
    return [referral for referral, _seen in closed]


# --- integrity -------------------------------------------------------------------------------

def placed_in(pool_id: int) -> int:
    """How many children are placed in the pool through referrals (and not discharged): placed,
    placed in an emergency before the decision, or moving out; each occupies a bed."""
    return db.session.scalar(select(func.count(Referral.id)).where(
        Referral.pool_id == pool_id, Referral.status.in_(IN_BED)))


def placed_children():
    """How many children are placed in a pool through referrals (as `placed_in`), as a
    correlated subquery to read with the pool."""
    return (select(func.count(Referral.id)).where(Referral.pool_id == BedPool.id, Referral.status.in_(IN_BED))
            .correlate(BedPool).scalar_subquery())


def overdue_and_placed(pool_id: int, at: datetime) -> tuple[int, int]:
    """The pool's holds that ran out at `at` and are not closed yet, and the children placed
    in it (as `placed_in`), counted in one statement: a count change asks both, and has
    holds to close only now and then."""
    overdue, placed = db.session.execute(
        select(func.count(Referral.id).filter(_overdue(at)),
               func.count(Referral.id).filter(Referral.status.in_(IN_BED)))
        .where(Referral.pool_id == pool_id)).one()
    return overdue, placed


def integrity_problems() -> list[str]:
    """Recount holds and placements against every pool, and each child's first bed against the
    arrivals of their referrals; one line for each mismatch."""
    holds = dict(db.session.execute(
        select(Referral.pool_id, func.count()).where(Referral.holds_bed.is_(True)).group_by(Referral.pool_id)).all())
    placed = dict(db.session.execute(
        select(Referral.pool_id, func.count()).where(Referral.status.in_(IN_BED)).group_by(Referral.pool_id)).all())
    problems = []
    for pool in db.session.scalars(select(BedPool).order_by(BedPool.id)):
        name = f"pool {pool.id} ({pool.label}, shelter {pool.shelter_id})"
        if pool.held != holds.get(pool.id, 0):
            problems.append(f"{name}: held is {pool.held} but {holds.get(pool.id, 0)} referrals hold a bed")
        if pool.occupied < placed.get(pool.id, 0):
            problems.append(f"{name}: occupied is {pool.occupied} but {placed.get(pool.id, 0)} children are placed")
        if min(pool.occupied, pool.out_of_service, pool.held) < 0 or pool.in_use > pool.capacity:
            problems.append(f"{name}: occupied {pool.occupied} + out of service {pool.out_of_service} "
                            f"+ held {pool.held} does not fit capacity {pool.capacity}")
    wrong_flag = db.session.execute(select(Referral.id, Referral.status).where(
        (Referral.holds_bed.is_(True)) != Referral.status.in_(HOLDING)).order_by(Referral.id)).all()
    for referral_id, status in wrong_flag:
        problems.append(f"referral {referral_id}: status {status} does not match whether it holds a bed")
    first_bed = (select(Referral.child_id, func.min(Referral.arrived_at).label("at"))
                 .where(Referral.arrived_at.is_not(None)).group_by(Referral.child_id).subquery())
    wrong_first_bed = db.session.execute(
        select(Child.id, Child.reached_bed_at, first_bed.c.at).outerjoin(first_bed, first_bed.c.child_id == Child.id)
        .where(or_(Child.reached_bed_at.is_(None) != first_bed.c.at.is_(None), Child.reached_bed_at != first_bed.c.at))
        .order_by(Child.id)).all()
    for child_id, noted, arrived in wrong_first_bed:
        problems.append(f"child {child_id}: first reached a bed at {noted} by its record, "
                        f"but at {arrived} by its referrals' arrivals")
    return problems


# --- need to know ----------------------------------------------------------------------------

def _with_pool_and_shelter(query: Select) -> Select:
    return query.join(Referral.pool).join(BedPool.shelter).options(contains_eager(Referral.pool)
                                                                   .contains_eager(BedPool.shelter))


def visible_referrals(user: User) -> Select:
    """The referrals `user` may see at all. Drafts stay with the referring organization;
    admin and oversight see no individual referral."""
    query = _with_pool_and_shelter(select(Referral))
    if user.role == CASEWORKER:
        return query.where(refers(user, Referral))
    return query.where(_sees_shelter(user), _past_the_referrer())


def _sees_shelter(user: User):
    """Shelter staff see the referrals to the shelters they keep; guardianship, to those of their region."""
    return or_(keeps_shelter(user, Shelter), guards_region_of(user, Shelter))


def _past_the_referrer():
    """Drafts stay with the referring organization: others see a referral once it is submitted."""
    return Referral.status != DRAFT


def works_with_children(user: User) -> bool:
    """Caseworkers register children, see the ones their organization registered, and refer them."""
    return user.role == CASEWORKER


def may_list_referrals(user: User) -> bool:
    """Admin and oversight read aggregates, never lists of individual referrals."""
    return user.role in (CASEWORKER, SHELTER_STAFF, GUARDIANSHIP)


def referral_for(user: User, referral_id: int) -> Referral | None:
    """The referral if `user` may see it; None, exactly as for an unknown id, otherwise."""
    return db.session.scalar(visible_referrals(user).where(Referral.id == referral_id))


def visible_children(user: User) -> Select:
    if user.role == CASEWORKER:
        return select(Child).where(Child.organization_id == user.organization_id)
    return select(Child).where(False)


def children_of(user: User, region_id: int | None = None, placement: str | None = None,
                urgency: str | None = None, search: str | None = None, *, per_page: int,
                before: str | None = None, after: str | None = None) -> Page:
    """A page of the user's organization's children, newest registered first, filtered by
    current region, where they stand (unreferred, referred, placed), the urgency of their
    live referral, and a search for a case reference or a name (see `matching_children`);
    the page older than cursor `before`, newer than `after`, or the newest (see paging.py)."""
    query = visible_children(user).options(joinedload(Child.region)).order_by(Child.created_at.desc(), Child.id.desc())
    if search and search.strip():
        query = query.where(matching_children(search))
    live = exists().where(Referral.child_id == Child.id, Referral.status.in_(HOLDING))
    placed = exists().where(Referral.child_id == Child.id, Referral.status.in_(IN_BED))
    if region_id is not None:
        query = query.where(Child.region_id == region_id)
    if placement == "referred":
        query = query.where(live)
    elif placement == "placed":
        query = query.where(placed)
    elif placement == "unreferred":
        query = query.where(~live, ~placed)
    if urgency is not None:
        query = query.where(exists().where(Referral.child_id == Child.id, Referral.status.in_(LIVE),
                                           Referral.urgency == urgency))
    return newest_first(query, Child.created_at, Child.id, per_page, before=before, after=after)


def matching_children(search: str):
    """The condition a child meets when `search` finds it: part of its case reference
    ("UC-2026-00042", "00042"; any case), or every word of a name as folded across scripts
    and spellings (names.fold) found in its folded name, in any order, so that "Мамедова",
    "Mammadova" and "Məmməd" all find Aysel Məmmədova."""
    by_reference = Child.case_reference.icontains(search.strip(), autoescape=True)
    words = fold(search).split()
    if not words:
        return by_reference
    return or_(by_reference, and_(*(Child.name_key.contains(word, autoescape=True) for word in words)))


def _free_to_refer():
    """A child may be referred only while no referral of theirs still runs (a draft included)."""
    return ~exists().where(Referral.child_id == Child.id, Referral.status.in_(LIVE))


def children_to_refer(user: User, limit: int) -> list[Child]:
    """The newest children of the user's organization without a live referral."""
    return list(db.session.scalars(
        visible_children(user).where(_free_to_refer()).order_by(Child.created_at.desc()).limit(limit)))


def child_to_refer(user: User, child_id: int) -> Child | None:
    """One of the children children_to_refer offers, by id, however long ago registered."""
    return db.session.scalar(visible_children(user).where(Child.id == child_id, _free_to_refer()))


def referrals_of(user: User, status: str | None = None, region_id: int | None = None,
                 urgency: str | None = None, *, per_page: int, before: str | None = None,
                 after: str | None = None) -> Page:
    """A page of the referrals the user may see, latest change first, filtered by status, the
    shelter's region and urgency; the page older than cursor `before`, newer than `after`,
    or the latest (see paging.py)."""
    across = None
    if user.role == CASEWORKER:
        query = visible_referrals(user).options(joinedload(Referral.child))  # each row shows its case reference
        if region_id is not None:
            query = query.where(Shelter.region_id == region_id)
    else:
        # The referrals of the pools they see (visible_referrals' rule, said of pools), each
        # pool's read on its own (see paging.py), then loaded with their pool and shelter.
        query = select(Referral).where(_past_the_referrer())
        across = (Referral.pool_id, pools_seen(user, region_id=region_id))
    query = query.order_by(Referral.status_changed_at.desc(), Referral.id.desc())
    if status is not None:
        query = query.where(Referral.status == status)
    if urgency is not None:
        query = query.where(Referral.urgency == urgency)
    return newest_first(query, Referral.status_changed_at, Referral.id, per_page, before=before, after=after,
                        across=across, by_ids=_listed_by_ids)


def _listed_by_ids(ids: list[int]) -> Select:
    """Referrals chosen for a list (from those the user may see), loaded as the list shows them."""
    return _with_pool_and_shelter(select(Referral)).options(joinedload(Referral.child)).where(Referral.id.in_(ids))


def pools_seen(user: User, region_id: int | None = None) -> list[int]:
    """The pools whose referrals (but drafts) shelter staff and guardianship see, as
    `visible_referrals` has it: those of the shelters they keep or whose region they guard."""
    query = select(BedPool.id).join(BedPool.shelter).where(_sees_shelter(user)).order_by(BedPool.id)
    if region_id is not None:
        query = query.where(Shelter.region_id == region_id)
    return list(db.session.scalars(query))


def child_for(user: User, child_id: int) -> Child | None:
    return db.session.scalar(visible_children(user).where(Child.id == child_id))


def can_see_child_name(user: User, referral: Referral) -> bool:
    """Shelter staff learn the name once they have accepted the child; caseworkers of the
    child's organization and the region's guardianship officers always; nobody else."""
    if user.role == CASEWORKER:
        return user.organization_id == referral.child.organization_id
    return plays(user, REGIONAL_GUARDIAN, referral) or (
        plays(user, POOL_STAFF, referral) and referral.accepted_at is not None)


def record_name_view(child: Child, page: str) -> None:
    """Every view of a page with a child's name goes into the audit trail."""
    audit.record("child.view", "child", child.id, {"page": page, "case_reference": child.case_reference})


def record_name_views(children, page: str) -> None:
    """A page listing names records one event: whose names it showed, by id and case
    reference, and on which page (one event per page, not per row, so that a list costs
    the same however long it is)."""
    named = [child for child in dict.fromkeys(children) if child.full_name]
    if named:
        audit.record("child.view_list", "page", page, {
            "child_ids": [child.id for child in named],
            "case_references": [child.case_reference for child in named]})


# --- children --------------------------------------------------------------------------------

def birth_year(birth_date: date | None, estimated_age: int | None, today: date) -> int | None:
    if birth_date is not None:
        return birth_date.year
    return today.year - estimated_age if estimated_age is not None else None


def _within_a_year(one: date, other: date) -> bool:
    earlier, later = sorted((one, other))
    years = _years_between(earlier, later)
    return years < 1 or (years == 1 and (later.month, later.day) == (earlier.month, earlier.day))


def ages_agree(birth_date: date | None, estimated_age: int | None, registered: date,
               other_birth_date: date | None, other_estimated_age: int | None, other_registered: date) -> bool:
    """Whether two records' ages can be one child's: the same birth date, birth dates at
    most a year apart, or (where an age is only estimated) birth years at most one apart.
    A birth date typed by another agency is often a guess or a slip (1 January of the
    year, day and month swapped), so dates need not be equal; an unknown age agrees with any."""
    if birth_date is not None and other_birth_date is not None:
        return _within_a_year(birth_date, other_birth_date)
    year = birth_year(birth_date, estimated_age, registered)
    other_year = birth_year(other_birth_date, other_estimated_age, other_registered)
    return year is None or other_year is None or abs(year - other_year) <= 1


def likely_duplicates(organization_id: int, given: str, family: str, birth_date: date | None,
                      estimated_age: int | None, exclude_child_id: int | None = None) -> list[Child]:
    """Children of the organization whose names fold alike, in whatever script and spelling
    they were typed (see names.fold), given and family name either way round, and whose
    ages agree (see `ages_agree`). Another organization's children are never compared, nor
    the child `exclude_child_id` (a record being corrected is not its own duplicate)."""
    keys = {name_key(given, family), name_key(family, given)} - {""}
    if not keys:
        return []
    today = now().date()
    query = select(Child).where(Child.organization_id == organization_id, Child.name_key.in_(keys))
    if exclude_child_id is not None:
        query = query.where(Child.id != exclude_child_id)
    same_names = db.session.scalars(query.order_by(Child.id))
    return [c for c in same_names
            if ages_agree(birth_date, estimated_age, today, c.birth_date, c.estimated_age, c.created_at.date())]


def _years_between(born: date, day: date) -> int:
    return day.year - born.year - ((day.month, day.day) < (born.month, born.day))


def consent_problems(given_by: str, given_at: datetime | None, *, required: bool = True) -> dict[str, str]:
    """Every problem with a consent to share, by form field: who gave it and when, and not
    in the future (five minutes' grace for a clock running fast). At registration consent
    may wait (`required=False`): a time typed without a person is then no consent at all,
    and not judged."""
    problems = {}
    given = bool((given_by or "").strip())
    if required and not given:
        problems["consent_given_by"] = _("Say who gave consent to share.")
    if required and given_at is None:
        problems["consent_given_at"] = _("Give the date and time of the consent.")
    elif given and given_at is not None and given_at > now() + timedelta(minutes=5):
        problems["consent_given_at"] = _("Consent cannot have been given in the future.")
    return problems


def _longer_than(most: int) -> str:
    return ngettext("Field cannot be longer than %(max)d character.",
                    "Field cannot be longer than %(max)d characters.", most, max=most)


def child_problems(*, given_name: str, family_name: str, sex: str, birth_date: date | None,
                   estimated_age: int | None, nationality: str, languages: list[str], needs: list[str],
                   region_id: int | None, consent_given_by: str = "",
                   consent_given_at: datetime | None = None, found_place: str | None = NOT_RECORDED,
                   found_region_id: int | None = None, found_at: datetime | None = None,
                   new_child: bool = False) -> dict[str, str]:
    """Every problem with a child's record, by form field, all at once (empty when there is
    none): a given name; names and nationality that fit their columns; the child's sex; a
    date of birth or an estimated age; a birth date neither in the future nor 18 or more
    years ago, and an estimated age of 0 to 17 (children registered here are under 18);
    languages and needs from their lists; a known region; and consent, when recorded, not
    given in the future; where and when the child was found (found.found_problems: required
    for a `new_child`). Registering and correcting a record refuse on any of these; their
    forms ask first, so one answer names every problem."""
    problems = {}
    today = now().date()
    if not (given_name or "").strip():
        problems["given_name"] = _("Enter the given name.")
    for name, value, most in (("given_name", given_name, 200), ("family_name", family_name, 200),
                              ("nationality", nationality, 100)):
        if len((value or "").strip()) > most:
            problems[name] = _longer_than(most)
    if sex not in CHILD_SEXES:
        problems["sex"] = _("Choose the child's sex.")
    if birth_date is None and estimated_age is None:
        problems["birth_date"] = _("Give the date of birth or an estimated age.")
    elif birth_date is not None and birth_date > today:
        problems["birth_date"] = _("The date of birth cannot be in the future.")
    elif birth_date is not None and _years_between(birth_date, today) > 17:
        problems["birth_date"] = _("Children registered here are under 18; check the date of birth.")
    if estimated_age is not None and not 0 <= estimated_age <= 17:
        problems["estimated_age"] = _("An unaccompanied child is 0 to 17 years old.")
    if spoken.unknown(languages or []):
        problems["languages"] = _("Choose the languages from the list offered.")
    if set(needs or []) - set(NEEDS):
        problems["needs"] = _("Choose the needs from the list offered.")
    if region_id is None or not 0 < region_id < 2**31 or db.session.get(Region, region_id) is None:
        problems["region"] = _("Choose one of the regions offered.")
    problems.update(consent_problems(consent_given_by, consent_given_at, required=False))
    problems.update(found_problems(found_place, found_region_id, found_at, birth_date, new_child=new_child))
    return problems


def register_child(user: User, *, given_name: str, family_name: str, sex: str, birth_date: date | None,
                   estimated_age: int | None, nationality: str, languages: list[str], needs: list[str],
                   region_id: int, consent_given_by: str, consent_given_at: datetime | None,
                   child_assent: bool, found_place: str = "", found_region_id: int | None = None,
                   found_at: datetime | None = None) -> Child:
    """Register a child in the caseworker's organization, under a new case reference. The
    languages are codes from the list (coordination.languages); anything else is refused.
    Where, in which region and when the child was found is required (found.found_problems)."""
    if user.role != CASEWORKER:
        raise NotAllowed(_("Only caseworkers register children."))
    problems = child_problems(given_name=given_name, family_name=family_name, sex=sex, birth_date=birth_date,
                              estimated_age=estimated_age, nationality=nationality, languages=languages, needs=needs,
                              region_id=region_id, consent_given_by=consent_given_by,
                              consent_given_at=consent_given_at, found_place=found_place,
                              found_region_id=found_region_id, found_at=found_at, new_child=True)
    if problems:
        raise InvalidFields(problems)
    languages = spoken.chosen(languages)
    child = Child(
        organization_id=user.organization_id, registered_by_id=user.id,
        given_name=given_name.strip(), family_name=family_name.strip(),
        name_key=name_key(given_name, family_name), sex=sex, birth_date=birth_date,
        estimated_age=estimated_age if birth_date is None else None, nationality=nationality.strip(),
        languages=languages, needs=needs, region_id=region_id,
        consent_given_by=consent_given_by.strip(),
        consent_given_at=consent_given_at if consent_given_by.strip() else None,
        child_assent=child_assent, created_at=now(),
        found_place=found_place, found_region_id=found_region_id, found_at=found_at,
    )
    db.session.add(child)
    db.session.flush()
    child.case_reference = f"UC-{child.created_at.year}-{child.id:05d}"
    audit.record("child.register", "child", child.id, {"case_reference": child.case_reference})
    db.session.flush()
    return child


def record_consent(child: Child, user: User, given_by: str, given_at: datetime | None, child_assent: bool) -> None:
    """Who gave consent to share the child's data, and when (see `consent_problems`); by a
    caseworker of the child's organization."""
    if user.role != CASEWORKER or user.organization_id != child.organization_id:
        raise NotAllowed(_("Only caseworkers of the child's organization record consent."))
    problems = consent_problems(given_by, given_at)
    if problems:
        raise InvalidFields(problems)
    child.consent_given_by = given_by.strip()
    child.consent_given_at = given_at
    child.child_assent = child_assent
    audit.record("child.consent", "child", child.id, {"given_by_recorded": True, "assent": child_assent})
    db.session.flush()


def change_child_languages(child: Child, user: User, languages: list[str]) -> None:
    """The languages a child speaks, chosen from the list by a caseworker of the child's
    organization. Whatever the language migration could not match is settled with it."""
    if user.role != CASEWORKER or user.organization_id != child.organization_id:
        raise NotAllowed(_("Only caseworkers of the child's organization change the child's languages."))
    languages = spoken.chosen(languages)
    settled = len(child.languages_unmapped or [])
    child.languages = languages
    child.languages_unmapped = []
    audit.record("child.languages", "child", child.id, {"languages": len(languages), "unmatched_settled": settled})
    db.session.flush()


# What a correction may change, by form field (the region is `region_id` on the record); the
# consent has its own form, and the case reference, organization and dates never change.
CORRECTABLE = ("given_name", "family_name", "sex", "birth_date", "estimated_age", "nationality", "languages",
               "needs", "region", "found_place", "found_region", "found_at")
_COLUMN = {"region": "region_id", "found_region": "found_region_id"}


def correction_refusal(user: User, child: Child) -> DomainError | None:
    """Why `user` may not correct this child's record, or None if they may: only caseworkers
    of the registering organization correct it, and nobody once it is anonymized (its names
    and birth date were removed for good; a correction would bring personal data back)."""
    if user.role != CASEWORKER or user.organization_id != child.organization_id:
        return NotAllowed(_("Only caseworkers of the child's organization correct the child's record."))
    if child.anonymized_at is not None:
        return InvalidMove(_("This record was anonymized on %(date)s: the child's names and date of birth "
                             "were removed for data protection, so it can no longer be corrected.",
                             date=when(child.anonymized_at)))
    return None


def require_correctable(user: User, child: Child) -> None:
    refusal = correction_refusal(user, child)
    if refusal is not None:
        raise refusal


def _identity_changes(child: Child, given_name: str, family_name: str, birth_date: date | None,
                      estimated_age: int | None) -> bool:
    """Whether a correction touches what makes two records look like one child."""
    return (name_key(given_name, family_name) != child.name_key or birth_date != child.birth_date
            or (birth_date is None and estimated_age != child.estimated_age))


def duplicates_after_correction(child: Child, given_name: str, family_name: str, birth_date: date | None,
                                estimated_age: int | None) -> list[Child]:
    """The organization's other children that the corrected record would look like (see
    `likely_duplicates`). Only a correction of the names or the age is compared: a record
    already told apart from its namesake at registration is not asked about again when,
    say, its needs change."""
    if not _identity_changes(child, given_name, family_name, birth_date, estimated_age):
        return []
    return likely_duplicates(child.organization_id, given_name, family_name, birth_date, estimated_age,
                             exclude_child_id=child.id)


def correct_child(child: Child, user: User, *, given_name: str, family_name: str, sex: str,
                  birth_date: date | None, estimated_age: int | None, nationality: str, languages: list[str],
                  needs: list[str], region_id: int | None, found_place: str | None = None,
                  found_region_id: int | None = None, found_at: datetime | None = None) -> list[str]:
    """Correct a child's record after registration, under the rules of registering
    (`child_problems`: every problem at once, and nothing changed when there is one), by a
    caseworker of the registering organization, never once anonymized. Returns the fields
    that changed (as CORRECTABLE names them); the name key is folded again, and one audit
    event `child.update` names the changed fields and the case reference, never their
    values: oversight reads the audit trail and never sees a child's name. Where and when the
    child was found stay as they were when `found_place` is not given."""
    require_correctable(user, child)
    if found_place is None:
        found_place, found_region_id, found_at = child.found_place, child.found_region_id, child.found_at
    elif found_at is not None and child.found_at is not None and \
            found_at.replace(second=0, microsecond=0) == child.found_at.replace(second=0, microsecond=0):
        found_at = child.found_at  # the form types minutes: the same minute is no change
    problems = child_problems(given_name=given_name, family_name=family_name, sex=sex, birth_date=birth_date,
                              estimated_age=estimated_age, nationality=nationality, languages=languages, needs=needs,
                              region_id=region_id, found_place=found_place, found_region_id=found_region_id,
                              found_at=found_at)
    if problems:
        raise InvalidFields(problems)
    new = {
        "given_name": given_name.strip(), "family_name": (family_name or "").strip(), "sex": sex,
        "birth_date": birth_date, "estimated_age": estimated_age if birth_date is None else None,
        "nationality": (nationality or "").strip(), "languages": spoken.chosen(languages), "needs": list(needs),
        "region": region_id, "found_place": found_place, "found_region": found_region_id, "found_at": found_at,
    }
    changed = [name for name in CORRECTABLE if getattr(child, _COLUMN.get(name, name)) != new[name]]
    if not changed:
        return []
    for name in changed:
        setattr(child, _COLUMN.get(name, name), new[name])
    if "languages" in changed:
        child.languages_unmapped = []  # the languages were chosen again: what was not matched is settled
    child.name_key = name_key(child.given_name, child.family_name)
    audit.record("child.update", "child", child.id, {"case_reference": child.case_reference, "fields": changed})
    db.session.flush()
    return changed


# --- finding a bed ---------------------------------------------------------------------------

def pool_fits_child(pool: BedPool, child: Child) -> bool:
    age = child.age_on(now().date())
    return pool.admits_sex in (child.sex, "any") and pool.min_age <= age <= pool.max_age


@dataclass
class Suggestion:
    pool: BedPool
    rank: tuple
    reasons: list[str] = field(default_factory=list)


def suggest_pools(child: Child, limit: int = 20, exclude_pool_id: int | None = None) -> list[Suggestion]:
    """Open pools whose admission rules fit the child, best first: free beds, same region,
    a language in common, the child's needs among the shelter's services, fresh counts."""
    at = now()
    age = child.age_on(at.date())
    query = availability.with_live_holds(
        select(BedPool).join(BedPool.shelter).join(Shelter.region)
        .options(contains_eager(BedPool.shelter).contains_eager(Shelter.region))
        .join(Shelter.organization)
        .where(Shelter.status == "open", Organization.active.is_(True), BedPool.admits_sex.in_((child.sex, "any")),
               BedPool.min_age <= age, BedPool.max_age >= age), at)
    if exclude_pool_id is not None:
        query = query.where(BedPool.id != exclude_pool_id)
    config = current_app.config
    suggestions = []
    for pool in db.session.scalars(query):
        shelter = pool.shelter
        common = [code for code in child.languages if code in shelter.languages]  # the child's order
        met = [need for need in child.needs if need in shelter.services]
        level = beds.freshness(pool.last_confirmed_at, at, config["FRESH_HOURS"], config["STALE_HOURS"])
        reasons = [
            _("no bed free now") if not pool.available else _("beds free"),
            _("in the child's region") if shelter.region_id == child.region_id
            else _("in %(region)s", region=shelter.region.local_name),
            _("speaks %(langs)s", langs=", ".join(spoken.language_names(common))) if common
            else _("no language in common"),
        ]
        if child.needs:
            reasons.append(_("offers %(met)s", met=", ".join(word(n) for n in met)) if met
                           else _("offers none of the child's needs"))
        reasons.append(_("counts %(level)s", level=word(level)))
        rank = (pool.available > 0, shelter.region_id == child.region_id, bool(common), len(met),
                {"fresh": 2, "aging": 1}.get(level, 0), pool.available)
        suggestions.append(Suggestion(pool, rank, reasons))
    suggestions.sort(key=lambda s: s.rank, reverse=True)
    return suggestions[:limit]


def note_unmet_demand(child: Child, suggestions: list[Suggestion]) -> DemandSignal | None:
    """When the pools offered for a child hold no free bed (or no open pool admits the child),
    record that demand went unmet, anonymously: the child's region, sex, age band and needs,
    and the time. Once per child per local day, however often the page is looked at; the
    evidence for where the next beds are needed (reports, overview)."""
    if any(s.pool.available > 0 for s in suggestions):
        return None
    at = now()
    key = hmac.new(current_app.config["SECRET_KEY"].encode(), f"demand:{child.id}:{local_today()}".encode(),
                   hashlib.sha256).hexdigest()
    if db.session.scalar(select(DemandSignal.id).where(DemandSignal.seen_key == key)) is not None:
        return None
    signal = DemandSignal(created_at=at, region_id=child.region_id, sex=child.sex,
                          age_band=age_band(child.age_on(at.date())), needs=list(child.needs), seen_key=key)
    try:
        with db.session.begin_nested():  # another request for the same child may record it first
            db.session.add(signal)
    except IntegrityError:
        return None
    return signal


def referral_problems(child: Child, pool: BedPool) -> dict[str, str]:
    """What stops referring this child to this pool, by form field: the pool admits the
    child (sex and age), and its shelter is open for referrals."""
    if not pool_fits_child(pool, child):
        return {"pool": _("This pool does not admit this child (sex or age).")}
    if pool.shelter.status != "open":
        return {"pool": _("This shelter is not open for referrals now.")}
    return {}


def create_referral(user: User, child: Child, pool: BedPool, urgency: str, note: str) -> Referral:
    """A draft referral of one of the organization's children to a pool that admits them."""
    if user.role != CASEWORKER or child.organization_id != user.organization_id:
        raise NotAllowed(_("Only caseworkers of the child's organization refer the child."))
    problems = referral_problems(child, pool)
    if problems:
        raise InvalidFields(problems)
    at = now()
    referral = Referral(child=child, pool=pool, referring_organization_id=user.organization_id,
                        caseworker=user, status=DRAFT, urgency=urgency, note=note.strip(),
                        created_at=at, status_changed_at=at)
    db.session.add(referral)
    db.session.flush()
    db.session.add(ReferralEvent(referral_id=referral.id, from_status=None, to_status=DRAFT,
                                 user_id=user.id, created_at=at))
    audit.record("referral.draft", "referral", referral.id, {"child": child.id, "pool": pool.id})
    db.session.flush()
    return referral


# --- where people work -----------------------------------------------------------------------

QUEUE_SHOWN = 20  # each part of a work queue shows its most urgent; the rest are in the list of referrals


@dataclass
class QueueSection:
    key: str
    title: object
    empty: object
    referrals: list     # the first QUEUE_SHOWN, most urgent first
    more: bool = False  # more than those wait
    status: str | None = None  # the status that lists them all in /referrals, where one status says it


def most_urgent_first():
    """Emergencies, then urgent referrals, then routine ones (URGENCIES is in rising order)."""
    return case({urgency: -rank for rank, urgency in enumerate(URGENCIES)}, value=Referral.urgency, else_=0)


def work_queue(user: User) -> list[QueueSection]:
    """What waits on this person, most urgent first and, within an urgency, oldest first."""
    at = now()
    base = visible_referrals(user).options(joinedload(Referral.child))  # each row shows its case reference
    order = (most_urgent_first(), Referral.status_changed_at.asc(), Referral.id.asc())

    def section(key, title, empty, query, order=order, status=None):
        rows = list(db.session.scalars(query.order_by(*order).limit(QUEUE_SHOWN + 1)))
        return QueueSection(key, title, empty, rows[:QUEUE_SHOWN], more=len(rows) > QUEUE_SHOWN, status=status)

    if user.role == CASEWORKER:
        return [
            section("drafts", _l("Drafts to submit"), _l("No drafts."), base.where(Referral.status == DRAFT),
                    status=DRAFT),
            section("expiring", _l("Holds running out within 6 hours"), _l("No hold runs out soon."),
                    # a referral holds a bed only while in a holding status: said, so that an index finds them
                    base.where(Referral.status.in_(HOLDING), Referral.holds_bed.is_(True),
                               Referral.hold_until > at, Referral.hold_until <= at + timedelta(hours=6))),
            section("moving_out", _l("Children who must move out: find another place"),
                    _l("No child has to move out."), base.where(Referral.status == MOVING_OUT), status=MOVING_OUT),
            section("answers", _l("Answers received"), _l("No new answers."),
                    base.where(Referral.status.in_((ACCEPTED, APPROVED, DECLINED, REJECTED, EXPIRED,
                                                    EMERGENCY_PLACED)),
                               Referral.status_changed_at >= at - timedelta(days=3))),
        ]
    if user.role == SHELTER_STAFF:
        return [
            section("to_answer", _l("Referrals to answer"), _l("No referral waits for an answer."),
                    base.where(Referral.status == SUBMITTED, Referral.hold_until > at), status=SUBMITTED),
            section("arrivals", _l("Arrivals expected"), _l("No arrival expected."),
                    base.where(Referral.status == APPROVED, Referral.hold_until > at), status=APPROVED),
            section("moving_out", _l("Children moving out: record the discharge when they leave"),
                    _l("No child is moving out."), base.where(Referral.status == MOVING_OUT), status=MOVING_OUT),
        ]
    if user.role == GUARDIANSHIP:
        return [
            # The child already sleeps there; the nearest deadline first.
            section("emergencies", _l("Emergency placements awaiting your decision"),
                    _l("No emergency placement waits for your decision."),
                    base.where(Referral.status == EMERGENCY_PLACED),
                    order=(Referral.decision_due_at.asc(), Referral.id.asc()), status=EMERGENCY_PLACED),
            section("decisions", _l("Placements to decide"), _l("No placement waits for your decision."),
                    base.where(Referral.status == ACCEPTED, Referral.hold_until > at), status=ACCEPTED),
        ]
    return []


def repoint_draft(referral: Referral, pool: BedPool, user: User) -> Referral:
    """Point a draft at another pool (after its first choice filled up)."""
    require_part(user, REFERRING_CASEWORKER, referral)
    if referral.status != DRAFT:
        raise InvalidMove(_("Only a draft can be sent to another pool."))
    if not pool_fits_child(pool, referral.child):
        raise InvalidInput(_("This pool does not admit this child (sex or age)."))
    previous = referral.pool_id
    referral.pool = pool
    audit.record("referral.repoint", "referral", referral.id, {"from_pool": previous, "to_pool": pool.id})
    db.session.flush()
    return referral


# --- data protection -------------------------------------------------------------------------

def anonymize_ended_before(cutoff: datetime) -> list[Child]:
    """Remove names, birth dates and free text (case notes' text among it) from children
    whose referrals all ended before `cutoff` (and children never referred, registered
    before it). What the reports
    count stays: sex, age in years, nationality, languages, needs, region and every date
    and status of the referrals."""
    ended_late_or_live = exists().where(
        Referral.child_id == Child.id,
        (Referral.ended_at.is_(None)) | (Referral.ended_at >= cutoff))
    children = db.session.scalars(select(Child).where(
        Child.anonymized_at.is_(None), Child.created_at < cutoff, ~ended_late_or_live).order_by(Child.id)).all()
    at = now()
    for child in children:
        child.estimated_age = child.age_on(child.created_at.date())
        child.birth_date = None
        child.given_name = child.family_name = child.name_key = ""
        child.consent_given_by = ""
        child.languages_unmapped = []  # typed as free text; the codes in `languages` stay
        child.anonymized_at = at
        referral_ids = [r.id for r in child.referrals]
        if referral_ids:
            db.session.execute(update(Referral).where(Referral.id.in_(referral_ids))
                               .values(note="", reason_text=""))
            # The one exception to the timeline being append-only: its free text goes too.
            db.session.execute(update(ReferralEvent).where(ReferralEvent.referral_id.in_(referral_ids))
                               .values(reason_text=""))
        # A note stays (who wrote on the case, and when); what it said goes, as a name would.
        db.session.execute(update(CaseNote).where(CaseNote.child_id == child.id).values(body=""))
        audit.record("child.anonymize", "child", child.id, {"case_reference": child.case_reference})
    audit.record("anonymize.run", "child", "", {"ended_before": cutoff.isoformat(), "children": len(children)})
    db.session.flush()
    return children
