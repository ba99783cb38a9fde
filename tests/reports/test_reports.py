"""Every figure of every report, checked against the hand-built history of conftest.py, on
the page and in the CSV download alike."""
from coordination.reports.services import nearest_rank

from .conftest import EVIL, NAMES, RANGE
from .helpers import csv_rows, page_tables, report

MONTHS = ["April 2026", "May 2026", "June 2026"]


def test_referrals_per_month_by_outcome_count_each_referral_in_its_local_month_of_submission(history, login_as):
    admin = login_as("admin")
    assert report(admin, "referrals") == [
        # month, placed, declined, rejected, withdrawn, expired, still open
        ["April 2026", "2", "1", "1", "0", "1", "0"],   # r1 and r3 (since discharged) placed; r5 expired
        ["May 2026", "0", "0", "0", "1", "0", "1"],     # r6 was submitted at 01:00 on 1 May in Baku
        ["June 2026", "3", "1", "0", "0", "0", "0"],
    ]


def test_declines_by_reason_and_rejections_count_only_the_range(history, login_as):
    admin = login_as("admin")
    assert report(admin, "reasons") == [
        ["No capacity", "1"],            # r2; r13 was declined for no capacity in March
        ["Not eligible", "1"],
        ["Needs not met", "0"],
        ["Other", "0"],
        ["Rejected by guardianship", "1"],
    ]


def test_occupancy_now_per_shelter_from_the_pools_counts(history, login_as):
    admin = login_as("admin")
    assert report(admin, "occupancy") == [
        # region, shelter, capacity, occupied, held, out of service, free
        ["Aran", EVIL, "2", "0", "0", "0", "2"],
        ["Aran", "Safe Haven", "10", "6", "1", "1", "2"],  # 3 + r1, r10, r11 placed; r7 holds a bed
        ["Baku", "Baku House", "4", "1", "0", "0", "3"],
    ]


def test_waiting_times_are_the_nearest_rank_median_and_90th_percentile_per_region_and_month(history, login_as):
    admin = login_as("admin")
    assert report(admin, "waiting") == [
        ["Aran", "April 2026", "Shelter's answer", "4", "2 h 00 min", "6 h 00 min"],       # 1, 2, 4, 6 hours
        ["Aran", "April 2026", "Guardianship decision", "3", "10 h 00 min", "20 h 00 min"],  # 5, 10, 20
        ["Aran", "April 2026", "Arrival", "2", "24 h 00 min", "30 h 00 min"],
        ["Aran", "June 2026", "Shelter's answer", "2", "1 h 00 min", "3 h 00 min"],
        ["Aran", "June 2026", "Guardianship decision", "2", "2 h 00 min", "4 h 00 min"],
        ["Aran", "June 2026", "Arrival", "2", "22 h 00 min", "24 h 00 min"],
        ["Baku", "June 2026", "Shelter's answer", "2", "1 h 00 min", "3 h 00 min"],
        ["Baku", "June 2026", "Guardianship decision", "1", "2 h 00 min", "2 h 00 min"],
        ["Baku", "June 2026", "Arrival", "1", "26 h 00 min", "26 h 00 min"],
    ]


def test_the_nearest_rank_rule():
    assert [nearest_rank(n, 50) for n in (1, 2, 3, 4, 5, 10)] == [1, 1, 2, 2, 3, 5]
    assert [nearest_rank(n, 90) for n in (1, 2, 9, 10, 11, 20)] == [1, 2, 9, 9, 10, 18]


def test_unmet_demand_per_region_counts_no_capacity_declines_expiries_and_searches(history, login_as):
    admin = login_as("admin")
    # region, declined: no capacity, expired, searches; then searches by girls 0–5 … 15–17, boys 0–5 … 15–17
    assert report(admin, "unmet-demand") == [
        ["Aran", "1", "1", "3", "0", "0", "2", "0", "0", "0", "0", "1"],
        ["Baku", "0", "0", "1", "0", "0", "0", "0", "0", "1", "0", "0"],  # the March search is out of range
    ]


def test_placements_count_children_turning_18_within_90_days_and_long_stays(history, login_as):
    admin = login_as("admin")
    assert report(admin, "placements") == [
        # r1 turns 18 on 1 July and r10 on 13 September, day 90; r11 a day later. r1 has stayed 73 days (> 60).
        ["Aran", "Safe Haven", "3", "2", "1"],
        ["Baku", "Baku House", "1", "0", "0"],
    ]


def test_filters_narrow_every_report_to_the_region_and_the_organization(history, login_as):
    admin = login_as("admin")
    in_baku = f"{RANGE}&region={history.baku.id}"
    assert report(admin, "referrals", in_baku) == [
        ["April 2026", "0", "0", "0", "0", "0", "0"], ["May 2026", "0", "0", "0", "0", "0", "0"],
        ["June 2026", "1", "1", "0", "0", "0", "0"]]
    assert [row[1] for row in report(admin, "occupancy", in_baku)] == ["Baku House"]
    from_y = f"{RANGE}&organization={history.org_y.id}"  # the referring organization
    assert report(admin, "referrals", from_y) == [
        ["April 2026", "1", "0", "0", "0", "0", "0"], ["May 2026", "0", "0", "0", "1", "0", "0"],
        ["June 2026", "1", "1", "0", "0", "0", "0"]]
    may_only = "date_from=2026-05-01&date_to=2026-05-31"
    assert report(admin, "referrals", may_only) == [["May 2026", "0", "0", "0", "1", "0", "1"]]


def test_oversight_sees_counts_of_one_to_four_children_as_under_five(history, login_as):
    oversight = login_as("oversight")
    assert report(oversight, "referrals")[0] == ["April 2026", "<5", "<5", "<5", "0", "<5", "0"]
    # With the capacity and the beds out of service shown, the free beds would tell the one held.
    assert report(oversight, "occupancy")[1] == ["Aran", "Safe Haven", "10", "6", "<5", "1", "—"]
    assert report(oversight, "occupancy")[2] == ["Baku", "Baku House", "4", "<5", "0", "0", "—"]
    assert report(oversight, "occupancy")[0] == ["Aran", EVIL, "2", "0", "0", "0", "2"]
    # A total of searches beside its hidden groups would give them away.
    assert report(oversight, "unmet-demand") == [
        ["Aran", "<5", "<5", "—", "0", "0", "<5", "0", "0", "0", "0", "<5"],
        ["Baku", "0", "0", "—", "0", "0", "0", "0", "0", "<5", "0", "0"],
    ]
    # A wait of fewer than five children is not shown at all: it would single them out.
    assert report(oversight, "waiting")[0] == ["Aran", "April 2026", "Shelter's answer", "<5", "—", "—"]
    assert report(oversight, "placements")[0] == ["Aran", "Safe Haven", "<5", "<5", "<5"]


def test_a_guardianship_officer_reads_their_own_region_only(history, make, login_as):
    officer = login_as(make.user("guardianship", organization=make.organization(kind="state", region=history.baku)))
    assert [row[1] for row in report(officer, "occupancy")] == ["Baku House"]
    assert report(officer, "referrals")[-1] == ["June 2026", "1", "1", "0", "0", "0", "0"]
    assert [row[0] for row in report(officer, "unmet-demand")] == ["Baku"]
    for url in (f"/reports?{RANGE}&region={history.aran.id}", f"/reports/referrals.csv?{RANGE}&region={history.aran.id}"):
        refused = officer.get(url)
        assert refused.status_code == 400
        assert "Not a valid choice" in refused.get_data(as_text=True)


def test_bad_filters_are_refused_with_a_clear_message(history, login_as):
    admin = login_as("admin")
    for query, message in [("date_from=2026-02-30", "Not a valid date value"),
                           ("date_from=2026-06-01&date_to=2026-05-01", "The start of the range is after its end."),
                           ("date_from=2010-01-01&date_to=2026-01-01", "Choose a range of at most 60 months."),
                           ("region=abc", "Not a valid choice"), ("organization=999999", "Not a valid choice")]:
        for url in (f"/reports?{query}", f"/reports/referrals.csv?{query}"):
            response = admin.get(url)
            assert response.status_code == 400, url
            assert message in response.get_data(as_text=True), url
    htmx = admin.get("/reports?date_from=nonsense", htmx=True)
    assert htmx.status_code == 400 and 'id="reports"' in htmx.get_data(as_text=True)
    assert "<html" not in htmx.get_data(as_text=True)


def test_the_csv_opens_rightly_in_a_spreadsheet_and_runs_nothing(history, login_as):
    admin = login_as("admin")
    response = admin.get(f"/reports/occupancy.csv?{RANGE}")
    assert response.mimetype == "text/csv"
    assert response.headers["Content-Disposition"] == 'attachment; filename="occupancy-2026-04-01-2026-06-15.csv"'
    assert response.get_data().startswith("\ufeff".encode())
    rows = csv_rows(admin, "occupancy")
    assert rows[0] == ["Region", "Shelter", "Capacity", "Occupied", "Held", "Out of service", "Free"]
    assert rows[1][1] == "'" + EVIL


def test_the_csv_header_speaks_the_readers_language(history, make, login_as):
    reader = login_as(make.user("admin", locale="az"))
    rows = csv_rows(reader, "occupancy")
    assert rows[0][1] == "Sığınacaq"
    assert "iyun 2026" in {row[0] for row in csv_rows(reader, "referrals")}


def test_no_report_shows_a_childs_name_or_birth_date(history, login_as):
    for role in ("admin", "oversight"):
        reader = login_as(role)
        texts = [reader.get(f"/reports?{RANGE}").get_data(as_text=True)]
        texts += [reader.get(f"/reports/{key}.csv?{RANGE}").get_data(as_text=True)
                  for key in page_tables(reader)]
        for text in texts:
            for secret in NAMES + ("2008-07-01", "2008", "test reason"):
                assert secret not in text


def test_the_filters_are_carried_by_every_csv_link_and_the_default_is_the_last_twelve_months(history, login_as):
    admin = login_as("admin")
    page = admin.get(f"/reports?{RANGE}&region={history.aran.id}").get_data(as_text=True)
    assert f'href="/reports/waiting.csv?date_from=2026-04-01&amp;date_to=2026-06-15&amp;region={history.aran.id}"' in page
    months = [row[0] for row in page_tables(admin, "")["referrals"]]
    assert months[0] == "July 2025" and months[-1] == "June 2026" and len(months) == 12


def test_readers_reach_the_reports_from_the_menu_and_others_do_not_see_it(history, login_as):
    assert 'href="/reports"' in login_as("oversight").get("/").get_data(as_text=True)
    assert 'href="/reports"' not in login_as("caseworker").get("/").get_data(as_text=True)
