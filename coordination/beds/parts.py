"""Who plays which part for a shelter, each written once and asked of a record or of a query.

Each predicate takes a user and a shelter, and either may be a record or its class:
`keeps_shelter(user, shelter)` answers True or False; `keeps_shelter(user, Shelter)` is the
condition a query of shelters filters by (which shelters does this person keep?), and
`keeps_shelter(User, shelter)` the condition on users (who keeps this shelter?).
"""
from sqlalchemy import and_, false

from ..accounts.models import GUARDIANSHIP, SHELTER_STAFF


def all_of(*conditions):
    """`and` for plain truths and SQL conditions alike: True or False when every condition is
    a plain truth, else one SQL condition (which is simply false when a plain truth is false)."""
    truths = [c for c in conditions if isinstance(c, bool)]
    clauses = [c for c in conditions if not isinstance(c, bool)]
    if not all(truths):
        return false() if clauses else False
    if not clauses:
        return True
    return clauses[0] if len(clauses) == 1 else and_(*clauses)


def is_shelter_staff(user) -> bool:
    """Shelter staff keep the counts of their organization's shelters."""
    return user.role == SHELTER_STAFF


def keeps_shelter(user, shelter):
    """Shelter staff of the organization that runs the shelter: they keep its counts, answer
    referrals to its pools and see its address."""
    return all_of(user.role == SHELTER_STAFF, user.organization_id == shelter.organization_id)


def guards_region_of(user, shelter):
    """A guardianship officer whose body's region is the shelter's: they decide placements
    there and see the address."""
    return all_of(user.role == GUARDIANSHIP, user.region_id == shelter.region_id)
