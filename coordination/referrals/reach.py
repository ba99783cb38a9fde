"""Whose names a person may see, said of children: the need-to-know of DESIGN.md as one
condition on a query of children, for the pages that reach a child other than through one
referral (a child's case notes, the search in every page's header).

It says of children what `services.can_see_child_name` says of one referral: caseworkers
see the names of their organization's children; shelter staff those of the children one of
their shelters accepted; guardianship officers those of the children referred (past the
draft) to a shelter of their region; oversight and admin never a name. A caseworker's
organization is always the child's: only the child's organization refers the child.
"""
from sqlalchemy import Select, false, select

from ..accounts.models import CASEWORKER, GUARDIANSHIP, SHELTER_STAFF, User
from ..beds.models import BedPool, Shelter
from ..beds.parts import guards_region_of, keeps_shelter
from ..extensions import db
from .models import DRAFT, Child, Referral


def names_seen_by(user: User):
    """The condition a child meets when `user` may see the child's name."""
    if user.role == CASEWORKER:
        return Child.organization_id == user.organization_id
    # The children of the referrals they see, read from those referrals (a few shelters' or a
    # region's), never by asking of every child in the country whether it was referred there.
    referred_there = (select(Referral.child_id).join(BedPool, Referral.pool_id == BedPool.id)
                      .join(Shelter, BedPool.shelter_id == Shelter.id))
    if user.role == SHELTER_STAFF:
        return Child.id.in_(referred_there.where(keeps_shelter(user, Shelter), Referral.accepted_at.is_not(None)))
    if user.role == GUARDIANSHIP:
        return Child.id.in_(referred_there.where(guards_region_of(user, Shelter), Referral.status != DRAFT))
    return false()


def may_see_any_name(user: User) -> bool:
    """Oversight and admin never see a child's name, so they never search for one."""
    return user.role in (CASEWORKER, SHELTER_STAFF, GUARDIANSHIP)


def named_children(user: User) -> Select:
    """The children whose names `user` may see."""
    return select(Child).where(names_seen_by(user))


def named_child_for(user: User, child_id: int) -> Child | None:
    """The child, if `user` may see the child's name; None, exactly as for an unknown id, otherwise."""
    return db.session.scalar(named_children(user).where(Child.id == child_id))
