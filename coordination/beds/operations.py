"""What shelter staff do to a pool's counts, one operation per action.

Each operation brings what referrals do to the pool into the bed rules of beds.services:
holds past their deadline are closed first (as expire-holds would, with their timeline,
audit events and notifications), so they no longer count against the new numbers, and the
children placed through referrals set how low `occupied` may go. Nothing here commits.
"""
from sqlalchemy import select
from sqlalchemy.orm import joinedload, with_expression

from .. import availability
from ..accounts.models import User
from ..clock import now
from ..extensions import db
from ..referrals import services as referrals
from . import services as beds
from .models import BedPool


def pool_to_change(pool_id: int) -> BedPool | None:
    """The pool a count change is about, read in one statement with all the change asks of
    it: its shelter (who may change it), its holds past their deadline and the children
    placed in it through referrals."""
    return db.session.scalar(
        availability.with_live_holds(select(BedPool).where(BedPool.id == pool_id))
        .options(joinedload(BedPool.shelter, innerjoin=True),
                 with_expression(BedPool.placed_children, referrals.placed_children()))
        .execution_options(populate_existing=True))


def _settled(pool: BedPool) -> int:
    """Close the pool's overdue holds; the number of children placed in it through referrals.

    Both are known from reading the pool (`pool_to_change`), or else counted in one
    statement; holds are closed only when some ran out. A placement or a discharge that
    commits after that reading also moves the pool's version, so the count change's
    conditional UPDATE, which wants the version the person saw, then matches nothing and the
    change is refused as a conflict: the number of children placed cannot be stale."""
    if pool.placed_children is None:
        overdue, placed = referrals.overdue_and_placed(pool.id, now())
    else:
        overdue, placed = pool.overdue_holds, pool.placed_children
    if overdue:
        # Read again even if another server closed them first: `held` has moved either way,
        # and the holds counted as overdue no longer are.
        referrals.expire_overdue_holds(pool_id=pool.id)
        db.session.refresh(pool)
    return placed


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
