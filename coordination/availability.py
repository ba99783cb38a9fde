"""What is free right now: each pool's beds less the holds of referrals that still run.

A hold counts against a pool (`BedPool.held`) until expire-holds closes its referral; one
past its deadline already no longer does. So every read of availability (the bed board, a
shelter's page, the pools suggested for a child) counts the overdue holds in the same
statement. It sits above beds and referrals because it needs both.
"""
import hashlib
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Select, case, func, select
from sqlalchemy.orm import contains_eager, with_expression

from .accounts.models import Organization, Region
from .beds.models import BedPool, Shelter
from .beds.services import freshness
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


BOARD_PAGE = 100  # pools on one page of the board: a region's board fits on one


@dataclass(frozen=True)
class BoardPage:
    pools: list[BedPool]
    number: int        # 1 for the first page
    more: bool         # whether another page follows

    @property
    def first(self) -> int:
        """The position of this page's first pool on the whole board (1 for the first)."""
        return (self.number - 1) * BOARD_PAGE + 1


def _board_rows(query: Select, f: BoardFilter, at: datetime) -> Select:
    """The board's rows and their order, filtered; a page is BOARD_PAGE of them."""
    query = (query.join(BedPool.shelter).join(Shelter.region).join(Shelter.organization)
             .where(*offered()).order_by(Region.name, Shelter.name, BedPool.id))
    if f.region_id is not None:
        query = query.where(Shelter.region_id == f.region_id)
    if f.sex is not None:
        query = query.where(BedPool.admits_sex.in_((f.sex, "any")))
    if f.age is not None:
        query = query.where(BedPool.min_age <= f.age, BedPool.max_age >= f.age)
    if f.free_only:
        query = query.where(BedPool.capacity - BedPool.in_use + overdue_holds(at) > 0)
    return query


def _page_of(query: Select, number: int) -> Select:
    """One more row than a page holds, to know whether another page follows without a count."""
    return query.limit(BOARD_PAGE + 1).offset((number - 1) * BOARD_PAGE)


def board(f: BoardFilter, number: int = 1, at: datetime | None = None) -> BoardPage:
    """One page of the board's pools, with shelter and region loaded in the same statement,
    so a page costs the same however many shelters there are."""
    at = at or now()
    query = with_live_holds(select(BedPool).options(contains_eager(BedPool.shelter).contains_eager(Shelter.region)), at)
    pools = list(db.session.scalars(_page_of(_board_rows(query, f, at), number)))
    return BoardPage(pools[:BOARD_PAGE], number, len(pools) > BOARD_PAGE)


# What a page of the board shows of each pool, beside the words every page repeats: if none
# of it changed, neither did the page. Holds do not bump a pool's version, so they count here.
_SHOWN = (BedPool.id, BedPool.version, BedPool.capacity, BedPool.held, BedPool.occupied,
          BedPool.out_of_service, BedPool.last_confirmed_at, BedPool.label, Shelter.name, Shelter.region_id,
          Region.name, Region.name_ru, Region.name_en)


def board_state(f: BoardFilter, number: int = 1, at: datetime | None = None) -> list[tuple]:
    """What one page of the board shows, read in one small statement: what a poll compares
    to learn whether the page changed (board_version)."""
    at = at or now()
    query = _board_rows(select(*_SHOWN, overdue_holds(at)), f, at)
    rows = [tuple(row) for row in db.session.execute(_page_of(query, number))]
    return rows[:BOARD_PAGE] + [len(rows) > BOARD_PAGE]


def shown_state(page: BoardPage) -> list[tuple]:
    """board_state, read off a page already loaded."""
    return [(p.id, p.version, p.capacity, p.held, p.occupied, p.out_of_service, p.last_confirmed_at, p.label,
             p.shelter.name, p.shelter.region_id, p.shelter.region.name, p.shelter.region.name_ru,
             p.shelter.region.name_en, p.overdue_holds) for p in page.pools] + [page.more]


def board_version(state: list[tuple], at: datetime, fresh_hours: int, stale_hours: int, *context) -> str:
    """A short token that changes whenever the page of the board would: its pools' numbers
    and names, how fresh each pool's counts are at `at` (which changes with time alone), and
    whatever else the page depends on (`context`: the filters, the reader's language, day
    and abilities)."""
    levels = [freshness(row[6], at, fresh_hours, stale_hours) for row in state[:-1]]
    return hashlib.sha256(repr((state, levels, context)).encode()).hexdigest()[:24]
