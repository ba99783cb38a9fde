"""Where and when a child was found, how long from there to a referral and to a bed, and the
alert for a child who waits at a police station or a detention centre with no referral.

The ombudsman's office monitors these places: a child must never wait there for want of a
bed. Registering a child records the kind of place, the region and the time; `journey` says
what came after; `alert_unplaced_children` (run by the periodic command) tells the
registering organization's caseworkers and oversight, once per child, that a child found
at a WAITING_PLACE still has no live referral UNPLACED_ALERT_HOURS after being found."""
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import exists, or_, select, update

from ..accounts.models import CASEWORKER, OVERSIGHT, Organization, Region, User
from ..audit import services as audit
from ..clock import now
from ..extensions import db
from ..notifications.services import notify
from .models import FOUND_PLACES, IN_BED, LIVE, NOT_RECORDED, WAITING_PLACES, Child, Referral

# A clock running a little fast is not a time in the future.
_GRACE = timedelta(minutes=5)


def found_problems(found_place: str | None, found_region_id: int | None, found_at: datetime | None,
                   birth_date: date | None, *, new_child: bool) -> dict[str, str]:
    """Every problem with where and when a child was found, by form field. A new child's
    place is one of the list, never "not recorded" (that is only what children registered
    before the question have); with a place recorded, the region and the time are given
    too; the time is neither in the future nor before the child was born."""
    problems = {}
    offered = [p for p in FOUND_PLACES if not (new_child and p == NOT_RECORDED)]
    if found_place not in offered:
        problems["found_place"] = _("Choose where the child was found, from the list offered.")
        return problems
    if found_place == NOT_RECORDED and found_region_id is None and found_at is None:
        return problems
    if found_region_id is None or not 0 < found_region_id < 2**31 or db.session.get(Region, found_region_id) is None:
        problems["found_region"] = _("Choose the region where the child was found.")
    if found_at is None:
        problems["found_at"] = _("Give the date and time the child was found.")
    elif found_at > now() + _GRACE:
        problems["found_at"] = _("The child cannot have been found in the future.")
    elif birth_date is not None and birth_date <= now().date() and found_at.date() < birth_date:
        # (a birth date in the future is its own problem, said under the date of birth)
        problems["found_at"] = _("The child cannot have been found before being born; check the date.")
    return problems


@dataclass(frozen=True)
class Journey:
    """From being found to a bed: how long to the first referral, to the first bed, or how
    long the child has waited for one so far. Each is None when it cannot be said (the time
    found was not recorded, or the step has not happened)."""
    found_at: datetime | None
    first_referral_at: datetime | None
    first_bed_at: datetime | None
    to_referral: timedelta | None
    to_bed: timedelta | None
    waiting: timedelta | None  # still without a bed: since being found until `at`


def journey(child: Child, at: datetime | None = None) -> Journey:
    """The child's way from where they were found to a bed: the first referral is the
    earliest submitted; the first bed the earliest arrival of a referral that reached one
    (placed, or placed in an emergency, discharged later or not)."""
    at = at or now()
    referrals = list(child.referrals)
    submitted = [r.submitted_at for r in referrals if r.submitted_at is not None]
    arrived = [r.arrived_at for r in referrals if r.arrived_at is not None]
    first_referral = min(submitted, default=None)
    first_bed = min(arrived, default=None)
    found = child.found_at

    def since_found(moment):
        return max(moment - found, timedelta(0)) if found is not None and moment is not None else None

    in_bed_now = any(r.status in IN_BED for r in referrals)
    return Journey(found_at=found, first_referral_at=first_referral, first_bed_at=first_bed,
                   to_referral=since_found(first_referral), to_bed=since_found(first_bed),
                   waiting=since_found(at) if first_bed is None and not in_bed_now else None)


def unplaced_alert_after() -> timedelta:
    return timedelta(hours=current_app.config["UNPLACED_ALERT_HOURS"])


def alert_unplaced_children(at: datetime | None = None) -> list[Child]:
    """Alert, once per child, that a child found at a police station or a detention centre
    has no live referral UNPLACED_ALERT_HOURS after being found, and never reached a bed: the registering
    organization's active caseworkers and every active oversight user are told the case
    reference, the kind of place and the hours, never the child's name. Each child is
    claimed by one conditional UPDATE (unplaced_alert_at still empty), so servers running
    this at once alert once. Returns the children alerted."""
    at = at or now()
    after = unplaced_alert_after()
    # Waiting still: no live referral now, and never a bed (a child placed, then discharged,
    # is no longer waiting where they were found).
    has_live = exists().where(Referral.child_id == Child.id,
                              or_(Referral.status.in_(LIVE), Referral.arrived_at.is_not(None)))
    candidates = db.session.scalars(
        select(Child.id).where(Child.found_place.in_(WAITING_PLACES), Child.unplaced_alert_at.is_(None),
                               Child.found_at.is_not(None), Child.found_at <= at - after, ~has_live)
        .order_by(Child.id)).all()  # claimed in id order (coordination/transactions.py)
    alerted = []
    oversight = None
    for child_id in candidates:
        claimed = db.session.execute(
            update(Child).where(Child.id == child_id, Child.unplaced_alert_at.is_(None), ~has_live)
            .values(unplaced_alert_at=at).execution_options(synchronize_session=False)).rowcount
        if not claimed:
            continue  # another server alerted first, or a referral was made meanwhile
        child = db.session.get(Child, child_id)
        db.session.refresh(child, ["unplaced_alert_at"])
        hours = int((at - child.found_at).total_seconds() // 3600)
        params = {"ref": child.case_reference, "place": child.found_place, "hours": hours}
        caseworkers = db.session.scalars(select(User).join(User.organization).where(
            User.organization_id == child.organization_id, User.role == CASEWORKER, User.active.is_(True),
            Organization.active.is_(True)).order_by(User.id)).all()
        if oversight is None:
            oversight = db.session.scalars(select(User).join(User.organization).where(
                User.role == OVERSIGHT, User.active.is_(True), Organization.active.is_(True))
                .order_by(User.id)).all()
        # The caseworkers' copy leads to the child's page; oversight's to nothing (it may not open it).
        notify(caseworkers, None, "found.unplaced", {**params, "child_id": child.id})
        notify(oversight, None, "found.unplaced", params)
        audit.record("child.unplaced_alert", "child", child.id,
                     {**params, "caseworkers": len(caseworkers), "oversight": len(oversight)})
        alerted.append(child)
    db.session.flush()
    return alerted
