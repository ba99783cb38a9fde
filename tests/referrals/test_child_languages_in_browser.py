"""The language picker in a real browser: typing narrows the list in place (htmx), ticked
boxes survive every narrowing, Enter in the search box searches and never registers the
child, and the child is registered with the languages ticked."""
import pytest
from playwright.sync_api import expect

from coordination.accounts.models import CASEWORKER
from coordination.extensions import db
from coordination.referrals.models import Child

MARKER = "window.__sameDocument"


@pytest.mark.browser
def test_a_caseworker_finds_and_ticks_languages_by_typing_without_leaving_the_page(make, new_page):
    caseworker = make.user(CASEWORKER)
    page = new_page(caseworker)
    page.goto("/children/new")
    page.evaluate(f"{MARKER} = true")
    search = page.get_by_label("Find a language", exact=True)
    persian = page.get_by_role("checkbox", name="Persian", exact=True)
    russian = page.get_by_role("checkbox", name="Russian", exact=True)
    german = page.get_by_role("checkbox", name="German", exact=True)
    expect(german).to_be_visible()

    search.fill("farsi")
    expect(german).to_be_hidden()
    expect(persian).to_be_visible()
    expect(page.get_by_role("status").filter(has_text="matches")).to_have_text("1 language matches “farsi”.")
    persian.check()

    search.fill("русск")  # a Russian name, typed on an English page
    expect(persian).to_be_visible()  # ticked: it stays in sight
    expect(persian).to_be_checked()
    expect(russian).to_be_visible()
    russian.check()
    search.press("Enter")  # searches; the registration form is not sent
    expect(page.get_by_role("status").filter(has_text="match")).to_contain_text("“русск”")
    assert page.evaluate(f"{MARKER} === true"), "Enter in the search box left the page"

    search.fill("")
    expect(german).to_be_visible()
    expect(persian).to_be_checked()
    expect(russian).to_be_checked()

    page.get_by_label("Given name", exact=True).fill("Ali")
    page.get_by_label("Estimated age, if the date of birth is unknown", exact=True).fill("15")
    page.get_by_label("Sex", exact=True).select_option("male")
    page.get_by_label("Where the child was found", exact=True).select_option("border_crossing")
    page.get_by_label("When the child was found", exact=True).fill("2026-03-01T06:00")
    with page.expect_navigation():
        page.get_by_role("button", name="Register", exact=True).click()
    expect(page.locator("dl.child-summary")).to_contain_text("Persian, Russian")
    assert page.script_errors == []

    db.session.expire_all()
    child = db.session.scalars(db.select(Child).where(Child.given_name == "Ali")).one()
    assert child.languages == ["fa", "ru"]  # in the order of the list
    db.session.commit()  # release the database before the page closes


@pytest.mark.browser
def test_without_script_every_language_shows_and_the_search_box_does_not(make, browser, live_server):
    from ..conftest import PASSWORD

    caseworker = make.user(CASEWORKER)
    email = caseworker.email
    db.session.commit()
    context = browser.new_context(base_url=live_server.url, java_script_enabled=False, locale="en")
    try:
        page = context.new_page()
        page.goto("/login")
        page.get_by_label("Email", exact=True).fill(email)
        page.get_by_label("Password", exact=True).fill(PASSWORD)
        with page.expect_navigation():
            page.get_by_role("button", name="Sign in").click()
        page.goto("/children/new")

        expect(page.get_by_label("Find a language", exact=True)).to_be_hidden()
        boxes = page.locator("#languages-choices input[type=checkbox]")
        assert boxes.count() >= 40
        for name in ("Persian", "Dari", "Russian", "Azerbaijani"):
            expect(page.get_by_role("checkbox", name=name, exact=True)).to_be_visible()
    finally:
        context.close()
