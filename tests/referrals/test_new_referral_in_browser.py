"""The new-referral form in a real browser: choosing a child loads the pools that fit at
once, none of them chosen for the caseworker; a pool picked on the bed board stays chosen."""
import pytest
from playwright.sync_api import expect

from coordination.accounts.models import CASEWORKER
from coordination.extensions import db


@pytest.mark.browser
def test_choosing_a_child_shows_its_pools_with_none_chosen(make, new_page):
    caseworker = make.user(CASEWORKER)
    child = make.child(registered_by=caseworker, sex="female", estimated_age=15, needs=[])
    mothers = make.pool(label="Young mothers", admits_sex="female", min_age=14, max_age=17)
    girls = make.pool(label="Girls 12–17", admits_sex="female", min_age=12, max_age=17)
    make.pool(label="Boys 12–17", admits_sex="male", min_age=12, max_age=17)
    ids = {"child": child.id, "mothers": mothers.id, "girls": girls.id}

    page = new_page(caseworker)
    page.goto("/referrals/new")
    expect(page.locator("#suggestions input[name=pool]")).to_have_count(0)
    page.locator("select[name=child]").select_option(str(ids["child"]))

    pools = page.locator("#suggestions input[name=pool]")
    expect(pools).to_have_count(2)  # the boys' pool does not fit her
    expect(page.locator("#suggestions")).to_contain_text("Girls 12–17")
    expect(page.locator("#suggestions")).to_contain_text("Young mothers")
    for n in range(2):
        expect(pools.nth(n)).not_to_be_checked()  # nobody chose one for her
    assert page.script_errors == []
    db.session.commit()


@pytest.mark.browser
def test_a_pool_chosen_on_the_board_is_shown_and_stays_chosen_once_the_child_is_picked(make, new_page):
    caseworker = make.user(CASEWORKER)
    child = make.child(registered_by=caseworker, sex="female", estimated_age=15)
    girls = make.pool(label="Girls 12–17", admits_sex="female", min_age=12, max_age=17)
    make.pool(label="Anyone 0–17", admits_sex="any", min_age=0, max_age=17)
    ids = {"child": child.id, "girls": girls.id, "shelter": girls.shelter.name}

    page = new_page(caseworker)
    page.goto(f"/referrals/new?pool={ids['girls']}")
    expect(page.locator("#suggestions .preset")).to_contain_text(f"Girls 12–17 at {ids['shelter']}")
    page.locator("select[name=child]").select_option(str(ids["child"]))
    expect(page.locator(f"#suggestions input[type=radio][value='{ids['girls']}']")).to_be_checked()
    expect(page.locator("#suggestions input[type=radio]:checked")).to_have_count(1)
    assert page.script_errors == []
    db.session.commit()
