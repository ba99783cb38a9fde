"""A refused form names every problem in one answer, each under its own field: WTForms' own
checks and the service's rules together, instead of one problem per round (issue 8).
Registering a child, recording consent and making a referral."""
import html
import re
from datetime import date

import pytest

from coordination import clock
from coordination.errors import InvalidFields
from coordination.extensions import db
from coordination.referrals import services
from coordination.referrals.models import Child

from ..conftest import _acting
from .pages import NOW, children_count, fresh, messages, raw, redirect_path, referral_count
from .test_children_pages import child_form, home_region

FIELD_ERROR = re.compile(r'class="error" id="(\w+)-error">(.*?)</(?:span|p)>', re.S)

AGE_RANGE = "An unaccompanied child is 0 to 17 years old."
FUTURE_BIRTH = "The date of birth cannot be in the future."
UNDER_18 = "Children registered here are under 18; check the date of birth."
NO_AGE = "Give the date of birth or an estimated age."
FUTURE_CONSENT = "Consent cannot have been given in the future."


@pytest.fixture(autouse=True)
def frozen_clock(app):
    clock.freeze(NOW)  # Monday 2 March 2026, 16:00 in Baku
    yield
    clock.freeze(None)


@pytest.fixture
def caseworker(login_as):
    return login_as("caseworker")


def field_errors(response) -> dict[str, list[str]]:
    """The messages shown under each field: field name -> messages."""
    found: dict[str, list[str]] = {}
    for name, message in FIELD_ERROR.findall(raw(response)):
        found.setdefault(name, []).append(html.unescape(message).strip())
    return found


# --- registering a child ---------------------------------------------------------------------

def test_an_age_of_18_a_future_birth_date_and_a_future_consent_are_all_reported_at_once(caseworker):
    """The issue's example: three problems, from WTForms and from the service's rules, in one answer."""
    response = caseworker.post("/children/new", child_form(
        home_region(caseworker), estimated_age="18", birth_date="2026-06-01", consent_given_at="2026-03-05T10:00"))

    assert response.status_code == 422
    assert field_errors(response) == {
        "estimated_age": [AGE_RANGE],
        "birth_date": [FUTURE_BIRTH],
        "consent_given_at": [FUTURE_CONSENT],
    }
    summary = raw(response).split('class="error-summary"')[1].split("</div>")[0]
    for anchor in ("#estimated_age", "#birth_date", "#consent_given_at"):
        assert f'href="{anchor}"' in summary
    assert children_count() == 0


def test_a_birth_date_making_the_child_18_is_reported_with_every_other_problem(caseworker):
    response = caseworker.post("/children/new", child_form(
        home_region(caseworker), given_name="", birth_date="2008-03-01", consent_given_at="2026-03-05T10:00",
        needs=["medical", "flying"], region="999999"))

    assert response.status_code == 422
    errors = field_errors(response)
    assert errors["birth_date"] == [UNDER_18]
    assert errors["consent_given_at"] == [FUTURE_CONSENT]
    assert errors["given_name"] == ["Enter the given name."]
    assert set(errors) == {"birth_date", "consent_given_at", "given_name", "needs", "region"}
    assert all(len(shown) == 1 for shown in errors.values())  # one word per field, WTForms' first
    assert children_count() == 0


def test_a_name_of_spaces_is_refused_by_the_rules_under_its_field(caseworker):
    response = caseworker.post("/children/new", child_form(home_region(caseworker), given_name="   "))

    assert response.status_code == 422
    assert field_errors(response) == {"given_name": ["Enter the given name."]}
    assert children_count() == 0


@pytest.mark.parametrize("age", ["abc", "18"])
def test_an_age_typed_but_refused_is_not_also_called_missing(caseworker, age):
    response = caseworker.post("/children/new", child_form(home_region(caseworker), birth_date="", estimated_age=age))

    assert response.status_code == 422
    errors = field_errors(response)
    assert set(errors) == {"estimated_age"}, errors
    assert NO_AGE not in " ".join(messages(response))


def test_neither_birth_date_nor_age_is_reported_under_the_birth_date(caseworker):
    response = caseworker.post("/children/new", child_form(home_region(caseworker), birth_date="", estimated_age=""))

    assert field_errors(response) == {"birth_date": [NO_AGE]}


def test_a_consent_time_without_a_person_is_no_consent_and_not_judged(caseworker):
    response = caseworker.post("/children/new", child_form(home_region(caseworker), consent_given_by="",
                                                           consent_given_at="2026-03-05T10:00"))

    child = db.session.get(Child, int(redirect_path(response).rsplit("/", 1)[1]))
    assert not child.has_consent


def test_the_service_refuses_a_registration_with_every_problem_by_field(make):
    caseworker = make.user("caseworker")

    with _acting(caseworker), pytest.raises(InvalidFields) as refused:
        services.register_child(
            caseworker, given_name=" ", family_name="", sex="other", birth_date=date(2026, 6, 1), estimated_age=18,
            nationality="", languages=["xx"], needs=["flying"], region_id=None, consent_given_by="her aunt",
            consent_given_at=NOW.replace(day=5), child_assent=False)

    assert set(refused.value.problems) == {"given_name", "sex", "birth_date", "estimated_age", "languages", "needs",
                                           "region", "consent_given_at", "found_place"}
    assert refused.value.problems["birth_date"] == FUTURE_BIRTH
    assert refused.value.status == 422
    db.session.rollback()
    assert children_count() == 0


def test_the_rules_find_nothing_wrong_with_a_sound_record(make):
    region = make.region()

    assert services.child_problems(given_name="Leyla", family_name="", sex="female", birth_date=date(2012, 5, 1),
                                   estimated_age=None, nationality="", languages=["az"], needs=["medical"],
                                   region_id=region.id, consent_given_by="her aunt", consent_given_at=NOW) == {}


def test_names_and_nationality_longer_than_their_columns_are_refused_by_the_rules(make):
    problems = services.child_problems(given_name="ə" * 201, family_name="Щ" * 201, sex="female", birth_date=None,
                                       estimated_age=9, nationality="x" * 101, languages=[], needs=[],
                                       region_id=make.region().id)

    assert problems == {"given_name": "Field cannot be longer than 200 characters.",
                        "family_name": "Field cannot be longer than 200 characters.",
                        "nationality": "Field cannot be longer than 100 characters."}


# --- recording consent -----------------------------------------------------------------------

@pytest.fixture
def child_without_consent(make, caseworker):
    return make.child(registered_by=caseworker.user, consent=False)


def test_consent_with_nobody_and_no_time_reports_both_under_their_fields(caseworker, child_without_consent):
    response = caseworker.post(f"/children/{child_without_consent.id}/consent",
                               {"consent_given_by": "", "consent_given_at": ""})

    assert response.status_code == 422
    assert field_errors(response) == {"consent_given_by": ["Say who gave consent."],
                                      "consent_given_at": ["Give the date and time of the consent."]}
    assert not fresh(child_without_consent).has_consent


def test_consent_in_the_future_is_shown_under_its_field_on_the_childs_page_not_an_error_page(
        caseworker, child_without_consent):
    response = caseworker.post(f"/children/{child_without_consent.id}/consent",
                               {"consent_given_by": "", "consent_given_at": "2026-03-05T10:00"})

    assert response.status_code == 422
    assert field_errors(response) == {"consent_given_by": ["Say who gave consent."]}

    response = caseworker.post(f"/children/{child_without_consent.id}/consent",
                               {"consent_given_by": "her aunt", "consent_given_at": "2026-03-05T10:00"})

    assert response.status_code == 422
    assert field_errors(response) == {"consent_given_at": [FUTURE_CONSENT]}
    assert child_without_consent.case_reference in raw(response)  # the child's page, with the form again
    assert 'value="her aunt"' in raw(response)
    assert not fresh(child_without_consent).has_consent


def test_a_refused_consent_from_a_referral_keeps_the_way_back_to_it(make, caseworker, child_without_consent):
    referral = make.referral(child=child_without_consent)
    back = f"/referrals/{referral.id}"

    refused = caseworker.post(f"/children/{child_without_consent.id}/consent",
                              {"consent_given_by": "her aunt", "consent_given_at": "2026-03-05T10:00", "back": back})
    assert refused.status_code == 422
    assert f'name="back" value="{back}"' in raw(refused)

    recorded = caseworker.post(f"/children/{child_without_consent.id}/consent",
                               {"consent_given_by": "her aunt", "consent_given_at": "2026-03-01T10:00", "back": back})
    assert redirect_path(recorded) == back
    assert fresh(child_without_consent).has_consent


@pytest.mark.parametrize("back", ["//evil.example/", "/referrals/../admin/", "https://evil.example/referrals/1"])
def test_consent_never_sends_the_person_anywhere_but_a_referral_or_the_child(caseworker, child_without_consent,
                                                                           back):
    response = caseworker.post(f"/children/{child_without_consent.id}/consent",
                               {"consent_given_by": "her aunt", "consent_given_at": "2026-03-01T10:00", "back": back})

    assert redirect_path(response) == f"/children/{child_without_consent.id}"


# --- making a referral -----------------------------------------------------------------------

def test_a_referral_form_reports_the_note_the_urgency_and_the_pool_together(make, caseworker):
    girl = make.child(registered_by=caseworker.user, sex="female", estimated_age=13)
    boys = make.pool(admits_sex="male")

    response = caseworker.post("/referrals/new", {"child": str(girl.id), "pool": str(boys.id), "urgency": "whenever",
                                                  "note": "n" * 2001, "then": "submit"})

    assert response.status_code == 422
    shown = " ".join(messages(response))
    assert "does not admit this child" in shown
    assert "longer than 2000 characters" in shown
    assert "Not a valid choice" in shown
    assert referral_count() == 0


def test_a_referral_to_a_closed_shelter_is_refused_under_the_pool_with_the_other_problems(make, caseworker):
    girl = make.child(registered_by=caseworker.user, sex="female", estimated_age=13)
    closed = make.pool(shelter=make.shelter(status="closed"))

    response = caseworker.post("/referrals/new", {"child": str(girl.id), "pool": str(closed.id),
                                                  "urgency": "routine", "note": "n" * 2001, "then": "draft"})

    assert response.status_code == 422
    shown = " ".join(messages(response))
    assert "This shelter is not open for referrals now." in shown and "longer than 2000 characters" in shown
    assert referral_count() == 0


def test_no_child_and_no_pool_are_both_reported(make, caseworker):
    response = caseworker.post("/referrals/new", {"child": "", "pool": "", "urgency": "routine", "then": "submit"})

    assert response.status_code == 422
    shown = messages(response)
    assert any("Choose the child." in m for m in shown)
    assert any("Choose a bed pool." in m for m in shown)
    assert not any("without a live referral" in m for m in shown)  # one word for the child field


# --- a step of a referral --------------------------------------------------------------------

@pytest.mark.parametrize("htmx", [True, False], ids=["htmx", "plain"])
def test_declining_without_a_reason_code_or_text_names_both(make, login_as, htmx):
    referral = make.referral(status="submitted")
    staff = login_as("shelter_staff", organization=referral.pool.shelter.organization)

    response = staff.post(f"/referrals/{referral.id}/decline", {"reason_code": "", "reason_text": " "}, htmx=htmx)

    assert response.status_code == 422
    shown = " ".join(messages(response))
    assert "Choose why you decline" in shown and "Give a reason" in shown
    assert fresh(referral).status == "submitted"


def test_a_step_names_every_problem_the_form_found(make, login_as):
    referral = make.referral(status="submitted")
    staff = login_as("shelter_staff", organization=referral.pool.shelter.organization)

    response = staff.post(f"/referrals/{referral.id}/decline",
                          {"reason_code": "bored", "reason_text": "r" * 2001}, htmx=True)

    assert response.status_code == 422
    shown = " ".join(messages(response))
    assert "Not a valid choice" in shown and "longer than 2000 characters" in shown
    assert fresh(referral).status == "submitted"
