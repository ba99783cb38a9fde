"""The reports: each one a handful of grouped queries over the referrals, the bed history
and the demand signals, answered as a table (and the numbers of its chart) that the page and
the CSV download both show, so that they never disagree.

What the filters mean: the date range is in local days (the deployment's zone) and picks
referrals by the day they were submitted, demand signals by the day they were recorded, and
the months of the bed history; "now" figures (occupancy now, children in placement) ignore
it. The region is the region of the shelter a referral was sent to (of the search, for demand
signals); the organization is the referring organization for referral reports and the
shelter's operating organization for beds and placements. A guardianship officer's reports
are always limited to their own region.

No report holds a name, a birth date or a free text: only codes shown in words, the names of
regions, organizations and shelters, and counts. Every count of children goes through
scope.shown_count, so oversight sees "<5" for 1 to 4; a figure that would give such a count
away by subtraction is left out ("—").
"""
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from flask import current_app
from flask_babel import format_date, gettext as _, lazy_gettext as _l
from sqlalchemy import and_, case, func, literal, or_, select, text, true, union_all

from ..accounts.models import Organization, Region
from ..beds.models import BedPool, BedUpdate, Shelter
from ..clock import now
from ..extensions import db
from ..i18n import local_today, start_of_local_day
from ..types import UTCDateTime
from ..referrals.models import (
    ACCEPTED, AGE_BANDS, APPROVED, CHILD_SEXES, DECLINE_CODES, DECLINED, DISCHARGED, EMERGENCY_PLACED, EXPIRED,
    MOVING_OUT, PLACED, REJECTED, SUBMITTED, WITHDRAWN, Child, DemandSignal, Referral, ReferralEvent)
from ..referrals.models import IN_BED
from ..words import DECLINE_LABELS, SEX_LABELS, word
from . import scope
from .sql import bucket, seconds_between

# How far back a report may reach in one view: five years of months.
MAX_MONTHS = 60


@dataclass(frozen=True)
class Filters:
    """What a reader asked for: local days from and to (both included), a region, an
    organization (None: all)."""
    day_from: date
    day_to: date
    region_id: int | None = None
    organization_id: int | None = None

    @property
    def start(self) -> datetime:
        return start_of_local_day(self.day_from)

    @property
    def end(self) -> datetime:
        return start_of_local_day(self.day_to + timedelta(days=1))

    def months(self) -> list[date]:
        """The first day of each local month the range touches."""
        months, month = [], self.day_from.replace(day=1)
        while month <= self.day_to:
            months.append(month)
            month = _next_month(month)
        return months

    def month_ends(self) -> list[datetime]:
        """Where each month of the range ends (the range's own end for the last), as UTC."""
        ends = [start_of_local_day(_next_month(m)) for m in self.months()]
        ends[-1] = min(ends[-1], self.end)
        return ends


def _next_month(month: date) -> date:
    return date(month.year + (month.month == 12), month.month % 12 + 1, 1)


def default_range(today: date | None = None) -> tuple[date, date]:
    """The last twelve months: from the first day of the month eleven months back to today."""
    today = today or local_today()
    first = today.replace(day=1)
    for _i in range(11):
        first = (first - timedelta(days=1)).replace(day=1)
    return first, today


def range_problem(day_from: date, day_to: date) -> str | None:
    if day_from > day_to:
        return _("The start of the range is after its end.")
    if len(Filters(day_from, day_to).months()) > MAX_MONTHS:
        return _("Choose a range of at most %(n)s months.", n=MAX_MONTHS)
    return None


def regions_for(user) -> list[Region]:
    """The regions a reader may choose: their own for a guardianship officer, else all."""
    query = select(Region).order_by(Region.name)
    if scope.region_scope(user) is not None:
        query = query.where(Region.id == scope.region_scope(user))
    return list(db.session.scalars(query))


def organizations() -> list[Organization]:
    return list(db.session.scalars(select(Organization).order_by(Organization.name)))


@dataclass
class Chart:
    """Horizontal bars, one per row, each made of one segment per series (stacked)."""
    series: list[str]
    bars: list[tuple[str, list[int]]]
    # Segments not drawn because the count is shown as "<5".
    hidden: bool = False


@dataclass
class Report:
    key: str
    title: str
    definition: str
    head: list[str]
    rows: list[list[str]] = field(default_factory=list)
    chart: Chart | None = None


# --- what the filters select ----------------------------------------------------------------------

def _region(user, filters: Filters) -> int | None:
    """The region a reader's report covers: their own, for guardianship (whatever the filter
    says: the form never offers another), else the one chosen."""
    return scope.region_scope(user) or filters.region_id


def _referrals_where(query, user, filters: Filters):
    """Referrals submitted in the range, to shelters in the region, from the organization."""
    query = query.join(BedPool, BedPool.id == Referral.pool_id).join(Shelter, Shelter.id == BedPool.shelter_id).where(
        Referral.submitted_at >= filters.start, Referral.submitted_at < filters.end)
    if (region := _region(user, filters)) is not None:
        query = query.where(Shelter.region_id == region)
    if filters.organization_id is not None:
        query = query.where(Referral.referring_organization_id == filters.organization_id)
    return query


def _shelters_where(query, user, filters: Filters):
    if (region := _region(user, filters)) is not None:
        query = query.where(Shelter.region_id == region)
    if filters.organization_id is not None:
        query = query.where(Shelter.organization_id == filters.organization_id)
    return query


def _month_label(month: date) -> str:
    return format_date(month, "LLLL y")


def _region_names() -> dict[int, str]:
    """Each region's name in the reader's language (the board's and the filters' names)."""
    return {region.id: region.local_name for region in db.session.scalars(select(Region))}


# --- 1. occupancy ------------------------------------------------------------------------------------

def _free(pool=BedPool):
    """Free beds of one pool, never below zero, as SQL."""
    rest = pool.capacity - pool.occupied - pool.out_of_service - pool.held
    return case((rest > 0, rest), else_=0)


def occupancy_now(user, filters: Filters) -> Report:
    """Beds now, per shelter, from the pools' own counts: capacity, occupied, held by live
    referrals, out of service, free (capacity less the other three, never below zero)."""
    query = _shelters_where(
        select(Shelter.region_id, Shelter.name, func.sum(BedPool.capacity), func.sum(BedPool.occupied),
               func.sum(BedPool.held), func.sum(BedPool.out_of_service), func.sum(_free()))
        .join(BedPool, BedPool.shelter_id == Shelter.id).where(Shelter.status != "closed"),
        user, filters).group_by(Shelter.id, Shelter.region_id, Shelter.name)
    names = _region_names()
    rows = sorted(db.session.execute(query).all(), key=lambda r: (names.get(r[0], ""), r[1]))
    report = Report("occupancy", _("Occupancy now"),
                    _("Beds now in every shelter that is not closed; the organization filter picks the shelter's "
                      "operating organization. Free = capacity less occupied, held and out of service."),
                    [_("Region"), _("Shelter"), _("Capacity"), _("Occupied"), _("Held"), _("Out of service"),
                     _("Free")])
    hidden = scope.hides_small_counts(user)
    bars = []
    for region_id, shelter, capacity, occupied, held, out, free in rows:
        # Beside the capacity and the beds out of service, the free beds would give a hidden
        # count of occupied or held beds away.
        gives_away = scope.is_hidden(occupied, user) or scope.is_hidden(held, user)
        report.rows.append([names.get(region_id, ""), shelter, str(capacity), scope.shown_count(occupied, user),
                            scope.shown_count(held, user), str(out), scope.NOT_SHOWN if gives_away else str(free)])
        bars.append((shelter, [_drawn(occupied, hidden), _drawn(held, hidden), out, 0 if gives_away else free]))
    report.chart = Chart([_("Occupied"), _("Held"), _("Out of service"), _("Free")], bars, hidden=hidden)
    return report


def _drawn(count: int, hidden: bool) -> int:
    """A count of children as a chart may draw it: not at all when the table says "<5"."""
    return 0 if hidden and 0 < count < scope.SMALL_COUNT else count


def occupancy_by_month(user, filters: Filters) -> Report:
    """Occupancy at the end of each month, per region, from the bed history: for every pool,
    the counts of its last BedUpdate before the month ended (the range's end, for the last
    month), summed over the region's shelters; a pool with no update yet counts nothing.
    "Last" is the latest by time, and of two at the same instant the one recorded later."""
    ends = union_all(*(select(literal(i).label("month"), literal(end, UTCDateTime).label("ends"))
                       for i, end in enumerate(filters.month_ends()))).subquery()
    pools = _shelters_where(select(BedPool.id.label("pool_id"), Shelter.region_id.label("region_id"))
                            .join(Shelter, Shelter.id == BedPool.shelter_id), user, filters).subquery()
    # Each pool's last update before each month ended: one probe of the (pool, time) index per
    # pool and month, rather than a pass over the whole history.
    last = (select(BedUpdate.id).where(BedUpdate.pool_id == pools.c.pool_id, BedUpdate.created_at < ends.c.ends)
            .order_by(BedUpdate.created_at.desc(), BedUpdate.id.desc()).limit(1)
            .correlate(pools, ends).scalar_subquery())
    query = (select(pools.c.region_id, ends.c.month, func.sum(BedUpdate.capacity), func.sum(BedUpdate.occupied))
             .select_from(pools).join(ends, true()).join(BedUpdate, BedUpdate.id == last)
             .group_by(pools.c.region_id, ends.c.month))
    totals = {(region_id, month): [capacity, occupied]
              for region_id, month, capacity, occupied in db.session.execute(query)}
    names, months = _region_names(), filters.months()
    report = Report("occupancy-history", _("Occupancy at the end of each month"),
                    _("For each region and month: the capacity and occupied beds of its shelters' pools as "
                      "their last bed update before the month ended (before the end of the range, for its last "
                      "month) recorded them."),
                    [_("Region"), _("Month"), _("Capacity"), _("Occupied"), _("Occupancy")])
    for (region_id, i) in sorted(totals, key=lambda k: (names.get(k[0], ""), k[1])):
        capacity, occupied = totals[(region_id, i)]
        shown = scope.shown_count(occupied, user)
        rate = f"{round(100 * occupied / capacity)} %" if capacity and shown == str(occupied) else "—"
        report.rows.append([names.get(region_id, ""), _month_label(months[i]), str(capacity), shown, rate])
    hidden = scope.hides_small_counts(user)
    report.chart = Chart([_("Occupied"), _("Free or out of service")],
                         [(f"{names.get(r, '')} · {_month_label(months[i])}",
                           [_drawn(totals[(r, i)][1], hidden),
                            totals[(r, i)][0] - _drawn(totals[(r, i)][1], hidden)])
                          for (r, i) in sorted(totals, key=lambda k: (names.get(k[0], ""), k[1]))],
                         hidden=hidden)
    return report


# --- 2. referrals by outcome ------------------------------------------------------------------------

def _rejected_after_emergency():
    """The condition on a referral: the guardianship body rejected its emergency placement.
    The child keeps the bed while moving out (MOVING_OUT), and once discharged only the
    timeline still says so: its step to MOVING_OUT."""
    return or_(Referral.status == MOVING_OUT,
               select(ReferralEvent.id).where(ReferralEvent.referral_id == Referral.id,
                                              ReferralEvent.to_status == MOVING_OUT).exists())


def _outcome_status():
    """A referral's status as the reports count its outcome: REJECTED for an emergency
    placement guardianship rejected (whether the child has left yet or not), else its own."""
    return case((_rejected_after_emergency(), literal(REJECTED)), else_=Referral.status)


OUTCOMES = (
    ("placed", (PLACED, EMERGENCY_PLACED, DISCHARGED), _l("Placed")),
    ("declined", (DECLINED,), _l("Declined by the shelter")),
    ("rejected", (REJECTED,), _l("Rejected by guardianship")),
    ("withdrawn", (WITHDRAWN,), _l("Withdrawn")),
    ("expired", (EXPIRED,), _l("Expired")),
    ("open", (SUBMITTED, ACCEPTED, APPROVED), _l("Still open")),
)


def referrals_by_outcome(user, filters: Filters) -> Report:
    """Referrals per month of submission, by where they ended: placed (placed, also in an
    emergency before the decision, or since discharged), declined, rejected (by guardianship:
    before the placement, or after an emergency placement, the child moving out or gone),
    withdrawn, expired, still open."""
    month = bucket(Referral.submitted_at, filters.month_ends()).label("month")
    status = _outcome_status().label("outcome")
    query = _referrals_where(select(month, status, func.count()), user, filters).group_by(month, status)
    counts: dict[tuple[int, str], int] = {}
    outcome_of = {status: key for key, statuses, _label in OUTCOMES for status in statuses}
    for i, status, n in db.session.execute(query):
        if status in outcome_of:
            counts[(i, outcome_of[status])] = counts.get((i, outcome_of[status]), 0) + n
    report = Report("referrals", _("Referrals by outcome"),
                    _("Referrals by the month they were submitted in, and where they stand or ended."),
                    [_("Month")] + [str(label) for _k, _s, label in OUTCOMES])
    hidden = scope.hides_small_counts(user)
    bars = []
    for i, month_day in enumerate(filters.months()):
        values = [counts.get((i, key), 0) for key, _s, _label in OUTCOMES]
        report.rows.append([_month_label(month_day)] + [scope.shown_count(v, user) for v in values])
        bars.append((_month_label(month_day), [_drawn(v, hidden) for v in values]))
    report.chart = Chart([str(label) for _k, _s, label in OUTCOMES], bars, hidden=hidden)
    return report


# --- 3. declines and rejections by reason ---------------------------------------------------------

def reasons(user, filters: Filters) -> Report:
    """Why referrals failed: declines by the shelter's reason code, and rejections by the
    guardianship body, before a placement or after an emergency one (which give no code, only a
    text that no report shows)."""
    status = _outcome_status().label("outcome")
    query = _referrals_where(select(status, Referral.reason_code, func.count()), user, filters).where(
        or_(Referral.status.in_((DECLINED, REJECTED)), _rejected_after_emergency())).group_by(
        status, Referral.reason_code)
    counts = {(status, code): n for status, code, n in db.session.execute(query)}
    report = Report("reasons", _("Declines and rejections by reason"),
                    _("Referrals submitted in the range that the shelter declined, by the reason it chose, and "
                      "that the guardianship body rejected (it records no reason code)."),
                    [_("Reason"), _("Referrals")])
    lines = [(str(DECLINE_LABELS[code]), counts.get((DECLINED, code), 0)) for code in DECLINE_CODES]
    lines.append((_("Rejected by guardianship"), sum(n for (s, _c), n in counts.items() if s == REJECTED)))
    hidden = scope.hides_small_counts(user)
    report.rows = [[label, scope.shown_count(n, user)] for label, n in lines]
    report.chart = Chart([_("Referrals")], [(label, [_drawn(n, hidden)]) for label, n in lines], hidden=hidden)
    return report


# --- 4. waiting times --------------------------------------------------------------------------------

def _stages():
    answered = func.coalesce(Referral.accepted_at, _when(Referral.status == DECLINED, Referral.ended_at))
    # An emergency placement is decided when guardianship approves it (approved_at) or
    # rejects it: the timeline's step out of EMERGENCY_PLACED, which outlives the discharge.
    emergency_decided = (select(func.min(ReferralEvent.created_at))
                         .where(ReferralEvent.referral_id == Referral.id,
                                ReferralEvent.from_status == EMERGENCY_PLACED,
                                ReferralEvent.to_status.in_((PLACED, MOVING_OUT)))
                         .correlate(Referral).scalar_subquery())
    decided = func.coalesce(Referral.approved_at, _when(Referral.status == REJECTED, Referral.ended_at),
                            emergency_decided)
    return (("answer", _("Shelter's answer"), answered), ("decision", _("Guardianship decision"), decided),
            ("arrival", _("Arrival"), Referral.arrived_at))


def _when(condition, value):
    return case((condition, value), else_=None)


def nearest_rank(n: int, percent: int) -> int:
    """The rank of the percentile in n sorted waits, by the nearest-rank rule: the smallest
    rank r with r >= n * percent / 100 (the median of 4 waits is the 2nd, their 90th
    percentile the 4th). The SQL below computes the same as (n * percent + 99) / 100."""
    return (n * percent + 99) // 100


def waiting_times(user, filters: Filters) -> Report:
    """How long children wait from submission to each step, per region and month of
    submission: the number of referrals that reached the step, the median and the 90th
    percentile (nearest rank). To oversight, a cell of fewer than five shows neither."""
    month = bucket(Referral.submitted_at, filters.month_ends())
    rows = []
    for key, label, reached in _stages():
        wait = seconds_between(Referral.submitted_at, reached)
        ranked = _referrals_where(
            select(Shelter.region_id.label("region"), month.label("month"), wait.label("wait"),
                   func.row_number().over(partition_by=(Shelter.region_id, month), order_by=wait).label("rank"),
                   func.count().over(partition_by=(Shelter.region_id, month)).label("n")),
            user, filters).where(reached.is_not(None)).subquery()
        median = func.max(case((ranked.c.rank == (ranked.c.n * 50 + 99) // 100, ranked.c.wait)))
        p90 = func.max(case((ranked.c.rank == (ranked.c.n * 90 + 99) // 100, ranked.c.wait)))
        query = (select(ranked.c.region, ranked.c.month, func.max(ranked.c.n), median, p90)
                 .group_by(ranked.c.region, ranked.c.month))
        rows += [(region, i, key, label, n, m, p) for region, i, n, m, p in db.session.execute(query)]
    names, months = _region_names(), filters.months()
    order = {key: k for k, (key, _label, _e) in enumerate(_stages())}
    rows.sort(key=lambda r: (names.get(r[0], ""), r[1], order[r[2]]))
    report = Report("waiting", _("Waiting times"),
                    _("From submission to the shelter's answer (accepted or declined), to the guardianship "
                      "decision (approved or rejected) and to arrival, for referrals that reached that step, by "
                      "region and month of submission. Median and 90th percentile by the nearest-rank rule: of "
                      "n waits in order, the one at rank n × 50 / 100 (or 90 / 100), rounded up."),
                    [_("Region"), _("Month"), _("Step"), _("Referrals"), _("Median"), _("90th percentile")])
    hidden = scope.hides_small_counts(user)
    bars = []
    for region, i, _key, label, n, median, p90 in rows:
        shown = scope.shown_count(n, user)
        secret = shown != str(n)
        report.rows.append([names.get(region, ""), _month_label(months[i]), label, shown,
                            "—" if secret else duration(median), "—" if secret else duration(p90)])
        bars.append((f"{names.get(region, '')} · {_month_label(months[i])} · {label}",
                     [0 if secret else round(median / 3600), 0 if secret else round((p90 - median) / 3600)]))
    report.chart = Chart([_("Median (hours)"), _("To the 90th percentile (hours)")], bars, hidden=hidden)
    return report


def duration(seconds: float | None) -> str:
    """A wait as people say it: '45 min', '5 h 30 min', '3 days 4 h'."""
    if seconds is None:
        return ""
    minutes = max(0, int(round(seconds / 60)))
    if minutes < 60:
        return _("%(m)s min", m=minutes)
    if minutes < 48 * 60:
        return _("%(h)s h %(m)02d min", h=minutes // 60, m=minutes % 60)
    return _("%(d)s days %(h)s h", d=minutes // 1440, h=minutes % 1440 // 60)


# --- 5. unmet demand ---------------------------------------------------------------------------------

def unmet_demand(user, filters: Filters) -> Report:
    """Where beds were short, per region: referrals declined for no capacity, referrals whose
    hold expired, and searches at /referrals/new that found no fitting free bed (anonymous
    demand signals; the organization filter does not apply to them: they name none)."""
    query = _referrals_where(select(Shelter.region_id, Referral.status, func.count()), user, filters).where(
        or_(and_(Referral.status == DECLINED, Referral.reason_code == "no_capacity"), Referral.status == EXPIRED)
    ).group_by(Shelter.region_id, Referral.status)
    counts = {(region, status): n for region, status, n in db.session.execute(query)}
    signals = select(DemandSignal.region_id, DemandSignal.sex, DemandSignal.age_band, func.count()).where(
        DemandSignal.created_at >= filters.start, DemandSignal.created_at < filters.end)
    if (region := _region(user, filters)) is not None:
        signals = signals.where(DemandSignal.region_id == region)
    searches = {(r, s, a): n for r, s, a, n in
                db.session.execute(signals.group_by(DemandSignal.region_id, DemandSignal.sex, DemandSignal.age_band))}
    bands = [f"{lo}–{hi}" for lo, hi in AGE_BANDS]
    groups = [(sex, band) for sex in CHILD_SEXES for band in bands]
    names = _region_names()
    regions = sorted({r for r, _s in counts} | {r for r, _s, _a in searches}, key=lambda r: names.get(r, ""))
    report = Report("unmet-demand", _("Unmet demand by region"),
                    _("Per region, over the range: referrals the shelter declined for no capacity, referrals whose "
                      "hold expired, and searches for a bed that found no fitting free one (by the child's sex and "
                      "age band; a search names no organization, so the organization filter leaves them as they are)."),
                    [_("Region"), _("Declined: no capacity"), _("Expired"), _("Searches with no free bed")]
                    + [_("%(sex)s, %(band)s years", sex=SEX_LABELS[sex], band=band) for sex, band in groups])
    hidden = scope.hides_small_counts(user)
    bars = []
    for region in regions:
        declined, expired = counts.get((region, DECLINED), 0), counts.get((region, EXPIRED), 0)
        per_group = [searches.get((region, sex, band), 0) for sex, band in groups]
        total = sum(per_group)
        # The total less the groups shown would give a hidden group away.
        total_gives_away = any(scope.is_hidden(n, user) for n in per_group)
        report.rows.append([names.get(region, _("No region")) if region else _("No region")]
                           + [scope.shown_count(v, user) for v in (declined, expired)]
                           + [scope.NOT_SHOWN if total_gives_away else scope.shown_count(total, user)]
                           + [scope.shown_count(v, user) for v in per_group])
        bars.append((names.get(region, _("No region")),
                     [_drawn(declined, hidden), _drawn(expired, hidden), 0 if total_gives_away else _drawn(total, hidden)]))
    report.chart = Chart([_("Declined: no capacity"), _("Expired"), _("Searches with no free bed")], bars,
                         hidden=hidden)
    return report


# --- 6. placements ---------------------------------------------------------------------------------

def placements(user, filters: Filters) -> Report:
    """Children in placement now, per shelter: those turning 18 within 90 days (only children
    with a known birth date can be counted), and those placed longer than LONG_PLACEMENT_DAYS."""
    today, days = local_today(), current_app.config["LONG_PLACEMENT_DAYS"]
    adult_before = _years_before(today, 18)                            # born on or before: 18 already
    adult_soon = _years_before(today + timedelta(days=90), 18)         # born on or before: 18 within 90 days
    turning = func.sum(_when(and_(Child.birth_date > adult_before, Child.birth_date <= adult_soon), 1))
    long_stay = func.sum(_when(Referral.arrived_at < now() - timedelta(days=days), 1))
    query = _shelters_where(
        select(Shelter.region_id, Shelter.name, func.count(), turning, long_stay)
        .select_from(Referral).join(Child, Child.id == Referral.child_id)
        .join(BedPool, BedPool.id == Referral.pool_id).join(Shelter, Shelter.id == BedPool.shelter_id)
        .where(Referral.status.in_(IN_BED)), user, filters).group_by(Shelter.id, Shelter.region_id, Shelter.name)
    names = _region_names()
    rows = sorted(db.session.execute(query).all(), key=lambda r: (names.get(r[0], ""), r[1]))
    report = Report("placements", _("Children in placement"),
                    _("Children placed now, per shelter: how many turn 18 within 90 days (of those whose birth "
                      "date is known) and how many have been placed for more than %(days)s days.", days=days),
                    [_("Region"), _("Shelter"), _("In placement"), _("Turning 18 within 90 days"),
                     _("Placed more than %(days)s days", days=days)])
    hidden = scope.hides_small_counts(user)
    for region, shelter, placed, soon, long in rows:
        report.rows.append([names.get(region, ""), shelter] + [scope.shown_count(v or 0, user) for v in (placed, soon, long)])
    report.chart = Chart([_("Turning 18 within 90 days"), _("Placed more than %(days)s days", days=days)],
                         [(r[1], [_drawn(r[3] or 0, hidden), _drawn(r[4] or 0, hidden)]) for r in rows], hidden=hidden)
    return report


def _years_before(day: date, years: int) -> date:
    try:
        return day.replace(year=day.year - years)
    except ValueError:  # 29 February
        return day.replace(year=day.year - years, day=28)


REPORTS = {
    "referrals": referrals_by_outcome,
    "reasons": reasons,
    "occupancy": occupancy_now,
    "occupancy-history": occupancy_by_month,
    "waiting": waiting_times,
    "unmet-demand": unmet_demand,
    "placements": placements,
}


def all_reports(user, filters: Filters) -> list[Report]:
    with_parallel_workers()
    return [build(user, filters) for build in REPORTS.values()]


def one_report(key: str, user, filters: Filters) -> Report:
    with_parallel_workers()
    return REPORTS[key](user, filters)


def with_parallel_workers() -> None:
    """The reports aggregate a whole country's history, which is what PostgreSQL's parallel
    workers are for: for the rest of this transaction they may start them again (the app's
    connections otherwise start none, coordination/__init__.py)."""
    if db.session.get_bind().dialect.name == "postgresql":
        db.session.execute(text("SET LOCAL max_parallel_workers_per_gather TO DEFAULT"))
