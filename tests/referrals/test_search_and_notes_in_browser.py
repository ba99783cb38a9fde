"""The header's search and a child's case notes in a real browser, on a phone's screen: a
caseworker finds a child by name from any page and opens the child; shelter staff type a case
reference and land on the referral; a note is added in place (htmx) and an empty one is
refused with the reason, without leaving the page."""
import re

import pytest
from playwright.sync_api import expect

from coordination.extensions import db
from coordination.referrals.models import CaseNote

PHONE = {"width": 375, "height": 740}
MARKER = "window.__sameDocument"


@pytest.mark.browser
def test_a_caseworker_finds_a_child_from_the_header_on_a_phone_and_adds_a_note(make, new_page):
    caseworker = make.user("caseworker")
    aysel = make.child(registered_by=caseworker, given_name="Aysel", family_name="Məmmədova")
    make.child(registered_by=caseworker, given_name="Leyla", family_name="Həsənova")
    make.child(given_name="Aysel", family_name="Məmmədova")  # another organization's: never found
    child_id, reference = aysel.id, aysel.case_reference
    page = new_page(caseworker)
    page.set_viewport_size(PHONE)
    page.goto("/beds")

    search = page.get_by_role("search").get_by_label("Find a child", exact=True)
    expect(search).to_be_visible()
    search.fill("Мамедова")  # in Cyrillic, as a police report spells her
    with page.expect_navigation():
        search.press("Enter")
    results = page.locator("#search-results tbody tr")
    expect(results).to_have_count(1)
    expect(results).to_contain_text("Aysel Məmmədova")
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    with page.expect_navigation():
        results.get_by_role("link", name=reference).click()
    expect(page).to_have_url(re.compile(rf"/children/{child_id}$"))

    page.evaluate(f"{MARKER} = true")
    notes = page.locator("#case-notes")
    notes.get_by_role("button", name="Add note").click()
    expect(notes.get_by_role("alert")).to_contain_text("an empty note is not kept")
    notes.get_by_label("New note").fill("Her aunt in Sumqayit may take her in")
    notes.get_by_role("button", name="Add note").click()
    expect(page.locator("#case-notes .notes li")).to_have_count(1)
    expect(page.locator("#case-notes .notes")).to_contain_text("Her aunt in Sumqayit may take her in")
    expect(page.locator("#case-notes").get_by_label("New note")).to_have_value("")
    assert page.evaluate(f"{MARKER} === true"), "adding a note left the page"
    assert page.script_errors == []
    db.session.expire_all()
    assert [n.body for n in db.session.scalars(db.select(CaseNote))] == ["Her aunt in Sumqayit may take her in"]
    db.session.commit()


@pytest.mark.browser
def test_shelter_staff_type_a_case_reference_and_land_on_the_referral(make, new_page):
    referral = make.referral(status="accepted")
    staff = make.user("shelter_staff", organization=referral.pool.shelter.organization)
    referral_id, reference = referral.id, referral.child.case_reference
    page = new_page(staff)
    search = page.get_by_role("search").get_by_label("Find a child", exact=True)
    search.fill(reference.lower())
    with page.expect_navigation():
        page.get_by_role("search").get_by_role("button", name="Search").click()
    expect(page).to_have_url(re.compile(rf"/referrals/{referral_id}$"))
    expect(page.locator("#case-notes")).to_be_visible()
    assert page.script_errors == []
