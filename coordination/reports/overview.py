"""The situation overview: what the people who watch the system need to act on, now.

Admins and oversight see every region, a guardianship officer their own (scope.region_scope).
Each figure is one aggregate statement over the whole scope, so the overview costs the same
handful of queries however many shelters and referrals there are. Nothing here names a child:
counts of children go through scope.shown_count ("<5" to oversight), and a referral's case
reference is given only to readers who may open referrals (guardianship officers, whose scope
is exactly the referrals they may open: those to shelters of their region).

The rules, in the users' words:
- Free beds are counted the way the bed board counts them (availability.free_beds): holds past
  their deadline no longer count, in open shelters of active organizations only.
- By sex and age group: a pool counts under the sex it admits (girls, boys, or both) and under
  every age band of referrals.models.AGE_BANDS its age range reaches (a pool for 10 to 17
  counts under 6–11, 12–14 and 15–17), because a child of any of those bands may be placed
  there. The rows of one sex therefore overlap; they say what a child of that band can find.
- Referrals wait at a stage while their hold still runs: submitted (for the shelter's answer),
  accepted (for the guardianship decision), approved (for the child's arrival). A child taken in
  in an emergency waits, in the bed, for the guardianship decision (emergency_placed) until it
  is made; how many of them are past its deadline (decision_due_at) is counted too. The wait
  is counted from when the referral entered the stage.
- A hold runs out today when its deadline falls before the end of the reader's local day.
- A shelter's counts are stale when any of its pools is stale (beds.services.is_stale); it is
  listed by its least recently confirmed pool, never-confirmed ones first.
- Demand outran beds in a region over the last DEMAND_DAYS days when there were searches that
  found no fitting free bed (DemandSignal, in the child's region), referrals declined for no
  capacity or referrals whose hold expired (both in the region of the shelter asked).
"""
from dataclasses import dataclass, field
from typing import ClassVar
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import and_, case, func, literal_column, or_, select, true, union_all

from .. import availability
from ..accounts.models import Region
from ..beds.models import BedPool, Shelter
from ..beds.services import is_stale
from ..clock import now
from ..extensions import db
from ..i18n import local_today, start_of_local_day
from ..referrals.models import (
    ACCEPTED, AGE_BANDS, APPROVED, DECLINED, EMERGENCY_PLACED, EXPIRED, IN_BED, PLACED, SUBMITTED, Child,
    DemandSignal, Referral,
)
from ..referrals.urgency import overdue_decision
from ..referrals.services import may_list_referrals
from .found import still_waiting
from .scope import NOT_SHOWN, SMALL_COUNT, hides_small_counts, is_hidden, region_scope, shown_count

HOLDING_STAGES = (SUBMITTED, ACCEPTED, APPROVED)
# An emergency placement waits for the guardianship decision with the child already in the bed.
WAITING_STAGES = HOLDING_STAGES + (EMERGENCY_PLACED,)
SEX_ORDER = ("female", "male", "any")
NO_CAPACITY = "no_capacity"  # the decline reason that says the shelter had no bed
DEMAND_DAYS = 30
STALE_SHOWN = 20  # the oldest stale shelters listed; the others are counted
HOLDS_SHOWN = 5   # the next holds running out today that are listed


@dataclass(frozen=True)
class RegionBeds:
    region: Region
    free: int
    capacity: int
    occupied: int


@dataclass(frozen=True)
class GroupBeds:
    sex: str      # what the pools admit: female, male, any
    band: str     # "12–14"
    free: int
    capacity: int


@dataclass(frozen=True)
class Stage:
    status: str
    count: int
    oldest_since: datetime | None    # when the longest-waiting referral entered this stage
    oldest_referral_id: int | None   # only for readers who may open it
    oldest_case: str | None
    overdue: int | None = None       # emergency placements only: how many are past the decision's deadline


@dataclass(frozen=True)
class HoldEnding:
    until: datetime
    status: str
    shelter: str
    region: Region
    referral_id: int | None          # only for readers who may open it
    case_reference: str | None


@dataclass(frozen=True)
class StaleShelter:
    shelter_id: int
    name: str
    phone: str
    region: Region
    confirmed_at: datetime | None    # its least recently confirmed pool; None: a pool never confirmed


@dataclass(frozen=True)
class Shortfall:
    region: Region
    searches: int    # searches that found no fitting free bed
    declined: int    # referrals declined for no capacity
    expired: int     # referrals whose hold ran out
    free: int        # free beds in the region now

    @property
    def unmet(self) -> int:
        return self.searches + self.declined + self.expired


@dataclass
class Overview:
    small_count: ClassVar[int] = SMALL_COUNT  # oversight's counts of children under this show as "<5"
    reader: object
    at: datetime
    regions: list[RegionBeds] = field(default_factory=list)
    groups: list[GroupBeds] = field(default_factory=list)
    placed: list[tuple[Region, int]] = field(default_factory=list)
    stages: list[Stage] = field(default_factory=list)
    holds_today: int = 0
    next_holds: list[HoldEnding] = field(default_factory=list)
    stale: list[StaleShelter] = field(default_factory=list)
    stale_total: int = 0
    shortfalls: list[Shortfall] = field(default_factory=list)
    # Children found who have not reached a bed, by kind of place (reports/found.py), at the top.
    found_waiting: list = field(default_factory=list)

    def longest_found_wait(self, row) -> str:
        """The longest wait of children found at one kind of place, in hours; left out beside
        a count shown as "<5", or of fewer than five timed waits (it would be one child's), or
        when no time was recorded."""
        if row.longest is None or is_hidden(row.count, self.reader) or is_hidden(row.timed, self.reader):
            return NOT_SHOWN
        return str(int(row.longest // 3600))

    def children(self, count: int) -> str:
        """A count of children as this reader may see it ("<5" to oversight for 1 to 4)."""
        return shown_count(count, self.reader)

    def free_beds(self, row: RegionBeds) -> str:
        """A region's free beds, unless the occupied beds are hidden from this reader: beside
        the capacity, the free beds would tell how many are taken."""
        return NOT_SHOWN if is_hidden(row.occupied, self.reader) else str(row.free)

    def shortfall_free(self, row: "Shortfall") -> str:
        """A short region's free beds now, as the table of beds by region shows them."""
        beds = next((r for r in self.regions if r.region.id == row.region.id), None)
        return self.free_beds(beds) if beds is not None else str(row.free)

    def group_free(self, row: GroupBeds) -> str:
        """Free beds for a sex and age group, unless fewer than five of the group's beds are
        taken: the group's pools may all be in one region, and beside its capacity the free
        beds would tell a hidden count."""
        return NOT_SHOWN if is_hidden(row.capacity - row.free, self.reader) else str(row.free)

    def overdue(self, stage: Stage) -> str:
        """How many of a stage are overdue, as this reader may see it; "—" when the rest
        (the count less the overdue) would be a hidden count of children."""
        if is_hidden(stage.overdue, self.reader) or not is_hidden(stage.count - stage.overdue, self.reader):
            return self.children(stage.overdue)
        return NOT_SHOWN

    @property
    def leaves_out_free_beds(self) -> bool:
        return any(is_hidden(r.occupied, self.reader) for r in self.regions)

    @property
    def leaves_out_group_free_beds(self) -> bool:
        return any(is_hidden(g.capacity - g.free, self.reader) for g in self.groups)

    def _total(self, parts: list[int], shown) -> str:
        """A total over regions, unless one of its parts is hidden: the total less the parts
        shown would give it away."""
        return NOT_SHOWN if any(is_hidden(part, self.reader) for part in parts) else shown(sum(parts))

    @property
    def placed_total(self) -> str:
        return self._total([count for _region, count in self.placed], self.children)

    @property
    def free_total(self) -> str:
        return self._total([r.occupied for r in self.regions], lambda _n: str(sum(r.free for r in self.regions)))

    @property
    def capacity_total(self) -> int:
        return sum(r.capacity for r in self.regions)

    @property
    def occupied_total(self) -> str:
        return self._total([r.occupied for r in self.regions], self.children)

    @property
    def stale_more(self) -> int:
        return self.stale_total - len(self.stale)


def situation(reader, at: datetime | None = None) -> Overview:
    """The overview as `reader` may see it, at `at` (now)."""
    at = at or now()
    scope = region_scope(reader)
    regions = {r.id: r for r in db.session.scalars(
        select(Region).where(_in_scope(Region.id, scope)).order_by(Region.name))}
    overview = Overview(reader=reader, at=at)
    overview.found_waiting = still_waiting(reader, at=at)
    overview.regions = _beds_by_region(regions, scope, at)
    overview.groups = _beds_by_group(scope, at)
    overview.placed = _placed_by_region(regions, scope)
    shows_cases = may_list_referrals(reader)
    overview.stages = _waiting(scope, at, shows_cases)
    overview.holds_today, overview.next_holds = _holds_running_out_today(regions, scope, at, shows_cases)
    if hides_small_counts(reader) and overview.holds_today < SMALL_COUNT:
        overview.next_holds = []  # a list of one to four would single out the children it counts
    overview.stale, overview.stale_total = _stale_shelters(regions, scope, at)
    overview.shortfalls = _shortfalls(regions, scope, at, {r.region.id: r.free for r in overview.regions})
    return overview


def _in_scope(column, scope: int | None):
    return true() if scope is None else column == scope


def _beds_by_region(regions: dict, scope: int | None, at: datetime) -> list[RegionBeds]:
    """Every region of the scope, those without an offered pool too (that no bed is there is
    what the overview must show)."""
    pools = availability.offered_pools(at).subquery()
    rows = db.session.execute(
        select(Region.id, func.coalesce(func.sum(pools.c.free), 0), func.coalesce(func.sum(pools.c.capacity), 0),
               func.coalesce(func.sum(pools.c.occupied), 0))
        .outerjoin(pools, pools.c.region_id == Region.id)
        .where(_in_scope(Region.id, scope))
        .group_by(Region.id))
    counts = {region_id: (int(free), int(capacity), int(occupied)) for region_id, free, capacity, occupied in rows}
    return [RegionBeds(region, *counts.get(region_id, (0, 0, 0))) for region_id, region in regions.items()]


def _age_bands():
    """AGE_BANDS as a small table (position, low, high) the database can join pools to."""
    return union_all(*(
        select(literal_column(str(position)).label("position"), literal_column(str(low)).label("low"),
               literal_column(str(high)).label("high"))
        for position, (low, high) in enumerate(AGE_BANDS))).subquery()


def _beds_by_group(scope: int | None, at: datetime) -> list[GroupBeds]:
    pools = availability.offered_pools(at).subquery()
    bands = _age_bands()
    rows = db.session.execute(
        select(pools.c.admits_sex, bands.c.position, func.sum(pools.c.free), func.sum(pools.c.capacity))
        .join(bands, and_(pools.c.min_age <= bands.c.high, pools.c.max_age >= bands.c.low))
        .where(_in_scope(pools.c.region_id, scope))
        .group_by(pools.c.admits_sex, bands.c.position))
    groups = [GroupBeds(sex, "%s–%s" % AGE_BANDS[int(position)], int(free), int(capacity))
              for sex, position, free, capacity in rows]
    bands_order = {"%s–%s" % band: i for i, band in enumerate(AGE_BANDS)}
    return sorted(groups, key=lambda g: (SEX_ORDER.index(g.sex), bands_order[g.band]))


def _placed_by_region(regions: dict, scope: int | None) -> list[tuple[Region, int]]:
    """Children in placement now, in the region of the shelter they live in."""
    rows = db.session.execute(  # per pool, from the index of children in a bed (ix_referral_in_bed)
        select(Shelter.region_id, func.count())
        .select_from(Referral).join(Referral.pool).join(BedPool.shelter)
        .where(Referral.status.in_(IN_BED), _in_scope(Shelter.region_id, scope))
        .group_by(Shelter.region_id))
    counts = dict(rows.all())
    return [(region, counts[region_id]) for region_id, region in regions.items() if counts.get(region_id)]


def _waiting(scope: int | None, at: datetime, shows_cases: bool) -> list[Stage]:
    """Per stage, how many wait and the one that has waited longest, in one statement: the
    referrals ranked by how long they have been at their stage (and, for emergency
    placements, how many are past the decision's deadline)."""
    overdue = case((overdue_decision(at), 1), else_=0)
    ranked = (
        select(Referral.status, Referral.id, Referral.child_id, Referral.status_changed_at,
               func.row_number().over(partition_by=Referral.status,
                                      order_by=(Referral.status_changed_at, Referral.id)).label("rank"),
               func.count(Referral.id).over(partition_by=Referral.status).label("waiting"),
               func.sum(overdue).over(partition_by=Referral.status).label("overdue"))
        .join(Referral.pool).join(BedPool.shelter)
        # Said as the index of waiting referrals says it (ix_referral_waiting), so that it is read.
        .where(Referral.status.in_(WAITING_STAGES),
               or_(Referral.status == EMERGENCY_PLACED, and_(Referral.holds_bed.is_(True), Referral.hold_until > at)),
               _in_scope(Shelter.region_id, scope))
        .subquery())
    oldest = {row.status: row for row in db.session.execute(
        select(ranked, Child.case_reference).join(Child, Child.id == ranked.c.child_id).where(ranked.c.rank == 1))}
    stages = []
    for status in WAITING_STAGES:
        row = oldest.get(status)
        overdue_count = (int(row.overdue) if row is not None else 0) if status == EMERGENCY_PLACED else None
        if row is None:
            stages.append(Stage(status, 0, None, None, None, overdue_count))
        else:
            stages.append(Stage(status, int(row.waiting), row.status_changed_at,
                                row.id if shows_cases else None, row.case_reference if shows_cases else None,
                                overdue_count))
    return stages


def _holds_running_out_today(regions: dict, scope: int | None, at: datetime,
                             shows_cases: bool) -> tuple[int, list[HoldEnding]]:
    """How many live holds run out before the reader's day ends, and the next few of them."""
    end_of_day = start_of_local_day(local_today() + timedelta(days=1))
    rows = db.session.execute(
        select(Referral.id, Referral.hold_until, Referral.status, Shelter.name, Shelter.region_id,
               Child.case_reference, func.count(Referral.id).over().label("total"))
        .join(Referral.child).join(Referral.pool).join(BedPool.shelter)
        .where(Referral.holds_bed.is_(True), Referral.hold_until > at, Referral.hold_until < end_of_day,
               _in_scope(Shelter.region_id, scope))
        .order_by(Referral.hold_until, Referral.id)
        .limit(HOLDS_SHOWN)).all()
    total = int(rows[0].total) if rows else 0
    return total, [HoldEnding(row.hold_until, row.status, row.name, regions[row.region_id],
                              row.id if shows_cases else None, row.case_reference if shows_cases else None)
                   for row in rows]


def _stale_shelters(regions: dict, scope: int | None, at: datetime) -> tuple[list[StaleShelter], int]:
    """The offered shelters with a stale pool, oldest first (never confirmed before all),
    the first STALE_SHOWN of them, and how many there are in all."""
    stale_pools = func.sum(case((is_stale(BedPool.last_confirmed_at, at, current_app.config["STALE_HOURS"]), 1),
                                else_=0))
    never = func.sum(case((BedPool.last_confirmed_at.is_(None), 1), else_=0))
    oldest = func.min(BedPool.last_confirmed_at)
    rows = db.session.execute(
        select(Shelter.id, Shelter.name, Shelter.phone, Shelter.region_id, oldest.label("oldest"),
               never.label("never"), func.count().over().label("total"))
        .join(BedPool, BedPool.shelter_id == Shelter.id).join(Shelter.organization)
        .where(*availability.offered(), _in_scope(Shelter.region_id, scope))
        .group_by(Shelter.id, Shelter.name, Shelter.phone, Shelter.region_id)
        .having(stale_pools > 0)
        .order_by(case((never > 0, 0), else_=1), oldest, Shelter.name, Shelter.id)
        .limit(STALE_SHOWN)).all()
    total = int(rows[0].total) if rows else 0
    return [StaleShelter(row.id, row.name, row.phone, regions[row.region_id],
                         None if row.never else row.oldest) for row in rows], total


def _shortfalls(regions: dict, scope: int | None, at: datetime, free: dict[int, int]) -> list[Shortfall]:
    """The regions where demand went unmet in the last DEMAND_DAYS days, worst first."""
    since = at - timedelta(days=DEMAND_DAYS)
    one, none_ = literal_column("1"), literal_column("0")

    def ended(status, *conditions):
        return (select(Shelter.region_id.label("region_id"), none_.label("searches"),
                       (one if status == DECLINED else none_).label("declined"),
                       (one if status == EXPIRED else none_).label("expired"))
                .select_from(Referral).join(Referral.pool).join(BedPool.shelter)
                .where(Referral.status == status, Referral.status_changed_at >= since, *conditions))

    unmet = union_all(
        select(DemandSignal.region_id.label("region_id"), one.label("searches"), none_.label("declined"),
               none_.label("expired"))
        .where(DemandSignal.created_at >= since, DemandSignal.region_id.is_not(None)),
        ended(DECLINED, Referral.reason_code == NO_CAPACITY),
        ended(EXPIRED),
    ).subquery()
    rows = db.session.execute(
        select(unmet.c.region_id, func.sum(unmet.c.searches), func.sum(unmet.c.declined), func.sum(unmet.c.expired))
        .where(_in_scope(unmet.c.region_id, scope))
        .group_by(unmet.c.region_id))
    shortfalls = [Shortfall(regions[region_id], int(searches), int(declined), int(expired), free.get(region_id, 0))
                  for region_id, searches, declined, expired in rows if region_id in regions]
    return sorted((s for s in shortfalls if s.unmet > 0), key=lambda s: (-s.unmet, s.region.name))
