"""After a refused submit the focus lands on a summary of every problem, each a link to
its field: a keyboard or screen-reader user hears what went wrong first."""
import pytest
from playwright.sync_api import expect

from coordination.extensions import db


@pytest.mark.browser
def test_a_refused_password_change_puts_the_focus_on_a_summary_that_links_to_each_field(make, new_page):
    page = new_page(make.user("caseworker"))
    page.goto("/account/password")
    page.get_by_label("Current password", exact=True).fill("not my password")
    page.get_by_label("New password (at least 12 characters)", exact=True).fill("short")
    page.get_by_label("New password again", exact=True).fill("other")
    with page.expect_navigation():
        page.get_by_role("button", name="Change password").click()

    summary = page.locator(".error-summary")
    expect(summary).to_be_focused()
    links = summary.get_by_role("link")
    expect(links).not_to_have_count(0)
    hrefs = {links.nth(n).get_attribute("href") for n in range(links.count())}
    assert hrefs <= {"#current", "#new", "#confirm"} and hrefs
    links.first.click()
    expect(page.locator(links.first.get_attribute("href"))).to_be_focused()
    db.session.commit()
