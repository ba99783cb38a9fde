"""The search for a child in every page's header: by case reference or name, only among the
children the searcher may see by name, a whole case reference straight to the child, and
every page of names in the audit trail."""
import re

import pytest
from sqlalchemy import select

from coordination.audit.models import AuditEvent
from coordination.extensions import db

HEADER_SEARCH = 'role="search"'


@pytest.fixture
def town(make):
    """Two caseworker organizations' children, referred to two shelters in two regions."""
    here, there = make.region("Baku"), make.region("Ganja-Dashkasan")
    ours, theirs = make.organization(region=here), make.organization(region=there)
    shelter = make.shelter(organization=make.organization(region=here), region=here)
    far_shelter = make.shelter(organization=make.organization(region=there), region=there)
    pool, far_pool = make.pool(shelter, capacity=10), make.pool(far_shelter, capacity=10)
    caseworker = make.user("caseworker", organization=ours)
    rival = make.user("caseworker", organization=theirs)
    aysel = make.child(registered_by=caseworker, given_name="Aysel", family_name="Məmmədova")
    leyla = make.child(registered_by=caseworker, given_name="Leyla", family_name="Məmmədova")
    nigar = make.child(registered_by=caseworker, given_name="Nigar", family_name="Məmmədova")
    rivals = make.child(registered_by=rival, given_name="Aysel", family_name="Mammadova")
    accepted = make.referral(pool=pool, child=aysel, status="accepted")
    submitted = make.referral(pool=pool, child=leyla, status="submitted")
    make.referral(pool=far_pool, child=rivals, status="accepted")
    return {
        "caseworker": caseworker, "rival": rival, "aysel": aysel, "leyla": leyla, "nigar": nigar, "rivals": rivals,
        "accepted": accepted, "submitted": submitted,
        "staff": make.user("shelter_staff", organization=shelter.organization),
        "guardian": make.user("guardianship", organization=make.organization("state", here)),
        "far_guardian": make.user("guardianship", organization=make.organization("state", there)),
    }


def found(client, q: str) -> set[str]:
    page = client.get("/search", query_string={"q": q})
    assert page.status_code == 200, page.status_code
    return listed(page.get_data(as_text=True))


def listed(html: str) -> set[str]:
    """The case references in the table of results (not those typed into the field)."""
    table = re.search(r"<tbody>(.*)</tbody>", html, re.S)
    return set(re.findall(r"UC-\d{4}-\d{5}", table.group(1))) if table else set()


def test_a_caseworker_finds_the_organizations_children_by_name_in_any_script(town, login_as):
    caseworker = login_as(town["caseworker"])
    ours = {town[k].case_reference for k in ("aysel", "leyla", "nigar")}
    assert found(caseworker, "Məmmədova") == ours
    assert found(caseworker, "Мамедова") == ours
    assert found(caseworker, "aysel mammadova") == {town["aysel"].case_reference}


def test_another_organizations_child_is_never_found(town, login_as):
    assert town["rivals"].case_reference not in found(login_as(town["caseworker"]), "Aysel")
    assert town["rivals"].case_reference not in found(login_as(town["caseworker"]), town["rivals"].case_reference)
    assert found(login_as(town["rival"]), "Aysel") == {town["rivals"].case_reference}


def test_shelter_staff_find_only_the_children_they_accepted(town, login_as):
    staff = login_as(town["staff"])
    assert found(staff, "Məmmədova") == {town["aysel"].case_reference}
    assert found(staff, town["leyla"].case_reference) == set()  # submitted, not accepted: no name yet


def test_guardianship_find_the_children_referred_to_their_region(town, login_as):
    assert found(login_as(town["guardian"]), "Məmmədova") == {town["aysel"].case_reference,
                                                              town["leyla"].case_reference}
    assert found(login_as(town["far_guardian"]), "Aysel") == {town["rivals"].case_reference}


def test_the_found_child_opens_where_the_searcher_meets_the_child(town, login_as):
    caseworker_page = login_as(town["caseworker"]).get("/search?q=Aysel").get_data(as_text=True)
    assert f'href="/children/{town["aysel"].id}"' in caseworker_page
    staff_page = login_as(town["staff"]).get("/search?q=Aysel").get_data(as_text=True)
    assert f'href="/referrals/{town["accepted"].id}"' in staff_page and "/children/" not in staff_page


@pytest.mark.parametrize("role", ["oversight", "admin"])
def test_oversight_and_admin_have_no_search_and_see_no_field(make, login_as, role):
    person = login_as(role)
    assert person.get("/search?q=Aysel").status_code == 403
    assert HEADER_SEARCH not in person.get("/").get_data(as_text=True)


@pytest.mark.parametrize("who", ["caseworker", "staff", "guardian"])
def test_the_search_field_is_in_the_header_of_every_page_with_a_label(town, login_as, who):
    person = login_as(town[who])
    for path in ("/", "/beds", "/notifications", "/account"):
        page = person.get(path).get_data(as_text=True)
        assert HEADER_SEARCH in page, path
        assert '<label for="header-search-q">Find a child</label>' in page and 'id="header-search-q"' in page


def test_a_whole_case_reference_goes_straight_to_the_child(town, login_as):
    reference = town["aysel"].case_reference
    response = login_as(town["caseworker"]).get("/search", query_string={"q": f"  {reference.lower()} "})
    assert response.status_code == 303 and response.headers["Location"].endswith(f"/children/{town['aysel'].id}")
    response = login_as(town["staff"]).get("/search", query_string={"q": reference})
    assert response.status_code == 303
    assert response.headers["Location"].endswith(f"/referrals/{town['accepted'].id}")
    htmx = login_as(town["guardian"]).get("/search", query_string={"q": reference}, htmx=True)
    assert htmx.headers["HX-Redirect"].endswith(f"/referrals/{town['accepted'].id}")


def test_part_of_a_case_reference_lists_the_matches(town, login_as):
    number = town["nigar"].case_reference.rsplit("-", 1)[1]
    assert found(login_as(town["caseworker"]), number) == {town["nigar"].case_reference}


def test_an_empty_search_asks_for_something_and_records_nothing(town, login_as):
    page = login_as(town["caseworker"]).get("/search?q=+").get_data(as_text=True)
    assert "Type a case reference" in page
    assert db.session.scalars(select(AuditEvent).where(AuditEvent.action == "child.view_list")).all() == []


def test_a_search_that_finds_nobody_says_so(town, login_as):
    page = login_as(town["caseworker"]).get("/search?q=Zaur").get_data(as_text=True)
    assert "No child you may see matches “Zaur”" in page


def test_each_page_of_results_is_one_audit_event_naming_the_children(town, login_as):
    login_as(town["guardian"]).get("/search?q=Məmmədova")
    event = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "child.view_list")).one()
    assert event.object_id == "search results" and event.user_id == town["guardian"].id
    assert set(event.details["case_references"]) == {town["aysel"].case_reference, town["leyla"].case_reference}
    assert "Məmmədova" not in str(event.details)


def test_many_results_come_a_page_at_a_time(make, login_as):
    caseworker = make.user("caseworker")
    children = [make.child(registered_by=caseworker, given_name="Rəna", family_name=f"Quliyeva {n}")
                for n in range(30)]
    person = login_as(caseworker)
    first = person.get("/search?q=Rəna").get_data(as_text=True)
    assert len(listed(first)) == 25
    older = re.search(r'href="([^"]+)" rel="next"', first).group(1).replace("&amp;", "&")
    second = person.get(older).get_data(as_text=True)
    assert listed(second) == {c.case_reference for c in children[:5]}
    assert len(db.session.scalars(select(AuditEvent).where(AuditEvent.action == "child.view_list")).all()) == 2


def test_a_search_too_long_or_a_forged_page_is_refused_not_a_500(town, login_as):
    person = login_as(town["caseworker"])
    assert person.get("/search", query_string={"q": "a" * 201}).status_code == 400
    assert person.get("/search", query_string={"q": "Aysel", "before": "nonsense"}).status_code == 400


def test_the_search_words_stay_in_the_field(town, login_as):
    page = login_as(town["caseworker"]).get("/search?q=Leyla").get_data(as_text=True)
    assert 'value="Leyla"' in page
