"""The bed board: what it lists, how it filters, how it answers htmx, how fresh it says
the numbers are, and that it costs the same however many shelters there are."""
import re
from contextlib import contextmanager
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import event

from coordination import clock
from coordination.accounts.models import Organization, Region
from coordination.availability import BOARD_PAGE
from coordination.beds.models import BedPool, Shelter
from coordination.beds.services import AGING, FRESH, STALE, freshness
from coordination.extensions import db

from ..conftest import Client, make_app

NOW = datetime(2026, 3, 2, 12, 0, tzinfo=timezone.utc)
ROW = re.compile(r'<tr id="board-pool-(\d+)"[^>]*>(.*?)</tr>', re.S)
FREE_TOTAL = re.compile(r'data-free="(\d+)">\d+</strong> / (\d+)')
ALL_REGIONS = "/beds?region="  # without it, the board shows the reader's own region
ALERT = re.compile(r'<div class="refusal" role="alert">(.*?)</div>', re.S)


def board_rows(response) -> dict[int, str]:
    """The board's rows, by pool id."""
    assert response.status_code == 200, response.get_data(as_text=True)
    return {int(pool_id): row for pool_id, row in ROW.findall(response.get_data(as_text=True))}


def listed(response) -> set[int]:
    return set(board_rows(response))


def free_and_total(row: str) -> tuple[int, int]:
    free, total = FREE_TOTAL.search(row).groups()
    return int(free), int(total)


@contextmanager
def app_configured(database_url, **config):
    """A second app on the same database, with other settings; the data comes from the
    normal fixtures, this app only renders it."""
    other = make_app(database_url, **config)
    try:
        yield other
    finally:
        with other.app_context():
            db.engine.dispose()


@pytest.fixture
def viewer(login_as):
    return login_as("caseworker")


# --- what the board lists ------------------------------------------------------------------

def test_board_lists_only_pools_of_open_shelters(make, viewer):
    open_pool = make.pool(make.shelter(status="open"))
    suspended_pool = make.pool(make.shelter(status="suspended"))
    closed_pool = make.pool(make.shelter(status="closed"))

    shown = listed(viewer.get(ALL_REGIONS))

    assert open_pool.id in shown
    assert suspended_pool.id not in shown
    assert closed_pool.id not in shown


def test_board_shows_free_beds_as_capacity_less_occupied_out_of_service_and_held(make, viewer):
    some_free = make.pool(capacity=10, occupied=3, out_of_service=2)
    none_free = make.pool(capacity=4, occupied=2, out_of_service=1)
    some_free.held = 1
    none_free.held = 1
    db.session.commit()

    rows = board_rows(viewer.get(ALL_REGIONS))

    assert free_and_total(rows[some_free.id]) == (4, 10)
    assert free_and_total(rows[none_free.id]) == (0, 4)


# --- filters -------------------------------------------------------------------------------

def test_region_filter_shows_only_that_regions_pools(make, viewer):
    north, south = make.region("North"), make.region("South")
    in_north = make.pool(make.shelter(region=north))
    in_south = make.pool(make.shelter(region=south))

    assert listed(viewer.get(f"/beds?region={north.id}")) == {in_north.id}
    assert listed(viewer.get(f"/beds?region={south.id}")) == {in_south.id}


@pytest.mark.parametrize("sex, shown, hidden", [
    ("female", {"female", "any"}, "male"),
    ("male", {"male", "any"}, "female"),
])
def test_sex_filter_shows_pools_for_that_sex_and_mixed_pools(make, viewer, sex, shown, hidden):
    shelter = make.shelter()
    pools = {admits: make.pool(shelter, admits_sex=admits) for admits in ("female", "male", "any")}

    result = listed(viewer.get(f"/beds?region=&sex={sex}"))

    assert result == {pools[admits].id for admits in shown}
    assert pools[hidden].id not in result


@pytest.mark.parametrize("age, shown", [
    (0, {"0-11"}),
    (11, {"0-11", "6-12"}),
    (12, {"6-12", "12-17"}),
    (17, {"12-17"}),
])
def test_age_filter_shows_pools_whose_age_range_includes_the_age(make, viewer, age, shown):
    shelter = make.shelter()
    pools = {
        "0-11": make.pool(shelter, min_age=0, max_age=11),
        "6-12": make.pool(shelter, min_age=6, max_age=12),
        "12-17": make.pool(shelter, min_age=12, max_age=17),
    }

    assert listed(viewer.get(f"/beds?region=&age={age}")) == {pools[name].id for name in shown}


def test_free_filter_hides_pools_with_no_free_bed_counting_held_beds(make, viewer):
    has_room = make.pool(capacity=5, occupied=4)
    full_of_children = make.pool(capacity=5, occupied=5)
    full_by_repairs = make.pool(capacity=5, occupied=2, out_of_service=3)
    full_by_holds = make.pool(capacity=5, occupied=4)
    full_by_holds.held = 1
    db.session.commit()

    assert listed(viewer.get(ALL_REGIONS)) == {
        has_room.id, full_of_children.id, full_by_repairs.id, full_by_holds.id}
    assert listed(viewer.get("/beds?region=&free=1")) == {has_room.id}


def test_filters_combine(make, viewer):
    home, elsewhere = make.region("Home"), make.region("Elsewhere")
    here = make.shelter(region=home)
    match = make.pool(here, admits_sex="female", min_age=12, max_age=17, capacity=3, occupied=1)
    # each of these fails exactly one of the four filters
    make.pool(make.shelter(region=elsewhere), admits_sex="female", min_age=12, max_age=17, capacity=3)
    make.pool(here, admits_sex="male", min_age=12, max_age=17, capacity=3)
    make.pool(here, admits_sex="female", min_age=0, max_age=11, capacity=3)
    make.pool(here, admits_sex="female", min_age=12, max_age=17, capacity=3, occupied=3)

    assert listed(viewer.get(f"/beds?region={home.id}&sex=female&age=14&free=1")) == {match.id}


def test_filtered_board_is_a_plain_link_that_shows_its_filters(make, login_as):
    region = make.region("Lankaran-Astara")
    girls = make.pool(make.shelter(region=region), admits_sex="female", min_age=12, max_age=17)
    make.pool(make.shelter(region=region), admits_sex="male", min_age=12, max_age=17)
    make.pool(make.shelter(), admits_sex="female", min_age=12, max_age=17)
    url = f"/beds?region={region.id}&sex=female&age=13&free=1"

    page = login_as("caseworker").get(url).get_data(as_text=True)
    form = re.search(r'<form id="filters"[^>]*>(.*?)</form>', page, re.S)
    assert 'method="get"' in form.group(0) and 'action="/beds"' in form.group(0)
    assert {"region", "sex", "age", "free"} <= set(re.findall(r'name="(\w+)"', form.group(1)))
    assert f'<option selected value="{region.id}">' in form.group(1)
    assert '<option selected value="female">' in form.group(1)
    assert 'value="13"' in form.group(1)
    assert re.search(r'<input checked[^>]*name="free"', form.group(1))

    # Someone else opening the same link, with no state of their own, sees the same board.
    assert listed(login_as("guardianship").get(url)) == {girls.id}


# --- page or fragment ----------------------------------------------------------------------

def test_normal_request_gets_the_whole_page_with_the_filter_form(make, viewer):
    pool = make.pool()
    body = viewer.get(ALL_REGIONS).get_data(as_text=True)
    assert "<html" in body
    assert '<form id="filters"' in body
    assert '<section id="board"' in body
    assert f'id="board-pool-{pool.id}"' in body


def test_htmx_partial_request_gets_only_the_board_fragment(make, viewer):
    pool = make.pool()
    response = viewer.get(ALL_REGIONS, headers={"HX-Request": "true", "HX-Request-Type": "partial"})
    body = response.get_data(as_text=True)
    assert response.status_code == 200
    assert body.lstrip().startswith('<section id="board"')
    assert body.rstrip().endswith("</section>")
    assert "<html" not in body
    assert 'id="filters"' not in body.replace('hx-include="#filters"', "")
    assert f'id="board-pool-{pool.id}"' in body


def test_htmx_full_request_gets_the_whole_page(make, viewer):
    response = viewer.get("/beds", headers={"HX-Request": "true", "HX-Request-Type": "full"})
    body = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "<html" in body
    assert '<form id="filters"' in body


@pytest.mark.parametrize("headers", [
    {},
    {"HX-Request": "true", "HX-Request-Type": "partial"},
    {"HX-Request": "true", "HX-Request-Type": "full"},
], ids=["plain", "htmx-partial", "htmx-full"])
def test_board_response_varies_on_the_htmx_headers(viewer, headers):
    response = viewer.get("/beds?region=&free=1", headers=headers)
    vary = {value.strip().lower() for value in response.headers.get("Vary", "").split(",")}
    assert {"hx-request", "hx-request-type"} <= vary


def _board_section(response) -> str:
    return re.search(r'<section id="board"[^>]*>', response.get_data(as_text=True)).group(0)


def test_board_refreshes_itself_every_30_seconds_by_default(viewer):
    assert 'hx-trigger="every 30s' in _board_section(viewer.get(ALL_REGIONS))
    assert 'hx-trigger="every 30s' in _board_section(viewer.get("/beds", htmx=True))


def test_board_refresh_interval_comes_from_configuration(make, database_url):
    user = make.user("caseworker")
    with app_configured(database_url, BOARD_REFRESH_SECONDS=5) as other:
        signed_in = Client(other)
        assert signed_in.login(user.email).status_code == 303
        assert 'hx-trigger="every 5s' in _board_section(signed_in.get("/beds", htmx=True))


# --- freshness -----------------------------------------------------------------------------

@pytest.mark.parametrize("hours_ago, level", [
    (0, FRESH),
    (1, FRESH),
    (12 - 1 / 3600, FRESH),
    (12, AGING),
    (20, AGING),
    (48, AGING),
    (48 + 1 / 3600, STALE),
    (72, STALE),
])
def test_freshness_depends_on_hours_since_counts_were_confirmed(hours_ago, level):
    assert freshness(NOW - timedelta(hours=hours_ago), NOW, 12, 48) == level


def test_never_confirmed_counts_are_stale():
    assert freshness(None, NOW, 12, 48) == STALE


def test_freshness_uses_the_thresholds_it_is_given():
    three_hours_ago = NOW - timedelta(hours=3)
    assert freshness(three_hours_ago, NOW, 12, 48) == FRESH
    assert freshness(three_hours_ago, NOW, 1, 2) == STALE
    assert freshness(three_hours_ago, NOW, 2, 4) == AGING


def _freshness_on(row: str) -> tuple[str, str]:
    """The CSS class and the visible word of a row's freshness badge."""
    level, word = re.search(r'<span class="freshness freshness-(\w+)">([^<]*)</span>', row).groups()
    return level, word.strip()


def test_board_marks_counts_fresh_aging_or_stale_with_a_class_and_a_word(make, viewer):
    clock.freeze(NOW)
    fresh = make.pool(last_confirmed_at=NOW - timedelta(hours=1))
    aging = make.pool(last_confirmed_at=NOW - timedelta(hours=20))
    stale = make.pool(last_confirmed_at=NOW - timedelta(hours=72))
    never = make.pool(last_confirmed_at=None)

    rows = board_rows(viewer.get(ALL_REGIONS))

    assert _freshness_on(rows[fresh.id]) == ("fresh", "fresh")
    assert _freshness_on(rows[aging.id]) == ("aging", "aging")
    assert _freshness_on(rows[stale.id]) == ("stale", "stale")
    assert _freshness_on(rows[never.id]) == ("stale", "stale")


def test_freshness_thresholds_come_from_configuration(make, viewer, database_url):
    clock.freeze(NOW)
    ninety_minutes = make.pool(last_confirmed_at=NOW - timedelta(minutes=90))
    three_hours = make.pool(last_confirmed_at=NOW - timedelta(hours=3))
    half_hour = make.pool(last_confirmed_at=NOW - timedelta(minutes=30))

    default = board_rows(viewer.get(ALL_REGIONS))
    assert _freshness_on(default[ninety_minutes.id])[0] == "fresh"
    assert _freshness_on(default[three_hours.id])[0] == "fresh"

    with app_configured(database_url, FRESH_HOURS=1, STALE_HOURS=2) as strict:
        signed_in = Client(strict)
        assert signed_in.login(viewer.user.email).status_code == 303
        rows = board_rows(signed_in.get(ALL_REGIONS))
    assert _freshness_on(rows[half_hour.id]) == ("fresh", "fresh")
    assert _freshness_on(rows[ninety_minutes.id]) == ("aging", "aging")
    assert _freshness_on(rows[three_hours.id]) == ("stale", "stale")


# --- cost ----------------------------------------------------------------------------------

def _add_shelters(count: int, start: int) -> None:
    """`count` open shelters with two pools each, each shelter in a region and run by an
    organization of its own, so that any per-row lazy load would show in the count."""
    records = []
    for i in range(start, start + count):
        region = Region(code=f"BULK{i}", name=f"Bulk region {i:04d}")
        organization = Organization(name=f"Bulk organization {i}", kind="ngo", region=region)
        shelter = Shelter(organization=organization, region=region, name=f"Bulk shelter {i}",
                          address=f"{i} Bulk Street", languages=["az"], services=[])
        records += [region, organization, shelter]
        for label, admits in (("Girls", "female"), ("Boys", "male")):
            records.append(BedPool(shelter=shelter, label=label, admits_sex=admits, min_age=0,
                                   max_age=17, capacity=4, occupied=1, out_of_service=0, held=0,
                                   version=1, last_confirmed_at=clock.now()))
    db.session.add_all(records)
    db.session.commit()


def _statements_for(client: Client, url: str):
    statements = []

    def record(conn, cursor, statement, parameters, context, executemany):
        statements.append(statement)

    db.session.commit()
    event.listen(db.engine, "before_cursor_execute", record)
    try:
        response = client.get(url)
    finally:
        event.remove(db.engine, "before_cursor_execute", record)
    return response, statements


def test_board_costs_the_same_number_of_statements_for_10_and_500_shelters(viewer):
    _add_shelters(10, start=0)
    small, few = _statements_for(viewer, ALL_REGIONS)
    assert len(board_rows(small)) == 20

    _add_shelters(490, start=10)
    large, many = _statements_for(viewer, ALL_REGIONS)
    assert len(board_rows(large)) == BOARD_PAGE  # a thousand pools never go out at once

    assert len(many) == len(few), "\n".join(many)


# --- bad filter input ----------------------------------------------------------------------

LONG = "9" * 10_000


@pytest.mark.parametrize("query, field, message", [
    ("age=abc", "Age", "Not a valid integer value."),
    ("age=-1", "Age", "Age must be between 0 and 17."),
    ("age=18", "Age", "Age must be between 0 and 17."),
    ("age=99999999999999999999", "Age", "Age must be between 0 and 17."),
    (f"age={LONG}", "Age", "Not a valid integer value."),
    ("region=not-a-number", "Region", "Not a valid choice."),
    ("region=999999", "Region", "Not a valid choice."),
    ("region=99999999999999999999", "Region", "Not a valid choice."),
    (f"region={LONG}", "Region", "Not a valid choice."),
    ("sex=robot", "Sex", "Not a valid choice."),
    (f"sex={'x' * 10_000}", "Sex", "Not a valid choice."),
], ids=lambda value: value[:30] if isinstance(value, str) else value)
def test_bad_filter_input_is_refused_with_a_message_never_a_500(make, viewer, query, field, message):
    make.pool()

    for htmx in (False, True):
        response = viewer.get(f"/beds?{query}" if query.startswith("region=") else f"/beds?region=&{query}", htmx=htmx)
        body = response.get_data(as_text=True)
        assert 400 <= response.status_code < 500
        alert = ALERT.search(body)
        assert alert, body
        assert f"{field}: {message}" in alert.group(1)
        assert not ROW.search(body)  # a refused filter lists nothing rather than guessing
        assert ("<html" in body) is not htmx
