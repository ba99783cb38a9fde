"""The ombudsman's reports on where children were found and how long they waited for a bed,
each figure checked against a hand-built history (times UTC; the clock at 15 June 2026,
08:00 UTC, 12:00 in Baku; read over 1 April to 15 June):

  Aran  detention  d1 found 2 Apr 10:00   bed 2 Apr 16:00   (6 h)
        detention  d2 found 5 Apr 10:00   bed 6 Apr 10:00   (24 h)
        detention  d3 found 10 May 10:00  bed 10 May 12:00  (2 h)
        detention  d4 found 20 May 10:00  bed 22 May 10:00  (48 h; since discharged)
        detention  d5 found 1 Jun 10:00   bed 1 Jun 20:00   (10 h)
        detention  d6 found 14 Jun 20:00  no referral: waits 12 h
        police     p1 found 13 Jun 08:00  a referral submitted, never arrived: waits 48 h
        (not recorded) n1, registered 3 Apr, no time found, placed
  Baku  border     b1 found 30 Apr 22:00 (1 May 02:00 in Baku)  bed 1 May 01:00 (3 h)
        police     a1 found 14 Jun 06:00, no bed, anonymized: not waiting in any count
"""
from datetime import datetime, timedelta, timezone

import pytest

from coordination import clock
from coordination.extensions import db
from coordination.reports.overview import situation

from .helpers import csv_rows, report

NOW = datetime(2026, 6, 15, 8, 0, tzinfo=timezone.utc)
RANGE = "date_from=2026-04-01&date_to=2026-06-15"
DETENTION, POLICE, BORDER = "Detention centre for illegal migrants", "Police station", "Border crossing point"
PLACE_COLUMNS = [DETENTION, POLICE, BORDER, "Airport", "Street or outreach work", "Hospital",
                 "Came on their own (self-referral)", "Other place", "Not recorded (unknown)"]


def utc(*parts):
    return datetime(*parts, tzinfo=timezone.utc)


@pytest.fixture
def found(app, make):
    clock.freeze(NOW)
    aran, baku = make.region("Aran"), make.region("Baku")
    org_x = make.organization(region=aran, name="Organization X")
    org_y = make.organization(region=baku, name="Organization Y")
    pool = make.pool(shelter=make.shelter(region=aran), capacity=30)
    cx, cy = make.user("caseworker", organization=org_x), make.user("caseworker", organization=org_y)

    def child(caseworker, place, found_at, bed=None, status="placed"):
        kid = make.child(registered_by=caseworker, given_name="Leyla", family_name="Mammadova", found_place=place,
                         found_at=found_at)
        if bed is not None or status != "placed":
            referral = make.referral(pool=pool, child=kid, status=status)
            referral.submitted_at = found_at + timedelta(minutes=30)
            if bed is not None:
                referral.arrived_at = kid.reached_bed_at = bed
        db.session.commit()
        return kid

    child(cx, "migrant_detention", utc(2026, 4, 2, 10), utc(2026, 4, 2, 16))
    child(cx, "migrant_detention", utc(2026, 4, 5, 10), utc(2026, 4, 6, 10))
    child(cx, "migrant_detention", utc(2026, 5, 10, 10), utc(2026, 5, 10, 12))
    child(cx, "migrant_detention", utc(2026, 5, 20, 10), utc(2026, 5, 22, 10), status="discharged")
    child(cx, "migrant_detention", utc(2026, 6, 1, 10), utc(2026, 6, 1, 20))
    child(cx, "migrant_detention", utc(2026, 6, 14, 20))
    child(cx, "police_station", utc(2026, 6, 13, 8), status="submitted")
    unrecorded = child(cx, "border_crossing", utc(2026, 4, 3, 9), utc(2026, 4, 4, 9))
    unrecorded.found_place, unrecorded.found_at, unrecorded.found_region_id = "not_recorded", None, None
    unrecorded.created_at = utc(2026, 4, 3, 9)
    child(cy, "border_crossing", utc(2026, 4, 30, 22), utc(2026, 5, 1, 1))
    gone = child(cy, "police_station", utc(2026, 6, 14, 6))
    gone.anonymized_at = NOW
    db.session.commit()
    return aran, baku


def _officer(make, region):
    return make.user("guardianship", organization=make.organization(kind="state", region=region))


def _row(region, month, **counts):
    keys = ["migrant_detention", "police_station", "border_crossing", "airport", "street_outreach", "hospital",
            "self_referral", "other", "not_recorded"]
    return [region, month] + [str(counts.get(k, 0)) for k in keys]


def test_children_found_by_kind_of_place_region_and_local_month_with_not_recorded_apart(found, login_as):
    admin = login_as("admin")
    assert csv_rows(admin, "found", RANGE)[0] == ["Region", "Month"] + PLACE_COLUMNS
    assert report(admin, "found", RANGE) == [
        _row("Aran", "April 2026", migrant_detention=2, not_recorded=1),  # n1 in the month registered
        _row("Aran", "May 2026", migrant_detention=2),
        _row("Aran", "June 2026", migrant_detention=2, police_station=1),
        _row("Baku", "May 2026", border_crossing=1),                      # 1 May in Baku
        _row("Baku", "June 2026", police_station=1),                      # anonymized, but found all the same
    ]


def test_oversight_sees_each_small_count_of_children_found_as_under_five(found, login_as):
    rows = report(login_as("oversight"), "found", RANGE)
    assert rows[0] == ["Aran", "April 2026", "<5"] + ["0"] * 7 + ["<5"]


def test_a_guardianship_officer_counts_only_children_found_in_their_region(found, make, login_as):
    aran, baku = found
    officer = login_as(_officer(make, baku))
    assert report(officer, "found", RANGE) == [_row("Baku", "May 2026", border_crossing=1),
                                               _row("Baku", "June 2026", police_station=1)]
    assert report(officer, "found-waiting", RANGE) == []
    assert report(officer, "found-to-bed", RANGE) == [[BORDER, "1", "3", "3", "0"], ["Region: Baku", "1", "3", "3", "0"]]


def test_hours_from_found_to_the_first_bed_by_place_and_region_median_and_90th_percentile(found, login_as):
    admin = login_as("admin")
    assert csv_rows(admin, "found-to-bed", RANGE)[0] == [
        "Kind of place or region", "Children placed", "Median (hours)", "90th percentile (hours)",
        "Time not recorded"]
    assert report(admin, "found-to-bed", RANGE) == [
        [DETENTION, "5", "10", "48", "0"],           # 2, 6, 10, 24, 48 h: the 3rd and the 5th
        [BORDER, "1", "3", "3", "0"],
        ["Not recorded", "0", "—", "—", "1"],        # n1: placed, but no time to count from
        ["Region: Aran", "5", "10", "48", "1"],
        ["Region: Baku", "1", "3", "3", "0"],
    ]


def test_oversight_sees_no_wait_of_fewer_than_five_children(found, login_as):
    assert report(login_as("oversight"), "found-to-bed", RANGE) == [
        [DETENTION, "5", "10", "48", "0"],
        [BORDER, "<5", "—", "—", "0"],
        ["Not recorded", "0", "—", "—", "<5"],
        ["Region: Aran", "5", "10", "48", "<5"],
        ["Region: Baku", "<5", "—", "—", "0"],
    ]


def test_children_still_without_a_bed_waiting_places_first_longest_wait_first(found, login_as):
    admin = login_as("admin")
    assert csv_rows(admin, "found-waiting", RANGE)[0] == [
        "Kind of place", "Children waiting", "Longest wait (hours)", "Time not recorded"]
    assert report(admin, "found-waiting", RANGE) == [[POLICE, "1", "48", "0"], [DETENTION, "1", "12", "0"]]
    assert report(login_as("oversight"), "found-waiting", RANGE) == [[POLICE, "<5", "—", "0"],
                                                                     [DETENTION, "<5", "—", "0"]]


def test_the_overview_shows_who_waits_now_at_the_top_linking_to_the_report(found, make, login_as):
    oversight = make.user("oversight")
    overview = situation(oversight)
    assert [(w.place, overview.children(w.count), overview.longest_found_wait(w)) for w in overview.found_waiting] == [
        ("police_station", "<5", "—"), ("migrant_detention", "<5", "—")]
    admin_view = situation(make.user("admin"))
    assert [(w.place, w.count, admin_view.longest_found_wait(w)) for w in admin_view.found_waiting] == [
        ("police_station", 1, "48"), ("migrant_detention", 1, "12")]
    page = login_as(oversight).get("/overview").get_data(as_text=True)
    assert page.index('id="overview-found-waiting"') < page.index('id="overview-beds"')
    assert "#report-found-waiting" in page
    assert "Leyla" not in page and "Mammadova" not in page and "UC-" not in page
    reports_page = login_as(oversight).get(f"/reports?{RANGE}").get_data(as_text=True)
    assert "Leyla" not in reports_page and "UC-" not in reports_page


def test_children_waiting_with_no_time_found_are_counted_as_not_recorded_with_no_wait(app, make, login_as):
    clock.freeze(NOW)
    caseworker = make.user("caseworker")
    for i in range(6):
        kid = make.child(registered_by=caseworker, found_place="police_station", found_at=NOW - timedelta(hours=10 + i))
        if i:  # five registered before the question: no time found
            kid.found_place, kid.found_at = "not_recorded", None
    db.session.commit()
    rows = report(login_as("oversight"), "found-waiting", RANGE)
    assert rows == [[POLICE, "<5", "—", "0"], ["Not recorded", "5", "—", "5"]]
    assert report(login_as("admin"), "found-waiting", RANGE) == [[POLICE, "1", "10", "0"],
                                                                 ["Not recorded", "5", "—", "5"]]
