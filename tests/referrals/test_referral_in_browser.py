"""A referral from draft to placed and out again, in a real browser: three people in three
browser contexts each take their own steps, and the bed board that a caseworker keeps open
in another tab falls by one when the bed is held, stays there when the hold becomes an
occupied bed, and rises again at the discharge, without anyone reloading it."""
import re
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from coordination.accounts.models import CASEWORKER, GUARDIANSHIP, SHELTER_STAFF
from coordination.beds.models import BedPool
from coordination.extensions import db
from coordination.referrals.models import Referral, ReferralEvent

from ..browser_fixtures import BOARD_REFRESH_SECONDS

# Set on `window` before acting and looked for after: a page that navigated (a reload, a
# plain form POST and its redirect) has a new window without it.
MARKER = "window.__sameDocument"
# Long enough for a few polls of the board, however slow the machine.
BOARD_TIMEOUT_MS = BOARD_REFRESH_SECONDS * 5 * 1000
FORGED = "did not come from this site"  # the CSRF refusal's words (coordination/errors.py)

# How the timeline's line for each status begins, in English (coordination/words.py).
SAID = {"draft": "Draft made by", "submitted": "Submitted by", "accepted": "Accepted for the shelter by",
        "approved": "Placement approved by", "placed": "Arrival recorded by", "discharged": "Discharge recorded by"}


def set_marker(page) -> None:
    page.evaluate(f"{MARKER} = true")


def still_same_document(page) -> bool:
    return page.evaluate(f"{MARKER} === true")


def another_tab(page):
    """A second tab of the same person: a page in `page`'s browser context (same cookies,
    so the same session), collecting script errors as new_page's pages do."""
    tab = page.context.new_page()
    tab.script_errors = []
    tab.on("pageerror", lambda error: tab.script_errors.append(str(error)))
    return tab


def open_from_queue(page, section: str, case_reference: str, referral_path: str) -> None:
    """From the work queue at /, follow the case's link in one section to its referral."""
    page.goto("/")
    link = page.locator(f"table[aria-labelledby=queue-{section}]").get_by_role(
        "link", name=case_reference, exact=True)
    with page.expect_navigation():
        link.click()
    assert urlsplit(page.url).path == referral_path, page.url


def take_step(page, action: str, expected_status: str, reason: str | None = None):
    """Press the step's button (for a decision, after opening it and reading what it will do)
    on an open referral page and check that htmx swapped the
    status panel in place: a 200 to an htmx POST carrying the CSRF header, the new status,
    the same document at the same address."""
    url = page.url
    set_marker(page)
    decision = page.locator(f"#referral-state details.decision-{action}")
    if decision.count():  # a decision says what will happen before its button shows
        expect(decision.locator("form")).to_be_hidden()
        decision.locator("summary").click()
        expect(decision.locator(".consequence")).to_be_visible()
    form = page.locator(f"#referral-state form.move.move-{action}")
    if reason is not None:
        form.locator("textarea[name=reason_text]").fill(reason)
    if action == "discharge":
        form.locator("select[name=reason_code]").select_option("family_reunification")
    with page.expect_response(lambda r: urlsplit(r.url).path.endswith(f"/{action}")
                              and r.request.method == "POST") as answered:
        form.get_by_role("button").click()
    response = answered.value
    assert response.status == 200, (action, response.status, response.text())
    headers = response.request.headers
    assert headers.get("hx-request") == "true", f"{action} was not posted by htmx"
    assert headers.get("x-csrftoken"), f"{action} was posted without the CSRF header"
    expect(page.locator("#referral-state [data-status]")).to_have_attribute("data-status", expected_status)
    expect(page.locator("#referral-state .refusal")).to_have_count(0)
    assert still_same_document(page), f"{action}: the page navigated instead of swapping the panel"
    assert page.url == url


def expect_timeline(page, statuses: list[str], people: list[str]) -> None:
    entries = page.locator("#referral-state .timeline li:not(.muted) .step")
    expect(entries).to_have_count(len(statuses))
    for n, (status, who) in enumerate(zip(statuses, people, strict=True)):
        expect(entries.nth(n)).to_contain_text(f"{SAID[status]} {who}")


def board_row_says(html: str, pool_id: int) -> str:
    """The free count a bed board response shows for one pool."""
    row = re.search(rf'id="board-pool-{pool_id}".*?data-free="(\d+)"', html, re.DOTALL)
    assert row, f"pool {pool_id} is not on the board"
    return row.group(1)


@pytest.mark.browser
def test_three_people_take_a_referral_to_placed_and_the_open_board_follows(make, new_page):
    region = make.region()
    operator = make.organization(kind="ngo", region=region)
    shelter = make.shelter(organization=operator)
    pool = make.pool(shelter=shelter, label="Girls 12–17", admits_sex="female", min_age=12, max_age=17,
                     capacity=4, occupied=1)
    staff = make.user(SHELTER_STAFF, organization=operator)
    guardian = make.user(GUARDIANSHIP, organization=make.organization(kind="state", region=region))
    caseworker = make.user(CASEWORKER, organization=make.organization(kind="state"))
    child = make.child(registered_by=caseworker, sex="female", estimated_age=14)
    # Everything the test needs from its records, read now: later the browser owns the database.
    pool_id, child_id, case_reference = pool.id, child.id, child.case_reference
    cw, cw_name = caseworker.id, caseworker.name
    st, staff_name = staff.id, staff.name
    gu, guardian_name = guardian.id, guardian.name

    # The caseworker keeps the bed board open in one tab: 4 beds, 1 occupied, 3 free.
    board = new_page(caseworker)
    board.goto("/beds?region=")  # all regions: the shelter is not in the caseworker's own
    free_on_board = board.locator(f"#board-pool-{pool_id} strong[data-free]")
    expect(free_on_board).to_have_attribute("data-free", "3")
    set_marker(board)

    # ... and refers the child in another tab: the pool offered, "Submit and hold a bed".
    referring = another_tab(board)
    referring.goto(f"/referrals/new?child={child_id}")
    referring.locator(f"#suggestions input[type=radio][name=pool][value='{pool_id}']").check()
    with referring.expect_navigation():
        referring.get_by_role("button", name="Submit and hold a bed", exact=True).click()
    landed = re.fullmatch(r"/referrals/(\d+)", urlsplit(referring.url).path)
    assert landed, f"the submit landed on {referring.url}"
    referral_id = int(landed.group(1))
    referral_path = f"/referrals/{referral_id}"
    expect(referring.locator("#referral-state [data-status]")).to_have_attribute("data-status", "submitted")
    expect(referring.locator(".flash-success")).to_contain_text("Submitted: one bed is held")
    expect(referring.locator("#referral-state")).to_contain_text("One bed is held until")
    expect_timeline(referring, ["draft", "submitted"], [cw_name, cw_name])

    # The open board shows the held bed by itself: 2 free, same document.
    expect(free_on_board).to_have_attribute("data-free", "2", timeout=BOARD_TIMEOUT_MS)
    assert still_same_document(board), "the board reloaded instead of refreshing in place"

    # The shelter staff answer it from their work queue: Accept, swapped in by htmx.
    staff_page = new_page(staff)
    open_from_queue(staff_page, "to_answer", case_reference, referral_path)
    take_step(staff_page, "accept", "accepted")
    expect_timeline(staff_page, ["draft", "submitted", "accepted"], [cw_name, cw_name, staff_name])
    expect(staff_page.locator("#referral-state form.move")).to_have_count(0)  # the next step is not theirs

    # The guardianship officer of the shelter's region approves the placement.
    guardian_page = new_page(guardian)
    open_from_queue(guardian_page, "decisions", case_reference, referral_path)
    take_step(guardian_page, "approve", "approved")
    expect_timeline(guardian_page, ["draft", "submitted", "accepted", "approved"],
                    [cw_name, cw_name, staff_name, guardian_name])

    # The child arrives: the staff find the referral among expected arrivals and record it.
    open_from_queue(staff_page, "arrivals", case_reference, referral_path)
    # From here on, the board's answers: an unchanged board answers its polls with 204, so
    # an answer with the board in it can only follow a change.
    board_answers = []
    board.on("response", lambda r: board_answers.append(r) if urlsplit(r.url).path == "/beds" else None)
    take_step(staff_page, "place", "placed")
    expect_timeline(staff_page, ["draft", "submitted", "accepted", "approved", "placed"],
                    [cw_name, cw_name, staff_name, guardian_name, staff_name])
    expect(staff_page.locator("#referral-state .timeline li.muted")).to_contain_text("Arrived at")
    expect(staff_page.locator("#referral-state")).not_to_contain_text("One bed is held")

    # The hold became an occupied bed: the board is drawn again after the arrival, and says 2.
    waited = 0
    while not any(r.status == 200 for r in board_answers) and waited < BOARD_TIMEOUT_MS:
        board.wait_for_timeout(100)
        waited += 100
    redrawn = [r for r in board_answers if r.status == 200]
    assert redrawn, f"the board was not drawn again after the arrival: {[r.status for r in board_answers]}"
    assert board_row_says(redrawn[0].text(), pool_id) == "2"
    expect(free_on_board).to_have_attribute("data-free", "2")

    # The staff record the discharge, with its reason: the bed is free again.
    take_step(staff_page, "discharge", "discharged", reason="Family reunification")
    expect_timeline(staff_page, ["draft", "submitted", "accepted", "approved", "placed", "discharged"],
                    [cw_name, cw_name, staff_name, guardian_name, staff_name, staff_name])
    expect(staff_page.locator("#referral-state .timeline li").filter(has_text=SAID["discharged"])
           .locator("q.reason")).to_have_text("Family reunification")
    expect(staff_page.locator("#referral-state form.move")).to_have_count(0)  # discharged is the end

    expect(free_on_board).to_have_attribute("data-free", "3", timeout=BOARD_TIMEOUT_MS)
    assert still_same_document(board), "the board reloaded instead of refreshing in place"
    assert urlsplit(board.url).path == "/beds"

    # The caseworker's own tab, reloaded, tells the whole story too.
    referring.reload()
    expect(referring.locator("#referral-state [data-status]")).to_have_attribute("data-status", "discharged")
    expect_timeline(referring, ["draft", "submitted", "accepted", "approved", "placed", "discharged"],
                    [cw_name, cw_name, staff_name, guardian_name, staff_name, staff_name])

    pages = {"board": board, "referring": referring, "staff": staff_page, "guardian": guardian_page}
    for name, page in pages.items():
        expect(page.locator("body"), f"{name}: a CSRF refusal").not_to_contain_text(FORGED)
        assert page.script_errors == [], (name, page.script_errors)

    # The database agrees: one event per step, by the person who took it, and the pool
    # back to where it started.
    db.session.expire_all()
    referral = db.session.get(Referral, referral_id)
    events = db.session.scalars(select(ReferralEvent).where(ReferralEvent.referral_id == referral_id)
                                .order_by(ReferralEvent.id)).all()
    steps = [(e.from_status, e.to_status, e.user_id) for e in events]
    assert [to for _, to, _ in steps] == ["draft", "submitted", "accepted", "approved", "placed", "discharged"]
    assert [frm for frm, _, _ in steps][1:] == ["draft", "submitted", "accepted", "approved", "placed"]
    assert [who for _, _, who in steps] == [cw, cw, st, gu, st, st]
    assert events[-1].reason_text == "Family reunification"
    assert (referral.status, referral.holds_bed, referral.child_id) == ("discharged", False, child_id)
    after = db.session.get(BedPool, pool_id)
    assert (after.held, after.occupied, after.capacity) == (0, 1, 4)
    db.session.commit()  # release the database before the pages close
