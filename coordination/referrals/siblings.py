"""Brothers and sisters: linked on their records, referred together to one shelter, held all
or none, answered and decided all together, placed and discharged one by one.

The rules:
- A caseworker of the children's organization links two of its children as siblings (and
  unlinks one), each step in the audit trail. Another organization's child is never found.
- A group referral holds one bed for each sibling in one shelter, in one transaction: every
  member is submitted through the state machine (services.move), and if one finds no bed the
  whole transaction rolls back, so nothing is held for any of them.
- A step MOVES marks `together` (submit, accept, decline, approve, reject, and withdrawing
  all the siblings) is taken for every live member at once, in one transaction; arrival,
  discharge and withdrawing one sibling (a person's deliberate choice, with a reason) are
  taken one by one. Holds taken or renewed together share one deadline, so they expire
  together.

Lock order (coordination/transactions.py): the members' referral rows first, in id order;
then the overdue holds of their pools; then the pools, in id order."""
from dataclasses import dataclass, field

from flask import current_app
from flask_babel import gettext as _, ngettext
from sqlalchemy import select, update
from sqlalchemy.orm import contains_eager, joinedload

from .. import availability, languages as spoken
from ..accounts.models import CASEWORKER, User
from ..audit import services as audit
from ..beds.models import BedPool, Shelter
from ..clock import now
from ..errors import DomainError, InvalidFields, InvalidInput, InvalidMove, NoBedAvailable, NotAllowed
from ..extensions import db
from . import services
from .models import HOLDING, LIVE, Child, Referral, ReferralGroup, SiblingGroup

# --- linking ---------------------------------------------------------------------------------


def may_link(user: User, child: Child) -> bool:
    """Caseworkers of the child's organization link and unlink its siblings."""
    return user.role == CASEWORKER and user.organization_id == child.organization_id


def _require_link(user: User, child: Child) -> None:
    if not may_link(user, child):
        raise NotAllowed(_("Only caseworkers of the children's organization link them as siblings."))


def siblings_of(child: Child) -> list[Child]:
    """The child's brothers and sisters on record, oldest registration first (not the child)."""
    if child.sibling_group_id is None:
        return []
    return list(db.session.scalars(select(Child).where(
        Child.sibling_group_id == child.sibling_group_id, Child.id != child.id).order_by(Child.id)))


def group_limit() -> int:
    return current_app.config["SIBLING_GROUP_LIMIT"]


def link_siblings(user: User, child: Child, case_reference: str) -> Child:
    """Link `child` and the child of the same organization with `case_reference` as
    siblings: one of them joins the other's group, or two groups become one, or a new group
    holds both. A child of another organization is answered as an unknown case reference.
    Returns the sibling."""
    _require_link(user, child)
    reference = (case_reference or "").strip().upper()
    other = db.session.scalar(select(Child).where(
        Child.case_reference == reference, Child.organization_id == child.organization_id)) if reference else None
    if other is None:
        raise InvalidInput(_("No child of your organization has that case reference."), field="case_reference")
    if other.id == child.id:
        raise InvalidInput(_("A child cannot be their own sibling."), field="case_reference")
    if child.sibling_group_id is not None and child.sibling_group_id == other.sibling_group_id:
        raise InvalidInput(_("%(ref)s is already linked as a sibling.", ref=other.case_reference),
                           field="case_reference")
    joined = {c.id for c in (child, other)} | {c.id for c in siblings_of(child)} | {c.id for c in siblings_of(other)}
    if len(joined) > group_limit():
        raise InvalidInput(_("A sibling group holds at most %(most)s children.", most=group_limit()),
                           field="case_reference")
    group_id = child.sibling_group_id or other.sibling_group_id
    if group_id is None:
        group = SiblingGroup(organization_id=child.organization_id, created_by_id=user.id, created_at=now())
        db.session.add(group)
        db.session.flush()
        group_id = group.id
    merged = [gid for gid in {child.sibling_group_id, other.sibling_group_id} if gid not in (None, group_id)]
    if merged:  # two families of siblings are one: the other group's children join this one
        db.session.execute(update(Child).where(Child.sibling_group_id.in_(merged))
                           .values(sibling_group_id=group_id).execution_options(synchronize_session=False))
        db.session.execute(SiblingGroup.__table__.delete().where(SiblingGroup.id.in_(merged)))
    child.sibling_group_id = other.sibling_group_id = group_id
    db.session.flush()
    for one, sibling in ((child, other), (other, child)):
        audit.record("child.sibling_link", "child", one.id, {
            "case_reference": one.case_reference, "sibling": sibling.case_reference, "sibling_group": group_id})
    db.session.flush()
    db.session.expire(child)
    db.session.expire(other)
    return other


def unlink_sibling(user: User, child: Child) -> None:
    """Take the child out of its sibling group (linked by mistake, or not a sibling after
    all). A group left with one child is no group: it goes too. Referrals already made
    together stay as they are."""
    _require_link(user, child)
    if child.sibling_group_id is None:
        raise InvalidMove(_("%(ref)s is not linked to any sibling.", ref=child.case_reference))
    group_id = child.sibling_group_id
    left = siblings_of(child)
    child.sibling_group_id = None
    if len(left) <= 1:
        for other in left:
            other.sibling_group_id = None
        db.session.flush()
        db.session.execute(SiblingGroup.__table__.delete().where(SiblingGroup.id == group_id))
    audit.record("child.sibling_unlink", "child", child.id, {
        "case_reference": child.case_reference, "siblings": [c.case_reference for c in left],
        "sibling_group": group_id})
    db.session.flush()


# --- which shelter can take them all ---------------------------------------------------------

@dataclass
class ShelterOption:
    """One shelter for a group of siblings: the pool each sibling would go to (None where
    no pool admits that sibling), and whether the free beds suffice for all of them now."""
    shelter: Shelter
    pools: dict            # child id -> BedPool or None
    room_for: int          # how many of the siblings have a free bed here now
    whole: bool            # every sibling fits a pool and has a free bed now
    rank: tuple = ()
    reasons: list = field(default_factory=list)


def assign_pools(children: list[Child], pools: list[BedPool]) -> tuple[dict, int]:
    """Each sibling to a pool of one shelter that admits them, so that as many as possible
    have a free bed: the sibling with the fewest pools to choose from chooses first, and
    takes the pool with the most beds left. Returns (child id -> pool or None, how many
    have a free bed)."""
    left = {pool.id: pool.available for pool in pools}
    fitting = {child.id: [p for p in pools if services.pool_fits_child(p, child)] for child in children}
    chosen, room = {}, 0
    for child in sorted(children, key=lambda c: (len(fitting[c.id]), c.id)):
        options = sorted(fitting[child.id], key=lambda p: (-left[p.id], p.id))
        if not options:
            chosen[child.id] = None
            continue
        pool = options[0]
        chosen[child.id] = pool
        if left[pool.id] > 0:
            left[pool.id] -= 1
            room += 1
    return chosen, room


def _open_pools_by_shelter(shelter_id: int | None = None) -> dict[int, list[BedPool]]:
    query = availability.with_live_holds(
        select(BedPool).join(BedPool.shelter).join(Shelter.region).join(Shelter.organization)
        .options(contains_eager(BedPool.shelter).contains_eager(Shelter.region))
        .where(*availability.offered()).order_by(BedPool.id), now())
    if shelter_id is not None:
        query = query.where(BedPool.shelter_id == shelter_id)
    by_shelter: dict[int, list[BedPool]] = {}
    for pool in db.session.scalars(query.execution_options(populate_existing=True)):
        by_shelter.setdefault(pool.shelter_id, []).append(pool)
    return by_shelter


def option_for(shelter_pools: list[BedPool], children: list[Child]) -> ShelterOption:
    shelter = shelter_pools[0].shelter
    chosen, room = assign_pools(children, shelter_pools)
    whole = room == len(children)
    first = children[0]
    languages = {code for child in children for code in child.languages if code in shelter.languages}
    needs = {need for child in children for need in child.needs if need in shelter.services}
    reasons = []
    if whole:
        reasons.append(ngettext("takes the sibling now", "takes all %(num)s siblings now", len(children)))
    else:
        reasons.append(_("room for %(room)s of the %(all)s siblings now", room=room, all=len(children)))
    for child in children:
        if chosen[child.id] is None:
            reasons.append(_("no pool here admits %(ref)s", ref=child.case_reference))
    reasons.append(_("in the children's region") if shelter.region_id == first.region_id
                   else _("in %(region)s", region=shelter.region.local_name))
    if languages:
        reasons.append(_("speaks %(langs)s", langs=", ".join(spoken.language_names(sorted(languages)))))
    rank = (whole, room, all(chosen.values()), shelter.region_id == first.region_id, len(languages), len(needs),
            sum(p.available for p in shelter_pools))
    return ShelterOption(shelter, chosen, room, whole, rank, reasons)


def shelter_options(children: list[Child], limit: int = 10) -> list[ShelterOption]:
    """Open shelters for a group of siblings, best first: those whose pools can take every
    sibling now (each fits a pool by sex and age, and the free beds suffice), then those
    with room for most of them, then in the children's region, a language in common, the
    children's needs among the shelter's services, and the most free beds. A shelter no
    sibling fits is not offered."""
    if not children:
        return []
    options = []
    for pools in _open_pools_by_shelter().values():
        option = option_for(pools, children)
        if any(option.pools.values()):
            options.append(option)
    options.sort(key=lambda o: (o.rank, -o.shelter.id), reverse=True)
    return options[:limit]


# --- referring them together -----------------------------------------------------------------

def to_refer_with(child: Child) -> list[Child]:
    """The child and its siblings who have no live referral: those who can be referred together."""
    everyone = [child] + siblings_of(child)
    live = set(db.session.scalars(select(Referral.child_id).where(
        Referral.child_id.in_([c.id for c in everyone]), Referral.status.in_(LIVE))))
    return [c for c in everyone if c.id not in live]


def refer_together(user: User, children: list[Child], shelter_id: int | None, urgency: str,
                   note: str) -> list[Referral]:
    """Refer siblings together to one shelter and hold a bed for each, all or none: one
    referral per sibling, each to the pool of that shelter that admits them, submitted in
    one transaction. If one of them finds no bed, nothing is held for any of them (the
    caller rolls back, as on every refusal) and the refusal says so. Returns the referrals,
    oldest first."""
    if not children or user.role != CASEWORKER or any(c.organization_id != user.organization_id for c in children):
        raise NotAllowed(_("Only caseworkers of the children's organization refer them."))
    groups = {c.sibling_group_id for c in children}
    if len(children) < 2 or len(groups) != 1 or None in groups:
        raise InvalidFields({"children": _("Choose at least two children linked as siblings.")})
    live = db.session.scalars(select(Child.case_reference).join(Referral, Referral.child_id == Child.id).where(
        Child.id.in_([c.id for c in children]), Referral.status.in_(LIVE)).order_by(Child.id)).all()
    if live:
        raise InvalidFields({"children": _("%(refs)s already has a live referral; leave them out or withdraw it "
                                           "first.", refs=", ".join(live))})
    no_consent = [c.case_reference for c in children if not c.has_consent]
    if no_consent:
        raise InvalidFields({"children": _("Record the consent to share of %(refs)s first.",
                                           refs=", ".join(no_consent))})
    pools = _open_pools_by_shelter(shelter_id).get(shelter_id) if shelter_id is not None else None
    if not pools:
        raise InvalidFields({"shelter": _("Choose one of the shelters offered; this one is not open for referrals.")})
    option = option_for(pools, children)
    unplaced = [c.case_reference for c in children if option.pools[c.id] is None]
    if unplaced:
        raise InvalidFields({"shelter": _("No pool of this shelter admits %(refs)s (sex or age); choose a shelter "
                                          "that takes all the siblings.", refs=", ".join(unplaced))})
    at = now()
    group = ReferralGroup(shelter_id=shelter_id, referring_organization_id=user.organization_id,
                          caseworker_id=user.id, created_at=at)
    db.session.add(group)
    db.session.flush()
    drafts = []
    for child in sorted(children, key=lambda c: c.id):
        referral = services.create_referral(user, child, option.pools[child.id], urgency, note)
        referral.group_id = group.id
        drafts.append(referral)
    db.session.flush()
    audit.record("referral.group", "shelter", shelter_id, {
        "referral_group": group.id, "referrals": [r.id for r in drafts], "shelter": shelter_id,
        "case_references": [c.case_reference for c in sorted(children, key=lambda c: c.id)]})
    take_step(drafts[0], "submit", user)
    return drafts


def members_of(referral: Referral) -> list[Referral]:
    """Every referral made together with this one (itself included), oldest first."""
    if referral.group_id is None:
        return [referral]
    return list(db.session.scalars(
        select(Referral).where(Referral.group_id == referral.group_id)
        .options(joinedload(Referral.child), joinedload(Referral.pool).joinedload(BedPool.shelter))
        .order_by(Referral.id)))


def _lock_members(referral: Referral) -> list[Referral]:
    """The group's referrals read afresh and locked, in id order (the first step of the
    lock order): two people answering the same group at once take turns."""
    return list(db.session.scalars(
        select(Referral).where(Referral.group_id == referral.group_id).order_by(Referral.id)
        .with_for_update().execution_options(populate_existing=True)))


def take_step(referral: Referral, action: str, user: User, *, reason_code: str = "", reason_text: str = "",
              arrived_at=None) -> Referral:
    """Take a step of the state machine on a referral: for siblings referred together and a
    step MOVES marks `together`, for every sibling still where the step starts, at once;
    otherwise for this referral alone (services.move)."""
    step = services.MOVES.get(action)
    if step is None or referral.group_id is None or not step.together:
        return services.move(referral, action, user, reason_code=reason_code, reason_text=reason_text,
                             arrived_at=arrived_at)
    services.require_part(user, step.part, referral)
    members = _lock_members(referral)
    if referral.status not in step.sources:
        # Someone else answered the group first: move() says so, exactly as for one referral.
        return services.move(referral, action, user, with_siblings=True)
    moving = sorted((m for m in members if m.status in step.sources), key=lambda m: (m.pool_id, m.id))
    if step.pool_effect == "hold":
        services.expire_overdue_holds(pool_ids=sorted({m.pool_id for m in moving}))
    if step.pool_effect == "occupy" and arrived_at is None:
        arrived_at = now()  # taken in together: one arrival time, so one decision deadline
    for member in moving:  # the pools in id order: the last step of the lock order
        try:
            services.move(member, action, user, reason_code=reason_code, reason_text=reason_text,
                          arrived_at=arrived_at, with_siblings=True)
        except NoBedAvailable:
            raise NoBedAvailable(_(
                "The siblings could not be held together: no bed is free for %(ref)s in %(pool)s now. Nothing "
                "was held for any of them. Choose a shelter that takes them all.",
                ref=member.child.case_reference, pool=member.pool.label)) from None
        except DomainError as refusal:
            if member.id == referral.id or isinstance(refusal, InvalidFields):
                raise
            raise type(refusal)(_("%(ref)s: %(why)s", ref=member.child.case_reference, why=refusal.message)) from None
    if step.pool_effect in ("hold", "renew"):
        _one_deadline(moving)
    db.session.refresh(referral)
    return referral


def _one_deadline(members: list[Referral]) -> None:
    """Holds taken or renewed together run out together: the earliest deadline for all."""
    deadlines = [m.hold_until for m in members if m.holds_bed and m.hold_until is not None]
    if not deadlines:
        return
    db.session.execute(update(Referral).where(Referral.id.in_([m.id for m in members]), Referral.holds_bed.is_(True))
                       .values(hold_until=min(deadlines)).execution_options(synchronize_session=False))
    for member in members:
        db.session.refresh(member)


def group_panel(user: User, referral: Referral) -> dict | None:
    """What the referral page shows of the siblings referred with this one: each member's
    case reference, status, pool and (to those who may see it) name."""
    if referral.group_id is None:
        return None
    members = members_of(referral)
    named = [m.child for m in members if services.can_see_child_name(user, m)]
    return {"members": members, "named": {c.id for c in named}, "named_children": named,
            "together": [m for m in members if m.status in HOLDING]}
