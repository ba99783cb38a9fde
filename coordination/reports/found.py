"""The ombudsman's reports on where children were found and how long they waited for a bed
(issue 14): children found by kind of place and region per month, the hours from being found
to the first bed, and the children still without one.

What they count: a child's region here is the region where the child was found (the child's
current region when that was not recorded); the organization filter picks the registering
organization; a guardianship officer reads their own region only. "Not recorded" (children
registered before the question) is its own, visible column and row, never some place. No
name, birth date or case reference is shown: counts, kinds of place, regions and hours, with
every count of children through scope.shown_count ("<5" to oversight) and a figure that
would give a hidden count away (a total beside its parts, one child's wait) left out as "—".
"""
from dataclasses import dataclass
from datetime import datetime

from flask_babel import gettext as _
from sqlalchemy import func, select

from ..clock import now
from ..extensions import db
from ..referrals.models import FOUND_PLACES, NOT_RECORDED, WAITING_PLACES, Child, Referral
from ..words import found_place as place_word
from . import scope
from .services import REPORTS, Chart, Filters, Report, _drawn, _month_label, _region_names, nearest_rank
from .sql import bucket

# The places in the order the reports list them: where a child must not wait first, the
# unknown last.
PLACES = WAITING_PLACES + tuple(p for p in FOUND_PLACES if p not in WAITING_PLACES and p != NOT_RECORDED)


def _child_region():
    return func.coalesce(Child.found_region_id, Child.region_id)


def _children_where(query, user, filters: Filters | None):
    region = scope.region_scope(user) or (filters.region_id if filters else None)
    if region is not None:
        query = query.where(_child_region() == region)
    if filters is not None and filters.organization_id is not None:
        query = query.where(Child.organization_id == filters.organization_id)
    return query


def _unknown() -> str:
    return _("Not recorded (unknown)")


def _hours(seconds: float) -> str:
    return str(int(seconds // 3600))


# --- 1. children found, by kind of place and region, per month ------------------------------------

def found_by_place(user, filters: Filters) -> Report:
    """Children found in each month of the range, per region, by kind of place. A child whose
    time found was not recorded counts in the month they were registered, under "not recorded"."""
    when = func.coalesce(Child.found_at, Child.created_at)
    month = bucket(when, filters.month_ends()).label("month")
    query = _children_where(
        select(_child_region().label("region"), month, Child.found_place, func.count())
        .where(when >= filters.start, when < filters.end), user, filters
    ).group_by(_child_region(), month, Child.found_place)
    counts: dict[tuple[int, int], dict[str, int]] = {}
    for region, i, place, n in db.session.execute(query):
        if i is not None:
            counts.setdefault((region, i), {})[place] = n
    names, months = _region_names(), filters.months()
    columns = PLACES + (NOT_RECORDED,)
    report = Report("found", _("Children found, by kind of place"),
                    _("Children found in each month, per region where they were found, by the kind of place. "
                      "Children registered before the place was asked are counted in the month they were "
                      "registered, as not recorded (unknown)."),
                    [_("Region"), _("Month")] + [place_word(p) for p in PLACES] + [_unknown()])
    hidden = scope.hides_small_counts(user)
    bars = []
    for region, i in sorted(counts, key=lambda k: (names.get(k[0], ""), k[1])):
        values = [counts[(region, i)].get(p, 0) for p in columns]
        report.rows.append([names.get(region, ""), _month_label(months[i])] + [scope.shown_count(v, user) for v in values])
        bars.append((f"{names.get(region, '')} · {_month_label(months[i])}", [_drawn(v, hidden) for v in values]))
    report.chart = Chart([place_word(p) for p in PLACES] + [_unknown()], bars, hidden=hidden)
    return report


# --- 2. hours from being found to the first bed ------------------------------------------------------

@dataclass
class _Group:
    waits: list[float]
    not_recorded: int = 0


def _first_beds(user, filters: Filters):
    """(place, region, found_at, first arrival) of each child found (registered, when the time
    was not recorded) in the range who reached a bed."""
    first_bed = (select(Referral.child_id.label("child_id"), func.min(Referral.arrived_at).label("arrived"))
                 .where(Referral.arrived_at.is_not(None)).group_by(Referral.child_id).subquery())
    when = func.coalesce(Child.found_at, Child.created_at)
    query = _children_where(
        select(Child.found_place, _child_region(), Child.found_at, first_bed.c.arrived)
        .join(first_bed, first_bed.c.child_id == Child.id)
        .where(when >= filters.start, when < filters.end), user, filters)
    return db.session.execute(query).all()


def time_to_bed(user, filters: Filters) -> Report:
    """Hours from being found to the first bed (the earliest arrival of any of the child's
    referrals), by kind of place and by region, for children found in the range: how many,
    the median and the 90th percentile by the nearest-rank rule. A child whose time found was
    not recorded has no wait: counted apart, as "time not recorded"."""
    by_place: dict[str, _Group] = {}
    by_region: dict[int, _Group] = {}
    for place, region, found_at, arrived in _first_beds(user, filters):
        for groups, key in ((by_place, place), (by_region, region)):
            group = groups.setdefault(key, _Group([]))
            if found_at is None:
                group.not_recorded += 1
            else:
                group.waits.append(max(0.0, (arrived - found_at).total_seconds()))
    names = _region_names()
    report = Report("found-to-bed", _("Hours from being found to a bed"),
                    _("For children found in the range who reached a bed: the hours from being found to the first "
                      "arrival in a shelter, by kind of place and by region where they were found. Median and 90th "
                      "percentile by the nearest-rank rule. Children whose time found was not recorded have no "
                      "wait to count: they are counted apart."),
                    [_("Kind of place or region"), _("Children placed"), _("Median (hours)"),
                     _("90th percentile (hours)"), _("Time not recorded")])
    hidden = scope.hides_small_counts(user)
    lines = [(place_word(p), by_place[p]) for p in PLACES + (NOT_RECORDED,) if p in by_place]
    lines += [(_("Region: %(region)s", region=names.get(r, "")), by_region[r])
              for r in sorted(by_region, key=lambda r: names.get(r, ""))]
    bars = []
    for label, group in lines:
        waits = sorted(group.waits)
        n = len(waits)
        secret = scope.is_hidden(n, user)
        median = waits[nearest_rank(n, 50) - 1] if n else None
        p90 = waits[nearest_rank(n, 90) - 1] if n else None
        report.rows.append([label, scope.shown_count(n, user),
                            scope.NOT_SHOWN if secret or median is None else _hours(median),
                            scope.NOT_SHOWN if secret or p90 is None else _hours(p90),
                            scope.shown_count(group.not_recorded, user)])
        bars.append((label, [0 if secret or median is None else round(median / 3600),
                             0 if secret or p90 is None else round((p90 - median) / 3600)]))
    report.chart = Chart([_("Median (hours)"), _("To the 90th percentile (hours)")], bars, hidden=hidden)
    return report


# --- 3. children still without a bed -----------------------------------------------------------------

@dataclass(frozen=True)
class Waiting:
    """Children found at one kind of place who never reached a bed: how many, the longest
    wait so far (seconds; None when no time found was recorded), how many without a time."""
    place: str
    count: int
    longest: float | None
    not_recorded: int

    @property
    def timed(self) -> int:
        """How many of them have a time found, that the longest wait is taken from."""
        return self.count - self.not_recorded

    @property
    def label(self) -> str:
        return place_word(self.place)


def still_waiting(user, filters: Filters | None = None, at: datetime | None = None) -> list[Waiting]:
    """Per kind of place, the children (not anonymized) no referral of whom ever arrived in a
    bed: waiting places first, then the longest waits first, the unknown place last. A "now"
    figure: the date range does not apply."""
    at = at or now()
    query = _children_where(  # the index ix_child_waiting_for_bed holds exactly these children
        select(Child.found_place, func.count(), func.min(Child.found_at), func.count(Child.found_at))
        .where(Child.anonymized_at.is_(None), Child.reached_bed_at.is_(None)), user, filters
    ).group_by(Child.found_place)
    rows = []
    for place, count, oldest, timed in db.session.execute(query):
        longest = max(0.0, (at - oldest).total_seconds()) if oldest is not None else None
        rows.append(Waiting(place, count, longest, count - timed))
    return sorted(rows, key=lambda w: (w.place == NOT_RECORDED, w.place not in WAITING_PLACES,
                                       -(w.longest or 0), w.place))


def waiting_for_bed(user, filters: Filters) -> Report:
    rows = still_waiting(user, filters)
    report = Report("found-waiting", _("Children still without a bed"),
                    _("Children found and registered who have not reached a bed (no referral of theirs ever "
                      "arrived), by kind of place, the longest wait first; detention centres and police stations "
                      "first. Counted now: the date range does not apply."),
                    [_("Kind of place"), _("Children waiting"), _("Longest wait (hours)"), _("Time not recorded")])
    hidden = scope.hides_small_counts(user)
    for w in rows:
        # The longest of fewer than five timed waits would point at one child.
        secret = scope.is_hidden(w.count, user) or scope.is_hidden(w.timed, user)
        report.rows.append([w.label, scope.shown_count(w.count, user),
                            scope.NOT_SHOWN if secret or w.longest is None else _hours(w.longest),
                            scope.shown_count(w.not_recorded, user)])
    report.chart = Chart([_("Children waiting")], [(w.label, [_drawn(w.count, hidden)]) for w in rows], hidden=hidden)
    return report


# Added after the others; reports/routes.py imports this module before it serves REPORTS.
REPORTS.update({"found": found_by_place, "found-to-bed": time_to_bed, "found-waiting": waiting_for_bed})
