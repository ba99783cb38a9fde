"""In each of the three languages, in a real browser: shelter staff sign in, add an occupied
bed on their shelter's page and accept a referral, and a guardianship officer approves a
placement; every word they read on the way is in their language, from the catalogs."""
import pytest
from flask_babel import force_locale, gettext
from playwright.sync_api import expect

from coordination.accounts.models import GUARDIANSHIP, SHELTER_STAFF
from coordination.beds.models import BedPool
from coordination.extensions import db
from coordination.referrals.models import Referral
from coordination.words import timeline_step, word


@pytest.mark.browser
@pytest.mark.parametrize("language", ["az", "ru", "en"])
def test_staff_and_guardianship_do_their_steps_in_their_language(make, new_page, language):
    operator = make.organization(kind="ngo")
    shelter = make.shelter(organization=operator)
    pool = make.pool(shelter=shelter, label="Girls 12–17", capacity=5, occupied=1)
    referral = make.referral(pool=pool, status="submitted")
    to_approve = make.referral(pool=pool, status="accepted")
    staff = make.user(SHELTER_STAFF, organization=operator, locale=language)
    guardian_office = make.organization(kind="state", region=shelter.region)
    guardian = make.user(GUARDIANSHIP, organization=guardian_office, locale=language)
    ids = {"shelter": shelter.id, "pool": pool.id, "referral": referral.id, "to_approve": to_approve.id}
    who = f"{staff.name} ({operator.name})"
    guardian_who = f"{guardian.name} ({guardian_office.name})"
    with force_locale(language):
        words = {
            # The button shows "+1", and says the rest to a screen reader.
            "more": "+1 " + gettext("One bed more %(what)s in %(pool)s", what=word("occupied"), pool="Girls 12–17"),
            "saved": gettext("Saved."),
            "accept": gettext("Accept"),
            "confirm accept": gettext("Confirm: %(step)s", step=gettext("Accept")),
            "confirm approve": gettext("Confirm: %(step)s", step=gettext("Approve placement")),
            "accepted": timeline_step("accepted", who),
            "bed board": gettext("Bed board"),
            "approve": gettext("Approve placement"),
            "approved": timeline_step("approved", guardian_who),
        }
    if language != "en":
        assert words["accept"] != "Accept" and words["bed board"] != "Bed board"  # really translated

    page = new_page(staff, language=language)
    expect(page.locator("html")).to_have_attribute("lang", language)
    expect(page.get_by_role("navigation").get_by_role("link", name=words["bed board"])).to_be_visible()

    page.goto(f"/shelters/{ids['shelter']}")
    row = page.locator(f"#pool-{ids['pool']}")
    row.get_by_role("button", name=words["more"], exact=True).click()
    expect(row.locator("output[data-count=occupied]")).to_have_text("2")
    expect(row.locator(".notice")).to_have_text(words["saved"])

    page.goto(f"/referrals/{ids['referral']}")
    page.locator("summary", has_text=words["accept"]).click()  # a decision: asked once
    page.get_by_role("button", name=words["confirm accept"], exact=True).click()
    expect(page.locator("#referral-state .timeline .step").last).to_have_text(words["accepted"])
    assert page.script_errors == []

    officer = new_page(guardian, language=language)
    officer.goto(f"/referrals/{ids['to_approve']}")
    officer.locator("summary", has_text=words["approve"]).click()
    officer.get_by_role("button", name=words["confirm approve"], exact=True).click()
    expect(officer.locator("#referral-state .timeline .step").last).to_have_text(words["approved"])
    assert officer.script_errors == []

    db.session.expire_all()
    assert db.session.get(BedPool, ids["pool"]).occupied == 2
    assert db.session.get(Referral, ids["referral"]).status == "accepted"
    assert db.session.get(Referral, ids["to_approve"]).status == "approved"
    db.session.commit()  # release the database before the page closes
