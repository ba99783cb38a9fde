"""The bed board at national size: it opens on the reader's own region, goes out a page at
a time, and a poll of a page that has not changed is answered with 204 after one small
statement, while any change a reader would see (counts, holds, a hold running out, counts
growing stale with time alone, the reader's language) draws the board again."""
import json
import re
from datetime import timedelta

import pytest
from sqlalchemy import event

from coordination import clock
from coordination.availability import BOARD_PAGE
from coordination.beds import services as bed_services
from coordination.extensions import db

from .test_board import ALL_REGIONS, listed

VERSION = re.compile(r'"X-Board-Version": "([0-9a-f]*)"')


def poll(client, url: str, version: str):
    return client.get(url, htmx=True, headers={"X-Poll": "1", "X-Board-Version": version})


def version_of(response) -> str:
    assert response.status_code == 200, response.get_data(as_text=True)
    return VERSION.search(response.get_data(as_text=True)).group(1)


def statements_of(client, url: str, version: str):
    statements = []

    def record(conn, cursor, statement, parameters, context, executemany):
        if not statement.startswith(("BEGIN", "COMMIT", "ROLLBACK")):
            statements.append(statement)

    db.session.commit()
    event.listen(db.engine, "before_cursor_execute", record)
    try:
        response = poll(client, url, version)
    finally:
        event.remove(db.engine, "before_cursor_execute", record)
    return response, statements


@pytest.fixture
def home(make):
    """A caseworker's organization's region, with one pool; another region with one more."""
    region = make.region("Home")
    organization = make.organization(region=region)
    return {"region": region, "organization": organization,
            "pool": make.pool(make.shelter(organization=organization, region=region)),
            "elsewhere": make.pool(make.shelter(region=make.region("Elsewhere")))}


@pytest.fixture
def reader(home, login_as, make, app, monkeypatch):
    # The tests move the clock by hours; the reader's session must not end for that.
    monkeypatch.setitem(app.config, "SESSION_IDLE_MINUTES", 7 * 24 * 60)
    return login_as(make.user("caseworker", organization=home["organization"]))


# --- scope ---------------------------------------------------------------------------------

def test_the_board_opens_on_the_readers_own_region(home, reader):
    page = reader.get("/beds")
    assert listed(page) == {home["pool"].id}
    assert f'<option selected value="{home["region"].id}">Home</option>' in page.get_data(as_text=True)


def test_all_regions_is_one_choice_away(home, reader):
    assert listed(reader.get(ALL_REGIONS)) == {home["pool"].id, home["elsewhere"].id}


# --- pages ---------------------------------------------------------------------------------

def test_a_long_board_goes_out_a_page_at_a_time_with_links_to_the_next_and_back(make, home, reader):
    shelter = home["pool"].shelter
    more = [make.pool(shelter) for _ in range(BOARD_PAGE)]  # the home region now has a page and one pool

    first = reader.get("/beds")
    body = first.get_data(as_text=True)
    assert len(listed(first)) == BOARD_PAGE
    assert f"Bed pools 1–{BOARD_PAGE}" in body
    # The links name the region the page shows, the reader's own: a link to send on.
    region = home["region"].id
    assert f'rel="next" href="/beds?region={region}&amp;page=2"' in body and 'rel="prev"' not in body

    second = reader.get(f"/beds?region={region}&page=2")
    assert listed(second) | listed(first) == {home["pool"].id} | {p.id for p in more}
    assert len(listed(second)) == 1
    assert f'rel="prev" href="/beds?region={region}&amp;page=1"' in second.get_data(as_text=True)
    assert 'rel="next"' not in second.get_data(as_text=True)
    # The page polls itself, not the first page.
    assert 'hx-get="/beds?page=2"' in reader.get("/beds?page=2").get_data(as_text=True)


def test_filters_keep_to_their_page_links(make, home, reader):
    for _ in range(BOARD_PAGE + 1):
        make.pool(home["pool"].shelter, admits_sex="female")
    body = reader.get(f"/beds?region={home['region'].id}&sex=female").get_data(as_text=True)
    assert f'href="/beds?region={home["region"].id}&amp;sex=female&amp;page=2"' in body


@pytest.mark.parametrize("page", ["0", "-1", "abc", "10001", "99999999999999999999"])
def test_a_page_that_is_not_one_is_refused_with_a_message(reader, page):
    response = reader.get(f"/beds?page={page}")
    assert response.status_code == 400
    assert "There is no such page." in response.get_data(as_text=True) or \
        "Not a valid integer value." in response.get_data(as_text=True)


def test_a_page_past_the_end_says_no_pool_matches(reader):
    response = reader.get("/beds?page=5")
    assert response.status_code == 200 and listed(response) == set()
    assert "No open shelter has a pool that matches these filters." in response.get_data(as_text=True)


# --- the poll ------------------------------------------------------------------------------

def test_a_poll_of_an_unchanged_board_costs_two_statements_and_swaps_nothing(home, reader):
    version = version_of(reader.get("/beds", htmx=True))

    response, statements = statements_of(reader, "/beds", version)

    assert response.status_code == 204 and response.get_data() == b""
    # One for the signed-in person (with their organization), one for the board's numbers.
    assert len(statements) == 2, "\n".join(statements)
    checked = json.loads(response.headers["HX-Trigger"])["boardChecked"]
    assert checked["at"] and checked["datetime"].startswith(str(clock.now().year))


def test_a_poll_without_a_version_or_with_another_draws_the_board(home, reader):
    assert listed(reader.get("/beds", htmx=True, headers={"X-Poll": "1"})) == {home["pool"].id}
    assert listed(poll(reader, "/beds", "not-the-version")) == {home["pool"].id}


def test_a_count_change_draws_the_board_again_with_a_new_version(home, reader):
    version = version_of(reader.get("/beds", htmx=True))
    pool = home["pool"]
    pool.occupied += 1
    pool.version += 1
    db.session.commit()

    answer = poll(reader, "/beds", version)

    assert listed(answer) == {pool.id}
    assert version_of(answer) != version
    assert poll(reader, "/beds", version_of(answer)).status_code == 204


def test_a_hold_taken_draws_the_board_again_though_it_leaves_the_pools_version(home, reader):
    version = version_of(reader.get("/beds", htmx=True))
    assert bed_services.take_hold(home["pool"].id)
    db.session.commit()

    assert poll(reader, "/beds", version).status_code == 200


def test_a_hold_running_out_draws_the_board_again(make, home, reader):
    referral = make.referral(home["pool"], status="submitted")
    version = version_of(reader.get("/beds", htmx=True))
    clock.freeze(referral.hold_until + timedelta(minutes=1))

    answer = poll(reader, "/beds", version)

    assert answer.status_code == 200
    assert 'data-free="5"' in answer.get_data(as_text=True)  # the hold no longer counts


def test_counts_growing_stale_with_time_alone_draw_the_board_again(app, home, reader):
    start = clock.now()
    clock.freeze(start)
    version = version_of(reader.get("/beds", htmx=True))
    clock.freeze(start + timedelta(minutes=5))
    assert poll(reader, "/beds", version).status_code == 204

    clock.freeze(start + timedelta(hours=app.config["FRESH_HOURS"], minutes=1))
    answer = poll(reader, "/beds", version)
    assert answer.status_code == 200 and "freshness-aging" in answer.get_data(as_text=True)


def test_a_poll_in_another_language_draws_the_board_in_it(home, reader):
    version = version_of(reader.get("/beds", htmx=True))
    reader.post("/account/language", {"language": "ru", "next": "/beds"})
    answer = poll(reader, "/beds", version)
    assert answer.status_code == 200 and "данные на" in answer.get_data(as_text=True)


def test_a_poll_with_bad_filters_is_refused_as_a_page_would_be(reader):
    response = poll(reader, "/beds?age=99", "anything")
    assert response.status_code == 400
    assert "Age must be between 0 and 17." in response.get_data(as_text=True)


def test_a_shelter_or_region_renamed_draws_the_board_again(home, reader):
    version = version_of(reader.get("/beds", htmx=True))
    home["region"].name = "Home, renamed"
    db.session.commit()
    answer = poll(reader, "/beds", version)
    assert answer.status_code == 200 and "Home, renamed" in answer.get_data(as_text=True)

    version = version_of(answer)
    home["pool"].shelter.name = "Shelter, renamed"
    db.session.commit()
    answer = poll(reader, "/beds", version)
    assert answer.status_code == 200 and "Shelter, renamed" in answer.get_data(as_text=True)


# --- a board drawn once, handed out again --------------------------------------------------

def test_a_board_already_drawn_is_handed_out_again_after_two_statements_with_its_own_time(
        make, home, reader, login_as):
    """A second reader who polls for the board another has just drawn gets the same rows
    after the same two statements as an unchanged poll, with the time of their own check."""
    clock.freeze(clock.now())
    first = reader.get("/beds", htmx=True)
    other = login_as(make.user("caseworker", organization=home["organization"]))
    clock.freeze(clock.now() + timedelta(minutes=3))

    answer, statements = statements_of(other, "/beds", "a version the board no longer has")

    assert answer.status_code == 200 and listed(answer) == listed(first)
    assert len(statements) == 2, "\n".join(statements)
    assert version_of(answer) == version_of(first)
    checked = re.search(r'<time id="board-checked" datetime="([^"]+)"', answer.get_data(as_text=True)).group(1)
    assert checked == clock.now().isoformat()


def test_a_board_drawn_for_one_role_is_not_handed_to_another(make, home, reader, login_as):
    """The caseworker's board offers to refer a child; the guardianship officer's, drawn for
    the same pools, language and day, must not."""
    assert "Refer a child" in reader.get("/beds", htmx=True).get_data(as_text=True)
    officer = login_as(make.user("guardianship", organization=make.organization(region=home["region"])))

    answer = officer.get("/beds", htmx=True, headers={"X-Poll": "1"})

    assert listed(answer) == {home["pool"].id}
    assert "Refer a child" not in answer.get_data(as_text=True)


def test_the_page_links_of_a_board_drawn_once_name_the_region_it_shows(make, home, reader, login_as):
    """A reader whose own region is elsewhere, asking for the home region's board another
    has just drawn, gets links that stay on the home region, not on their own."""
    for _ in range(BOARD_PAGE):
        make.pool(home["pool"].shelter)
    reader.get("/beds", htmx=True)
    elsewhere = home["elsewhere"].shelter
    visitor = login_as(make.user("caseworker", organization=make.organization(region=elsewhere.region)))

    body = visitor.get(f"/beds?region={home['region'].id}", htmx=True).get_data(as_text=True)

    assert f'rel="next" href="/beds?region={home["region"].id}&amp;page=2"' in body


@pytest.mark.parametrize("region", ["abc", "99999999999999999999", "-1"])
def test_a_poll_naming_a_region_that_cannot_be_one_is_refused_as_a_page_would_be(reader, region):
    response = poll(reader, f"/beds?region={region}", "anything")
    assert response.status_code == 400
    assert "Not a valid choice" in response.get_data(as_text=True)
