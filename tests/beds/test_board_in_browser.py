"""The bed board in a real browser: a count that shelter staff change reaches a
caseworker's open board by itself, without anyone reloading a page."""
import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from coordination.accounts.models import CASEWORKER, SHELTER_STAFF
from coordination.beds.models import BedPool, BedUpdate
from coordination.extensions import db

from ..browser_fixtures import BOARD_REFRESH_SECONDS

# Set on `window` before acting and looked for after: a page that navigated (a reload, a
# plain form POST and its redirect) has a new window without it.
MARKER = "window.__sameDocument"


def set_marker(page) -> None:
    page.evaluate(f"{MARKER} = true")


def still_same_document(page) -> bool:
    return page.evaluate(f"{MARKER} === true")


@pytest.mark.browser
def test_plus_one_occupied_reaches_an_open_board_without_a_reload(make, new_page):
    operator = make.organization(kind="ngo")
    shelter = make.shelter(organization=operator)
    pool = make.pool(shelter=shelter, label="Girls 12–17", capacity=5, occupied=2)
    other_pool = make.pool(shelter=shelter, label="Boys 12–17", capacity=4, occupied=1)
    staff = make.user(SHELTER_STAFF, organization=operator)
    caseworker = make.user(CASEWORKER, organization=make.organization(kind="state"))
    shelter_id, pool_id, other_pool_id, staff_id = shelter.id, pool.id, other_pool.id, staff.id
    shelter_name = shelter.name

    board = new_page(caseworker)
    board.goto("/beds?region=")  # the shelter is not in the caseworker's own region
    free_on_board = board.locator(f"#board-pool-{pool_id} strong")
    expect(free_on_board).to_have_attribute("data-free", "3")
    expect(board.locator(f"#board-pool-{other_pool_id} strong")).to_have_attribute("data-free", "3")
    set_marker(board)

    shelter_page = new_page(staff)
    shelter_page.goto(f"/shelters/{shelter_id}")
    shelter_url = shelter_page.url
    row = shelter_page.locator(f"#pool-{pool_id}")
    expect(row.locator("output[data-count=occupied]")).to_have_text("2")
    set_marker(shelter_page)

    row.get_by_role("button", name="+1 One bed more occupied in Girls 12–17", exact=True).click()

    # The staff's own row was swapped in by htmx: new numbers and the row's own notice,
    # in the same document, at the same address (a plain POST would land on #pool-N).
    expect(row.locator("output[data-count=occupied]")).to_have_text("3")
    expect(row.locator("strong[data-free]")).to_have_attribute("data-free", "2")
    expect(row.locator(".notice")).to_have_text("Saved.")
    assert still_same_document(shelter_page), "the shelter page navigated instead of swapping the row"
    assert shelter_page.url == shelter_url

    # The caseworker's board polls every BOARD_REFRESH_SECONDS and shows the new number.
    expect(free_on_board).to_have_attribute("data-free", "2", timeout=BOARD_REFRESH_SECONDS * 5 * 1000)
    expect(board.locator(f"#board-pool-{other_pool_id} strong")).to_have_attribute("data-free", "3")
    assert still_same_document(board), "the board reloaded instead of refreshing in place"
    # The changed row is marked, in words too, and the change is said once for screen readers.
    expect(board.locator(f"#board-pool-{pool_id}")).to_have_class("changed")
    expect(board.locator(f"#board-pool-{pool_id} .changed-tag")).to_have_text("changed")
    expect(board.locator(f"#board-pool-{other_pool_id}")).not_to_have_class("changed")
    expect(board.locator("#board-news")).to_have_text(
        f"Changed since the last refresh: {shelter_name} · Girls 12–17, now 2 free")
    assert board.url.endswith("/beds?region=")

    assert shelter_page.script_errors == [] and board.script_errors == []

    db.session.expire_all()
    changed = db.session.get(BedPool, pool_id)
    assert (changed.occupied, changed.version) == (3, 2)
    last = db.session.scalars(select(BedUpdate).where(BedUpdate.pool_id == pool_id)
                              .order_by(BedUpdate.id.desc())).first()
    assert (last.user_id, last.occupied) == (staff_id, 3)
    db.session.commit()  # release the database before the pages close


@pytest.mark.browser
def test_an_htmx_error_on_the_board_shows_in_the_message_area_and_leaves_the_board(make, new_page):
    """htmx 4 swaps error bodies too: a refusal answering a request aimed at the board (here
    a page the caseworker may not see, asked for as the board would ask) says so in the
    page's message area, and the board keeps its rows."""
    pool = make.pool(label="Girls 12–17", capacity=5, occupied=2)
    caseworker = make.user(CASEWORKER)
    pool_id = pool.id

    board = new_page(caseworker)
    board.goto("/beds?region=")
    expect(board.locator(f"#board-pool-{pool_id} strong")).to_have_attribute("data-free", "3")
    set_marker(board)

    board.evaluate("htmx.ajax('GET', '/audit', {source: '#board', target: '#board', swap: 'outerMorph'})")

    expect(board.locator("#messages .refusal")).to_have_text("You are not allowed to do that; nothing was changed.")
    expect(board.locator(f"#board #board-pool-{pool_id} strong")).to_have_attribute("data-free", "3")
    assert board.locator("#board").count() == 1 and board.locator("#messages").count() == 1
    assert still_same_document(board)
    assert board.script_errors == []


@pytest.mark.browser
def test_an_unchanged_board_is_left_alone_and_says_when_it_was_checked(make, new_page):
    shelter = make.shelter()
    pool = make.pool(shelter=shelter, capacity=5, occupied=1)
    caseworker = make.user(CASEWORKER, organization=make.organization(region=shelter.region))
    pool_id = pool.id

    board = new_page(caseworker)
    board.goto("/beds")
    checked = board.locator("#board-checked")
    first_check = checked.get_attribute("datetime")
    set_marker(board)

    # A poll of the unchanged board gets 204: nothing is swapped, the time checked moves on.
    with board.expect_response(lambda r: "/beds" in r.url and r.status == 204,
                               timeout=BOARD_REFRESH_SECONDS * 5 * 1000):
        pass
    expect(checked).not_to_have_attribute("datetime", first_check)
    expect(board.locator(f"#board-pool-{pool_id} strong")).to_have_attribute("data-free", "4")

    # A change is drawn at the next poll; the poll after it names the new version, and is
    # left alone again.
    db.session.execute(BedPool.__table__.update().where(BedPool.id == pool_id)
                       .values(occupied=3, version=BedPool.version + 1))
    db.session.commit()
    with board.expect_response(lambda r: "/beds" in r.url and r.status == 200,
                               timeout=BOARD_REFRESH_SECONDS * 5 * 1000):
        pass
    expect(board.locator(f"#board-pool-{pool_id} strong")).to_have_attribute("data-free", "2")
    with board.expect_response(lambda r: "/beds" in r.url and r.status == 204,
                               timeout=BOARD_REFRESH_SECONDS * 5 * 1000):
        pass
    expect(board.locator(f"#board-pool-{pool_id} strong")).to_have_attribute("data-free", "2")
    assert still_same_document(board), "the board reloaded instead of refreshing in place"
    assert board.script_errors == []
