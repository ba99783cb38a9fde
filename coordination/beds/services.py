"""The rules for bed counts: who may change them, how, and how fresh they are.

What referrals do to a pool (holds running out, children placed) is not known here: the
operations in beds/operations.py settle it and pass it in, so beds never calls upward."""
from datetime import datetime, timedelta

from flask_babel import gettext as _, ngettext
from sqlalchemy import insert, or_, update
from sqlalchemy.orm.attributes import set_committed_value

from ..accounts.models import ADMIN, User
from ..audit import services as audit
from ..clock import now
from ..errors import Conflict, InvalidInput, NotAllowed
from ..extensions import db
from .models import BedPool, BedUpdate, Shelter, beds_in_use
from .parts import guards_region_of, keeps_shelter

STAFF_COUNTS = ("occupied", "out_of_service")


def can_edit_shelter(user: User, shelter: Shelter) -> bool:
    """Only shelter staff of the organization that runs the shelter keep its counts."""
    return user.is_authenticated and keeps_shelter(user, shelter)


def can_edit_pool(user: User, pool: BedPool) -> bool:
    return can_edit_shelter(user, pool.shelter)


def can_see_address(user: User, shelter: Shelter) -> bool:
    """The address is for the shelter's own staff, the region's guardianship officers and admins."""
    return user.role == ADMIN or guards_region_of(user, shelter) or keeps_shelter(user, shelter)


def _require_edit(user: User, pool: BedPool) -> None:
    if not can_edit_pool(user, pool):
        raise NotAllowed(_("Only staff of the organization running this shelter can change its counts."))


def adjust_count(pool: BedPool, user: User, field: str, delta: int, expected_version: int, *,
                 placed: int) -> BedPool:
    """Move occupied or out-of-service by one bed, as seen at `expected_version`."""
    _require_edit(user, pool)
    if field not in STAFF_COUNTS or delta not in (-1, 1):
        raise InvalidInput(_("Only occupied and out-of-service beds can be moved, one at a time."))
    _check_version(pool, expected_version)
    counts = {f: getattr(pool, f) for f in STAFF_COUNTS}
    counts[field] += delta
    label = _("occupied") if field == "occupied" else _("out of service")
    reason = _("%(what)s %(sign)s1", what=label, sign="+" if delta > 0 else "−")
    return _write_counts(pool, user, expected_version, placed=placed, reason=reason,
                         oos_reason=pool.out_of_service_reason, **counts)


def set_counts(pool: BedPool, user: User, occupied: int, out_of_service: int,
               out_of_service_reason: str, expected_version: int, *, placed: int) -> BedPool:
    """Set both staff-kept counts at once, as a person typing them in would."""
    _require_edit(user, pool)
    _check_version(pool, expected_version)
    if out_of_service == 0:
        out_of_service_reason = ""
    return _write_counts(pool, user, expected_version, placed=placed, occupied=occupied,
                         out_of_service=out_of_service, oos_reason=out_of_service_reason,
                         reason=_("counts edited"))


def confirm_counts(pool: BedPool, user: User, expected_version: int, *, placed: int) -> BedPool:
    """Record that the counts shown, unchanged, are still true right now."""
    _require_edit(user, pool)
    _check_version(pool, expected_version)
    return _write_counts(pool, user, expected_version, placed=placed, occupied=pool.occupied,
                         out_of_service=pool.out_of_service,
                         oos_reason=pool.out_of_service_reason, reason=_("counts confirmed"))


def _check_version(pool: BedPool, expected_version: int) -> None:
    if pool.version != expected_version:
        raise Conflict(_("Someone else changed this pool while you were looking at it. "
                         "These are the current numbers; nothing of yours was saved."), pool)


# What a count change answers with: every column it wrote, and those that decide what the
# row shows afterwards (`held` may have moved since the pool was read).
_WRITTEN = (BedPool.occupied, BedPool.out_of_service, BedPool.out_of_service_reason, BedPool.last_confirmed_at,
            BedPool.version, BedPool.held, BedPool.capacity)


def _write_counts(pool: BedPool, user: User, expected_version: int, *, placed: int, occupied: int,
                  out_of_service: int, oos_reason: str, reason: str) -> BedPool:
    """Write the counts in one conditional UPDATE: it matches only if nobody changed the
    pool since `expected_version` and the beds still fit, so the check and the write
    cannot be separated by another request. Occupied never goes below the `placed`
    children that referrals placed here (their discharge frees those beds); `pool.held`
    must already leave out holds past their deadline."""
    if occupied < 0 or out_of_service < 0:
        raise InvalidInput(_("A count cannot go below zero."))
    if occupied < placed:
        raise InvalidInput(ngettext(
            "%(num)s child placed here through a referral is still in this pool; record the "
            "discharge on the referral instead of lowering the count.",
            "%(num)s children placed here through referrals are still in this pool; record their "
            "discharges on the referrals instead of lowering the count.", placed))
    used = beds_in_use(occupied, out_of_service, pool.held)
    if used > pool.capacity:
        raise InvalidInput(_(
            "That would make %(used)s beds occupied, out of service or held in a pool of "
            "%(capacity)s. Nothing was changed.", used=used, capacity=pool.capacity))
    stamp = now()
    written = db.session.execute(
        update(BedPool)
        .where(
            BedPool.id == pool.id,
            BedPool.version == expected_version,
            beds_in_use(occupied, out_of_service, BedPool.held) <= BedPool.capacity,
        )
        .values(
            occupied=occupied,
            out_of_service=out_of_service,
            out_of_service_reason=oos_reason,
            last_confirmed_at=stamp,
            version=BedPool.version + 1,
        )
        .returning(*_WRITTEN)
        .execution_options(synchronize_session=False)
    ).one_or_none()
    if written is None:
        db.session.refresh(pool)
        _check_version(pool, expected_version)
        raise InvalidInput(_("Beds were held for a referral meanwhile; there is no room for "
                             "those counts any more. Nothing was changed."))
    # The row as the UPDATE left it, without reading it again.
    for column, value in zip(_WRITTEN, written):
        set_committed_value(pool, column.key, value)
    record_bed_update(pool, user, reason, at=stamp)
    audit.record("pool.counts", "bed_pool", pool.id, {
        "reason": reason, "occupied": pool.occupied, "out_of_service": pool.out_of_service,
        "held": pool.held, "version": pool.version})
    return pool


def record_bed_update(pool: BedPool, user: User | None, reason: str, at: datetime | None = None) -> None:
    """Append the pool's counts after a change to its history. One INSERT, written at once:
    the history is only ever appended to, so no object needs to stay in the session."""
    db.session.execute(insert(BedUpdate).values(
        pool_id=pool.id, user_id=user.id if user else None, created_at=at or now(),
        capacity=pool.capacity, occupied=pool.occupied, out_of_service=pool.out_of_service,
        held=pool.held, reason=reason[:500],
    ))


# --- freshness -----------------------------------------------------------------------------

FRESH, AGING, STALE = "fresh", "aging", "stale"


def freshness(confirmed_at: datetime | None, at: datetime, fresh_hours: int, stale_hours: int) -> str:
    """Fresh under `fresh_hours`, stale over `stale_hours`, aging between; never confirmed is stale."""
    if confirmed_at is None:
        return STALE
    age_hours = (at - confirmed_at).total_seconds() / 3600
    if age_hours < fresh_hours:
        return FRESH
    if age_hours <= stale_hours:
        return AGING
    return STALE


def is_stale(confirmed_at, at: datetime, stale_hours: int):
    """The rule of `freshness` for STALE as an SQL condition on a column of confirmation
    times: never confirmed, or confirmed more than `stale_hours` before `at`."""
    return or_(confirmed_at.is_(None), confirmed_at < at - timedelta(hours=stale_hours))


# --- holds: the only code that moves `held` ------------------------------------------------

def take_hold(pool_id: int) -> bool:
    """Hold one bed if one is free, in one conditional UPDATE: the check and the write are
    a single statement, so concurrent referrals can never both take the last bed."""
    result = db.session.execute(
        update(BedPool)
        .where(BedPool.id == pool_id,
               BedPool.in_use < BedPool.capacity)
        .values(held=BedPool.held + 1)
        .execution_options(synchronize_session=False))
    return result.rowcount == 1


def release_hold(pool_id: int) -> None:
    release_holds(pool_id, 1)


def release_holds(pool_id: int, count: int) -> None:
    """`count` held beds of the pool are free again (never below zero held)."""
    db.session.execute(
        update(BedPool).where(BedPool.id == pool_id, BedPool.held >= count)
        .values(held=BedPool.held - count).execution_options(synchronize_session=False))


def occupy_held_bed(pool_id: int, user: User, reason: str, at: datetime) -> None:
    """The child arrived: their held bed becomes an occupied one, in the same statement."""
    db.session.execute(
        update(BedPool).where(BedPool.id == pool_id, BedPool.held > 0)
        .values(held=BedPool.held - 1, occupied=BedPool.occupied + 1,
                version=BedPool.version + 1, last_confirmed_at=at)
        .execution_options(synchronize_session=False))
    record_bed_update(db.session.get(BedPool, pool_id, populate_existing=True), user, reason, at=at)


def free_occupied_bed(pool_id: int, user: User, reason: str, at: datetime) -> None:
    """The child left: one occupied bed is free again (never below zero)."""
    db.session.execute(
        update(BedPool).where(BedPool.id == pool_id, BedPool.occupied > 0)
        .values(occupied=BedPool.occupied - 1, version=BedPool.version + 1, last_confirmed_at=at)
        .execution_options(synchronize_session=False))
    record_bed_update(db.session.get(BedPool, pool_id, populate_existing=True), user, reason, at=at)
