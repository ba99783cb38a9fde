"""Children through their pages: a caseworker registers a child, sees names in any script
exactly as typed, is warned of a likely duplicate, is refused bad input with a clear
message and nothing saved, and lists the organization's children by page and filter."""
import re
from datetime import date, timedelta

import pytest

from coordination import clock
from coordination.extensions import db
from coordination.referrals.models import Child

from .pages import (
    NOW,
    assert_fragment_only,
    assert_whole_page,
    body,
    children_count,
    messages,
    pager_link,
    pager_links,
    raw,
    redirect_id,
    says,
)

CASE_REFERENCE = re.compile(r"UC-2026-\d{5}")
LISTED = re.compile(r'<a href="/children/(\d+)">(UC-\d{4}-\d{5})</a>')


@pytest.fixture(autouse=True)
def frozen_clock(app):
    clock.freeze(NOW)
    yield
    clock.freeze(None)


@pytest.fixture
def caseworker(login_as):
    return login_as("caseworker")


def child_form(region_id: int, **changes) -> dict:
    """A complete registration form, with `changes` applied (None leaves a field out)."""
    data = {
        "given_name": "Leyla", "family_name": "Həsənova", "sex": "female", "birth_date": "2012-05-01",
        "estimated_age": "", "nationality": "Azerbaijani", "languages": ["az", "ru"],
        "needs": ["medical", "psychosocial"], "region": str(region_id),
        "consent_given_by": "the child's aunt", "consent_given_at": "2026-03-01T10:30", "child_assent": "y",
        "found_place": "police_station", "found_region": str(region_id), "found_at": "2026-03-01T08:15",
    }
    for name, value in changes.items():
        if value is None:
            data.pop(name, None)
        else:
            data[name] = value
    return data


def home_region(client) -> int:
    return client.user.organization.region_id


def listed(response) -> list[int]:
    """The ids of the children a list shows, in its order."""
    assert response.status_code == 200, raw(response)[:2000]
    return [int(child_id) for child_id, _ in LISTED.findall(raw(response))]


# --- registering -----------------------------------------------------------------------------

def test_caseworker_registers_a_child_and_lands_on_the_childs_page_with_a_case_reference(caseworker):
    response = caseworker.post("/children/new", child_form(home_region(caseworker)))

    child_id = redirect_id(response, "/children/")
    child = db.session.get(Child, child_id)
    assert CASE_REFERENCE.fullmatch(child.case_reference)
    assert (child.sex, child.birth_date, child.estimated_age) == ("female", date(2012, 5, 1), None)
    assert child.languages == ["az", "ru"]
    assert child.needs == ["medical", "psychosocial"]
    assert child.region_id == home_region(caseworker)
    assert child.organization_id == caseworker.user.organization_id
    assert child.consent_given_by == "the child's aunt" and child.child_assent is True
    assert child.consent_given_at == NOW.replace(day=1, hour=6, minute=30)  # typed 10:30 in Baku (UTC+4)

    page = caseworker.get(f"/children/{child_id}")
    assert page.status_code == 200
    assert child.case_reference in raw(page)
    assert f"{child.case_reference} registered." in body(page)


def test_a_child_with_only_an_estimated_age_is_registered(caseworker):
    response = caseworker.post("/children/new", child_form(home_region(caseworker), birth_date="", estimated_age="15"))

    child = db.session.get(Child, redirect_id(response, "/children/"))
    assert (child.birth_date, child.estimated_age) == (None, 15)


@pytest.mark.parametrize("given, family, nationality", [
    ("Ayşə", "Məmmədova", "Azərbaycanlı"),
    ("Gülşən", "Ağaoğlu-Işıqçı Öztürk", "Türkiyəli"),
    ("Дарья", "Соколова-Щербакова", "Россиянка"),
    ("مريم", "الحسن", "سورية"),
], ids=["azerbaijani", "azerbaijani-g-i-o-u-c-s", "cyrillic", "arabic"])
def test_names_and_nationality_in_any_script_are_stored_and_shown_exactly_as_typed(caseworker, given, family,
                                                                                   nationality):
    response = caseworker.post("/children/new", child_form(home_region(caseworker), given_name=given,
                                                           family_name=family, nationality=nationality))

    child_id = redirect_id(response, "/children/")
    row = db.session.get(Child, child_id)
    assert (row.given_name, row.family_name, row.nationality) == (given, family, nationality)
    page = raw(caseworker.get(f"/children/{child_id}"))  # the raw HTML: none of these is escaped
    assert f"{given} {family}" in page
    assert nationality in page
    assert f"{given} {family}" in raw(caseworker.get("/children"))


# --- likely duplicates -----------------------------------------------------------------------

def test_the_same_names_and_birth_year_in_the_organization_are_pointed_out_and_nothing_is_saved(make, caseworker):
    existing = make.child(registered_by=caseworker.user, given_name="Ayşə", family_name="Məmmədova",
                          birth_date=date(2012, 5, 1), estimated_age=None)
    before = children_count()

    response = caseworker.post("/children/new", child_form(
        home_region(caseworker), given_name="AYŞƏ", family_name="məmmədova", birth_date="2012-11-20"))

    assert response.status_code == 409
    assert existing.case_reference in raw(response)
    assert says(response, "already registered")
    assert 'name="confirm_not_duplicate"' in raw(response)
    assert children_count() == before


def test_a_child_without_birth_date_whose_estimated_age_gives_the_same_year_is_a_likely_duplicate(make, caseworker):
    existing = make.child(registered_by=caseworker.user, given_name="Rauf", family_name="Əliyev",
                          birth_date=None, estimated_age=14)

    response = caseworker.post("/children/new", child_form(
        home_region(caseworker), given_name="RAUF", family_name="əliyev",
        sex="male", birth_date="2012-01-15"))

    assert response.status_code == 409
    assert existing.case_reference in raw(response)


@pytest.mark.parametrize("stored, typed", [("Əliyev", "ƏLİYEV"), ("Işıq", "IŞIQ")])
def test_names_typed_in_azerbaijani_capitals_are_the_same_names(make, caseworker, stored, typed):
    existing = make.child(registered_by=caseworker.user, given_name="Nigar", family_name=stored,
                          birth_date=date(2012, 5, 1), estimated_age=None)

    response = caseworker.post("/children/new", child_form(home_region(caseworker), given_name="Nigar",
                                                           family_name=typed))

    assert response.status_code == 409
    assert existing.case_reference in raw(response)


def test_saving_a_likely_duplicate_anyway_when_the_caseworker_confirms_it_is_another_child(make, caseworker):
    existing = make.child(registered_by=caseworker.user, given_name="Ayşə", family_name="Məmmədova",
                          birth_date=date(2012, 5, 1), estimated_age=None)

    response = caseworker.post("/children/new", child_form(
        home_region(caseworker), given_name="Ayşə", family_name="Məmmədova", confirm_not_duplicate="y"))

    new_id = redirect_id(response, "/children/")
    assert new_id != existing.id
    assert children_count() == 2


def test_the_same_names_in_another_organization_are_not_a_duplicate(make, caseworker):
    make.child(given_name="Ayşə", family_name="Məmmədova", birth_date=date(2012, 5, 1), estimated_age=None)

    response = caseworker.post("/children/new", child_form(
        home_region(caseworker), given_name="Ayşə", family_name="Məmmədova"))

    redirect_id(response, "/children/")
    assert children_count() == 2


def test_the_same_names_with_another_birth_year_are_not_a_duplicate(make, caseworker):
    make.child(registered_by=caseworker.user, given_name="Ayşə", family_name="Məmmədova",
               birth_date=date(2012, 5, 1), estimated_age=None)

    response = caseworker.post("/children/new", child_form(
        home_region(caseworker), given_name="Ayşə", family_name="Məmmədova", birth_date="2010-05-01"))

    redirect_id(response, "/children/")


# --- bad input -------------------------------------------------------------------------------

BAD_INPUT = {
    "missing given name": ({"given_name": ""}, "Enter the given name."),
    "given name left out": ({"given_name": None}, "Enter the given name."),
    "neither birth date nor age": ({"birth_date": "", "estimated_age": ""}, "Give the date of birth or an estimated age."),
    "estimated age 18": ({"birth_date": "", "estimated_age": "18"}, "0 to 17 years old"),
    "estimated age -1": ({"birth_date": "", "estimated_age": "-1"}, "0 to 17 years old"),
    "estimated age abc": ({"birth_date": "", "estimated_age": "abc"}, "Not a valid integer"),
    "future birth date": ({"birth_date": (NOW.date() + timedelta(days=1)).isoformat()}, "cannot be in the future"),
    "impossible birth date": ({"birth_date": "2012-13-45"}, "Not a valid date"),
    "10,000-character name": ({"given_name": "ə" * 10_000}, "longer than 200 characters"),
    "10,000-character family name": ({"family_name": "Щ" * 10_000}, "longer than 200 characters"),
    "unknown region": ({"region": "999999"}, "Not a valid choice"),
    "region not a number": ({"region": "Baku"}, "Not a valid choice"),
    "unknown need": ({"needs": ["medical", "x"]}, "not a valid choice"),
    "unknown sex": ({"sex": "other"}, "Not a valid choice"),
    "impossible consent time": ({"consent_given_at": "yesterday"}, "Not a valid datetime"),
}


@pytest.mark.parametrize("changes, message", BAD_INPUT.values(), ids=BAD_INPUT.keys())
def test_bad_input_is_refused_with_a_clear_message_and_no_child_is_saved(caseworker, changes, message):
    response = caseworker.post("/children/new", child_form(home_region(caseworker), **changes))

    assert 400 <= response.status_code < 500, (response.status_code, raw(response)[:2000])
    assert says(response, message), messages(response)
    assert children_count() == 0


def test_a_refused_registration_keeps_what_was_typed(caseworker):
    response = caseworker.post("/children/new", child_form(home_region(caseworker), given_name="Ayşə",
                                                           birth_date="", estimated_age="18"))

    assert response.status_code == 422
    assert 'value="Ayşə"' in raw(response)


@pytest.mark.parametrize("role", ["shelter_staff", "guardianship", "oversight", "admin"])
@pytest.mark.parametrize("method, url", [("GET", "/children"), ("GET", "/children/new"), ("POST", "/children/new")])
def test_only_caseworkers_reach_the_children_pages(login_as, role, method, url):
    someone = login_as(role)

    if method == "GET":
        response = someone.get(url)
    else:
        response = someone.post(url, child_form(someone.user.organization.region_id))

    assert response.status_code == 403
    assert children_count() == 0


# --- the list --------------------------------------------------------------------------------

def test_the_list_shows_only_the_organizations_children(make, caseworker):
    own = make.child(registered_by=caseworker.user)
    colleague = make.user("caseworker", organization=caseworker.user.organization)
    colleagues = make.child(registered_by=colleague)
    elsewhere = make.child()

    shown = listed(caseworker.get("/children"))

    assert sorted(shown) == sorted([own.id, colleagues.id])
    assert elsewhere.id not in shown


def test_the_list_pages_25_children_at_a_time_newest_first(make, caseworker):
    made = [make.child(registered_by=caseworker.user) for _ in range(30)]
    for i, child in enumerate(made):  # registered in another order than their ids, some at one moment
        child.created_at = NOW - timedelta(minutes=(i * 7) % 12)
    db.session.commit()
    newest_first = [c.id for c in sorted(made, key=lambda c: (c.created_at, c.id), reverse=True)]

    first = caseworker.get("/children")
    second = caseworker.get(pager_link(raw(first), "next"))
    back = caseworker.get(pager_link(raw(second), "prev"))

    assert listed(first) == listed(back) == newest_first[:25]
    assert listed(second) == newest_first[25:]
    assert set(pager_links(raw(first))) == {"next"} and set(pager_links(raw(back))) == {"next"}
    assert set(pager_links(raw(second))) == {"first", "prev"}


def test_the_pager_keeps_the_filters(make, caseworker):
    region = home_region(caseworker)
    for _ in range(27):
        make.child(registered_by=caseworker.user)

    first = caseworker.get(f"/children?region={region}")
    second = caseworker.get(pager_link(raw(first), "next"))

    assert set(pager_links(raw(first))["next"]) == {"path", "region", "before"}
    assert pager_links(raw(first))["next"]["region"] == str(region)
    assert len(listed(second)) == 2


def test_the_list_filters_by_region(make, caseworker):
    elsewhere = make.region()
    here = make.child(registered_by=caseworker.user)
    there = make.child(registered_by=caseworker.user, region_id=elsewhere.id)

    assert listed(caseworker.get(f"/children?region={home_region(caseworker)}")) == [here.id]
    assert listed(caseworker.get(f"/children?region={elsewhere.id}")) == [there.id]
    assert sorted(listed(caseworker.get("/children?region="))) == sorted([here.id, there.id])


def test_the_list_filters_by_placement_status(make, caseworker):
    pool = make.pool(capacity=10)

    def child_with(status):
        child = make.child(registered_by=caseworker.user)
        if status:
            make.referral(pool=pool, child=child, status=status)
        return child.id

    never_referred = child_with(None)
    with_a_draft = child_with("draft")
    declined = child_with("declined")
    submitted = child_with("submitted")
    approved = child_with("approved")
    placed = child_with("placed")

    assert sorted(listed(caseworker.get("/children?status=unreferred"))) == sorted(
        [never_referred, with_a_draft, declined])
    assert sorted(listed(caseworker.get("/children?status=referred"))) == sorted([submitted, approved])
    assert listed(caseworker.get("/children?status=placed")) == [placed]


def test_the_list_filters_by_the_urgency_of_the_live_referral(make, caseworker):
    pool = make.pool(capacity=10)
    urgent = make.referral(pool=pool, child=make.child(registered_by=caseworker.user),
                           status="submitted", urgency="urgent").child_id
    routine = make.referral(pool=pool, child=make.child(registered_by=caseworker.user),
                            status="accepted", urgency="routine").child_id
    make.referral(pool=pool, child=make.child(registered_by=caseworker.user),
                  status="withdrawn", urgency="emergency")
    make.referral(pool=pool, child=make.child(registered_by=caseworker.user), status="draft", urgency="emergency")

    assert listed(caseworker.get("/children?urgency=urgent")) == [urgent]
    assert listed(caseworker.get("/children?urgency=routine")) == [routine]
    assert listed(caseworker.get("/children?urgency=emergency")) == []


def test_htmx_gets_only_the_children_list(make, caseworker):
    child = make.child(registered_by=caseworker.user)

    response = caseworker.get(f"/children?region={home_region(caseworker)}", htmx=True)

    assert response.status_code == 200
    fragment = assert_fragment_only(response, "children-list")
    assert child.case_reference in fragment


def test_a_normal_request_gets_the_whole_children_page(make, caseworker):
    response = caseworker.get("/children")

    assert response.status_code == 200
    page = assert_whole_page(response)
    assert '<section id="children-list"' in page and 'id="child-filters"' in page


@pytest.mark.parametrize("query", ["status=lost", "region=abc", "region=999999", "urgency=soon", "before=0",
                                   "after=abc", "before=-3", "before=99999999999999999999",
                                   "after=20260302T120000000000.1&before=20260302T120000000000.2"])
@pytest.mark.parametrize("htmx", [False, True], ids=["page", "htmx"])
def test_bad_list_filters_answer_400_with_a_message(caseworker, query, htmx):
    response = caseworker.get(f"/children?{query}", htmx=htmx)

    assert response.status_code == 400
    assert messages(response), raw(response)[:2000]
    if htmx:
        assert_fragment_only(response, "children-list")
