"""What is free right now: each pool's beds less the holds of referrals that still run.

A hold counts against a pool (`BedPool.held`) until expire-holds closes its referral; one
past its deadline already no longer does. So every read of availability (the bed board, a
shelter's page, the pools suggested for a child) counts the overdue holds in the same
statement. It sits above beds and referrals because it needs both.
"""
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Select, case, func, select
from sqlalchemy.orm import contains_eager, with_expression

from .accounts.models import Organization, Region
from .beds.models import BedPool, Shelter
from .clock import now
from .extensions import db
from .referrals.models import Referral


@dataclass(frozen=True)
class BoardFilter:
    region_id: int | None = None
    sex: str | None = None
    age: int | None = None
    free_only: bool = False


def overdue_holds(at: datetime):
    """How many of a pool's holds are past their deadline at `at`, as a correlated subquery."""
    return (
        select(func.count(Referral.id))
        .where(Referral.pool_id == BedPool.id, Referral.holds_bed.is_(True), Referral.hold_until <= at)
        .correlate(BedPool)
        .scalar_subquery()
    )


def with_live_holds(query: Select, at: datetime | None = None) -> Select:
    """Load pools so that `available` leaves out holds that have run out."""
    return query.options(with_expression(BedPool.overdue_holds, overdue_holds(at or now())))


def pools_of(shelter: Shelter) -> list[BedPool]:
    return list(db.session.scalars(with_live_holds(
        select(BedPool).where(BedPool.shelter_id == shelter.id).order_by(BedPool.id))
        .execution_options(populate_existing=True)))


def load_pool(pool_id: int) -> BedPool | None:
    """A pool read afresh from the database, with its live holds counted."""
    return db.session.scalar(with_live_holds(select(BedPool).where(BedPool.id == pool_id))
                             .execution_options(populate_existing=True))


def offered():
    """The conditions for a pool to be offered at all: its shelter is open and the
    organization running it is active (the tables of Shelter and Organization joined)."""
    return (Shelter.status == "open", Organization.active.is_(True))


def free_beds(at: datetime):
    """A pool's free beds at `at` as one SQL expression, the rule of `BedPool.available`:
    capacity less the beds in use, the overdue holds given back, never below zero."""
    free = BedPool.capacity - BedPool.in_use + overdue_holds(at)
    return case((free > 0, free), else_=0)


def offered_pools(at: datetime | None = None) -> Select:
    """One row per offered pool: its region, whom it admits, its counts and its free beds
    now, for aggregates to sum (the overview, the reports) in the database."""
    at = at or now()
    return (
        select(BedPool.id.label("pool_id"), Shelter.region_id.label("region_id"),
               BedPool.admits_sex.label("admits_sex"), BedPool.min_age.label("min_age"),
               BedPool.max_age.label("max_age"), BedPool.capacity.label("capacity"),
               BedPool.occupied.label("occupied"), free_beds(at).label("free"))
        .join(BedPool.shelter).join(Shelter.organization)
        .where(*offered())
    )


def board_query(f: BoardFilter, at: datetime | None = None) -> Select:
    """Every open shelter's pools, filtered, with shelter and region loaded in
    the same statement, so the board costs the same however many shelters there are."""
    at = at or now()
    query = with_live_holds(
        select(BedPool)
        .join(BedPool.shelter)
        .join(Shelter.region)
        .options(contains_eager(BedPool.shelter).contains_eager(Shelter.region))
        .join(Shelter.organization)
        .where(*offered())
        .order_by(Region.name, Shelter.name, BedPool.id),
        at,
    )
    if f.region_id is not None:
        query = query.where(Shelter.region_id == f.region_id)
    if f.sex is not None:
        query = query.where(BedPool.admits_sex.in_((f.sex, "any")))
    if f.age is not None:
        query = query.where(BedPool.min_age <= f.age, BedPool.max_age >= f.age)
    if f.free_only:
        query = query.where(
            BedPool.capacity - BedPool.in_use + overdue_holds(at) > 0
        )
    return query


def board(f: BoardFilter) -> list[BedPool]:
    return list(db.session.scalars(board_query(f)))
