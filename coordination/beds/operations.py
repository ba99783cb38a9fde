"""What shelter staff do to a pool's counts, one operation per action.

Each operation brings what referrals do to the pool into the bed rules of beds.services:
holds past their deadline are closed first (as expire-holds would, with their timeline,
audit events and notifications), so they no longer count against the new numbers, and the
children placed through referrals set how low `occupied` may go. Nothing here commits.
"""
from ..accounts.models import User
from ..extensions import db
from ..referrals import services as referrals
from . import services as beds
from .models import BedPool


def _settled(pool: BedPool) -> int:
    """Close the pool's overdue holds; the number of children placed in it through referrals."""
    if referrals.expire_overdue_holds(pool_id=pool.id):
        db.session.refresh(pool)
    return referrals.placed_in(pool.id)


def adjust_count(pool: BedPool, user: User, field: str, delta: int, expected_version: int) -> BedPool:
    """One bed more or less occupied or out of service (the +1/−1 buttons)."""
    return beds.adjust_count(pool, user, field, delta, expected_version, placed=_settled(pool))


def set_counts(pool: BedPool, user: User, occupied: int, out_of_service: int, out_of_service_reason: str,
               expected_version: int) -> BedPool:
    """Both staff-kept counts typed in at once."""
    return beds.set_counts(pool, user, occupied, out_of_service, out_of_service_reason, expected_version,
                           placed=_settled(pool))


def confirm_counts(pool: BedPool, user: User, expected_version: int) -> BedPool:
    """The counts shown are still true right now."""
    return beds.confirm_counts(pool, user, expected_version, placed=_settled(pool))
