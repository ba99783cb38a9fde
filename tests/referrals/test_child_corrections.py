"""Correcting a child's record after registration (GET/POST /children/<id>/edit): by the
caseworkers of the registering organization, under the rules of registering with every
problem at once, into the child's history and the audit trail (the fields, never the names),
with the name key folded again. A refused correction changes nothing; anyone else meets the
same answer as for an unknown id; an anonymized record is not corrected."""
import html
import re
from datetime import date, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select

from coordination import clock
from coordination.audit.models import AuditEvent
from coordination.errors import InvalidMove, NotAllowed
from coordination.extensions import db
from coordination.referrals import services
from coordination.referrals.models import Child
from coordination.referrals.names import name_key

from ..conftest import _acting
from .pages import NOW, body, fresh, messages, raw, redirect_path, says
from .test_all_problems_at_once import AGE_RANGE, FUTURE_BIRTH, field_errors

# The CSRF token (in forms and in htmx's headers) carries the second it was signed in.
CSRF = re.compile(r'(name="csrf_token"[^>]*value="|"X-CSRFToken": ")[^"]+')


@pytest.fixture(autouse=True)
def frozen_clock(app):
    clock.freeze(NOW)
    yield
    clock.freeze(None)


@pytest.fixture
def caseworker(login_as):
    return login_as("caseworker")


@pytest.fixture
def child(make, caseworker) -> Child:
    return make.child(registered_by=caseworker.user, given_name="Leyla", family_name="Həsənova", sex="female",
                      birth_date=None, estimated_age=13, nationality="Syrian", languages=["ar"],
                      needs=["medical"])


BAKU = ZoneInfo("Asia/Baku")


def correction(child: Child, **changes) -> dict:
    """The correction form as the page fills it in, with `changes` typed over it."""
    data = {"given_name": child.given_name, "family_name": child.family_name, "sex": child.sex,
            "birth_date": child.birth_date.isoformat() if child.birth_date else "",
            "estimated_age": "" if child.estimated_age is None else str(child.estimated_age),
            "nationality": child.nationality, "languages": list(child.languages), "needs": list(child.needs),
            "region": str(child.region_id), "found_place": child.found_place,
            "found_region": str(child.found_region_id or ""),
            "found_at": child.found_at.astimezone(BAKU).strftime("%Y-%m-%dT%H:%M") if child.found_at else ""}
    data.update(changes)
    return data


def updates(child: Child) -> list[AuditEvent]:
    db.session.expire_all()
    return list(db.session.scalars(select(AuditEvent).where(
        AuditEvent.action == "child.update", AuditEvent.object_id == str(child.id)).order_by(AuditEvent.id)))


def row(child: Child) -> tuple:
    """Everything a correction could touch, as stored."""
    child = fresh(child)
    return (child.given_name, child.family_name, child.name_key, child.sex, child.birth_date, child.estimated_age,
            child.nationality, child.languages, child.needs, child.region_id, child.consent_given_by)


def all_audit_events() -> int:
    return db.session.scalar(select(func.count()).select_from(AuditEvent))


# --- correcting ------------------------------------------------------------------------------

def test_the_childs_page_links_to_the_correction_form(caseworker, child):
    page = raw(caseworker.get(f"/children/{child.id}"))

    assert f'<a href="/children/{child.id}/edit">Correct the record</a>' in page


def test_the_correction_form_shows_the_record_as_it_stands_and_counts_as_a_view_of_the_name(caseworker, child):
    response = caseworker.get(f"/children/{child.id}/edit")

    assert response.status_code == 200
    text = raw(response)
    assert 'value="Leyla"' in text and 'value="Həsənova"' in text and 'value="13"' in text
    assert re.search(r'<input[^>]*checked[^>]*value="medical"|<input[^>]*value="medical"[^>]*checked', text)
    assert 'id="languages-ar" value="ar" checked' in text
    assert "consent_given_by" not in text  # consent has its own form
    views = db.session.scalars(select(AuditEvent.details).where(
        AuditEvent.action == "child.view", AuditEvent.object_id == str(child.id))).all()
    assert {"page": "correction", "case_reference": child.case_reference} in views


def test_a_colleague_corrects_names_and_birth_date_and_the_history_says_which_parts(make, login_as, caseworker, child):
    colleague = login_as("caseworker", organization=caseworker.user.organization)
    before_key = child.name_key

    response = colleague.post(f"/children/{child.id}/edit", correction(
        child, given_name="Leyla", family_name="Гулиева", birth_date="2012-05-01", needs=["medical", "trafficking"]))

    assert redirect_path(response) == f"/children/{child.id}"
    child = fresh(child)
    assert (child.family_name, child.birth_date, child.estimated_age) == ("Гулиева", date(2012, 5, 1), None)
    assert child.needs == ["medical", "trafficking"]
    assert child.name_key != before_key
    assert child.name_key == name_key("Leyla", "Quliyeva")  # folded again, across scripts
    [event] = updates(child)
    assert event.user_id == colleague.user.id
    assert event.details == {"case_reference": child.case_reference,
                             "fields": ["family_name", "birth_date", "estimated_age", "needs"]}
    page = colleague.get(f"/children/{child.id}")
    assert f"The record of {child.case_reference} is corrected." in body(page)
    assert "Corrected: Family name, Date of birth, Estimated age, Needs" in body(page)
    assert "Leyla Гулиева" in body(page)


def test_a_corrected_name_is_found_by_the_search_and_the_old_one_no_longer(caseworker, child):
    caseworker.post(f"/children/{child.id}/edit", correction(child, given_name="Aysel", family_name="Məmmədova"))

    found = raw(caseworker.get("/children?q=Mamedova"))
    gone = raw(caseworker.get("/children?q=Hasanova"))
    assert child.case_reference in found
    assert child.case_reference not in gone


def test_the_audit_trail_never_holds_the_names_typed(caseworker, child):
    caseworker.post(f"/children/{child.id}/edit", correction(child, given_name="Zümrüd", family_name="Qurbanova",
                                                             nationality="Iraqi"))

    [event] = updates(child)
    assert event.details["fields"] == ["given_name", "family_name", "nationality"]
    trail = str([e.details for e in db.session.scalars(select(AuditEvent))])
    for value in ("Zümrüd", "Qurbanova", "Leyla", "Həsənova", "Iraqi"):
        assert value not in trail


def test_a_correction_of_the_sex_region_and_languages_is_kept(make, caseworker, child):
    elsewhere = make.region()

    response = caseworker.post(f"/children/{child.id}/edit", correction(
        child, sex="male", region=str(elsewhere.id), languages=["fa", "ru"]))

    redirect_path(response)
    child = fresh(child)
    assert (child.sex, child.region_id, child.languages) == ("male", elsewhere.id, ["fa", "ru"])
    assert updates(child)[0].details["fields"] == ["sex", "languages", "region"]


def test_choosing_the_languages_again_settles_what_the_language_move_could_not_match(caseworker, child):
    child.languages_unmapped = ["Kurmanji (Badini)"]
    db.session.commit()
    assert "Kurmanji (Badini)" in body(caseworker.get(f"/children/{child.id}/edit"))

    caseworker.post(f"/children/{child.id}/edit", correction(child, languages=["ar", "ku"]))

    assert (fresh(child).languages, fresh(child).languages_unmapped) == (["ar", "ku"], [])


def test_saving_the_record_unchanged_writes_no_correction(caseworker, child):
    before = row(child)

    response = caseworker.post(f"/children/{child.id}/edit", correction(child))

    assert redirect_path(response) == f"/children/{child.id}"
    assert row(child) == before
    assert updates(child) == []
    assert "Nothing was changed" in body(caseworker.get(f"/children/{child.id}"))


# --- refused corrections change nothing ------------------------------------------------------

def test_a_refused_correction_names_every_problem_and_changes_nothing(caseworker, child):
    before = row(child)

    response = caseworker.post(f"/children/{child.id}/edit", correction(
        child, given_name="", family_name="Changed", birth_date="2026-06-01", estimated_age="18"))

    assert response.status_code == 422
    assert field_errors(response) == {"given_name": ["Enter the given name."], "birth_date": [FUTURE_BIRTH],
                                      "estimated_age": [AGE_RANGE]}
    assert 'value="Changed"' in raw(response)  # what was typed stays, to be put right
    assert row(child) == before
    assert updates(child) == []


@pytest.mark.parametrize("changes, message", [
    ({"birth_date": "2008-03-01", "estimated_age": ""}, "under 18"),
    ({"birth_date": "", "estimated_age": ""}, "Give the date of birth or an estimated age."),
    ({"birth_date": "2012-13-45"}, "Not a valid date"),
    ({"sex": "other"}, "Not a valid choice"),
    ({"region": "999999"}, "Not a valid choice"),
    ({"languages": ["ar", "xx"]}, "Choose the languages from the list offered."),
    ({"needs": ["flying"]}, "not a valid choice"),
    ({"given_name": "ə" * 201}, "longer than 200 characters"),
    ({"csrf_token": "forged"}, "did not come from this site"),
])
def test_bad_corrections_are_refused_with_a_clear_message(caseworker, child, changes, message):
    before, events = row(child), all_audit_events()

    response = caseworker.post(f"/children/{child.id}/edit", correction(child, **changes))

    assert 400 <= response.status_code < 500
    assert says(response, message), messages(response)
    assert row(child) == before
    assert updates(child) == []
    assert all_audit_events() <= events + 1  # at most the view of the page that says why


def test_the_service_refuses_a_correction_by_field_and_changes_nothing(caseworker, child):
    before = row(child)

    with _acting(caseworker.user), pytest.raises(services.InvalidFields) as refused:
        services.correct_child(child, caseworker.user, given_name="Leyla", family_name="", sex="female",
                               birth_date=NOW.date() + timedelta(days=1), estimated_age=None, nationality="",
                               languages=["xx"], needs=[], region_id=child.region_id)
    db.session.rollback()

    assert set(refused.value.problems) == {"birth_date", "languages"}
    assert row(child) == before


# --- likely duplicates -----------------------------------------------------------------------

def test_a_correction_that_makes_the_record_look_like_another_child_is_pointed_out(make, caseworker, child):
    namesake = make.child(registered_by=caseworker.user, given_name="Aysel", family_name="Məmmədova",
                          birth_date=date(2012, 5, 1), estimated_age=None)
    before = row(child)

    warned = caseworker.post(f"/children/{child.id}/edit", correction(
        child, given_name="AYSEL", family_name="Мамедова", birth_date="2012-11-20", estimated_age=""))

    assert warned.status_code == 409
    assert namesake.case_reference in raw(warned) and says(warned, "already registered")
    assert row(child) == before

    saved = caseworker.post(f"/children/{child.id}/edit", correction(
        child, given_name="AYSEL", family_name="Мамедова", birth_date="2012-11-20", estimated_age="",
        confirm_not_duplicate="y"))

    assert redirect_path(saved) == f"/children/{child.id}"
    assert fresh(child).family_name == "Мамедова"


def test_a_record_is_not_its_own_duplicate_and_other_corrections_do_not_ask_again(make, caseworker, child):
    make.child(registered_by=caseworker.user, given_name="Leyla", family_name="Həsənova", estimated_age=13)

    own_names = caseworker.post(f"/children/{child.id}/edit", correction(child, given_name="LEYLA"))
    needs_only = caseworker.post(f"/children/{child.id}/edit", correction(child, needs=["disability"]))

    assert redirect_path(own_names) == f"/children/{child.id}"  # the namesake was told apart at registration
    assert redirect_path(needs_only) == f"/children/{child.id}"
    assert fresh(child).needs == ["disability"]


# --- who may correct -------------------------------------------------------------------------

OUTSIDERS = {
    "caseworker of another organization": "caseworker",
    "shelter staff": "shelter_staff",
    "guardianship": "guardianship",
    "oversight": "oversight",
    "admin": "admin",
}


@pytest.mark.parametrize("who", OUTSIDERS)
def test_anyone_else_meets_the_answer_of_an_unknown_id_and_changes_nothing(make, login_as, child, who):
    outsider = login_as(OUTSIDERS[who])
    nobody = (db.session.scalar(select(func.max(Child.id))) or 0) + 1000
    before = row(child)
    data = correction(child, given_name="Stranger")

    for theirs, nobodys in ((outsider.get(f"/children/{child.id}/edit"), outsider.get(f"/children/{nobody}/edit")),
                            (outsider.post(f"/children/{child.id}/edit", data),
                             outsider.post(f"/children/{nobody}/edit", data))):
        assert theirs.status_code == 404
        assert (theirs.status_code, CSRF.sub(r"\1…", raw(theirs))) == (nobodys.status_code,
                                                                       CSRF.sub(r"\1…", raw(nobodys)))
        assert child.case_reference not in raw(theirs) and "Leyla" not in raw(theirs)
    assert row(child) == before
    assert updates(child) == []


def test_even_a_shelter_that_accepted_the_child_cannot_correct_the_record(make, login_as, caseworker, child):
    referral = make.referral(child=child, status="accepted")
    staff = login_as("shelter_staff", organization=referral.pool.shelter.organization)

    assert staff.get(f"/children/{child.id}/edit").status_code == 404
    assert staff.post(f"/children/{child.id}/edit", correction(child, given_name="X")).status_code == 404
    assert fresh(child).given_name == "Leyla"


def test_the_service_refuses_anyone_but_a_caseworker_of_the_organization(make, child):
    stranger = make.user("caseworker")
    staff = make.user("shelter_staff", organization=child.organization)

    for person in (stranger, staff):
        with _acting(person), pytest.raises(NotAllowed):
            services.correct_child(child, person, given_name="X", family_name="", sex="female", birth_date=None,
                                   estimated_age=12, nationality="", languages=[], needs=[],
                                   region_id=child.region_id)
        db.session.rollback()
    assert fresh(child).given_name == "Leyla"


# --- anonymized records ----------------------------------------------------------------------

@pytest.fixture
def anonymized(child) -> Child:
    with _acting(child.registered_by):
        services.anonymize_ended_before(NOW + timedelta(minutes=1))  # registered before, never referred
    db.session.commit()
    child = fresh(child)
    assert child.anonymized_at is not None
    return child


def test_an_anonymized_record_says_why_it_cannot_be_corrected_and_offers_no_link(caseworker, anonymized):
    page = body(caseworker.get(f"/children/{anonymized.id}"))

    assert f"/children/{anonymized.id}/edit" not in page
    assert "it can no longer be corrected" in page


@pytest.mark.parametrize("method", ["GET", "POST"])
def test_an_anonymized_record_is_not_corrected(caseworker, anonymized, method):
    before, events = row(anonymized), all_audit_events()

    if method == "GET":
        response = caseworker.get(f"/children/{anonymized.id}/edit")
    else:
        response = caseworker.post(f"/children/{anonymized.id}/edit",
                                   correction(anonymized, given_name="Leyla", estimated_age="13"))

    assert response.status_code == 409
    assert says(response, "was anonymized"), messages(response)
    assert "for data protection" in html.unescape(raw(response))
    assert row(anonymized) == before
    assert all_audit_events() == events  # not even a view: the page shows no name


def test_the_service_refuses_to_correct_an_anonymized_record(caseworker, anonymized):
    with _acting(caseworker.user), pytest.raises(InvalidMove):
        services.correct_child(anonymized, caseworker.user, given_name="Leyla", family_name="", sex="female",
                               birth_date=None, estimated_age=13, nationality="", languages=[], needs=[],
                               region_id=anonymized.region_id)


def test_the_names_a_duplicate_warning_shows_are_views_in_the_audit_trail(make, caseworker, child):
    namesake = make.child(registered_by=caseworker.user, given_name="Aysel", family_name="Məmmədova",
                          birth_date=date(2012, 5, 1), estimated_age=None)

    caseworker.post(f"/children/{child.id}/edit", correction(
        child, given_name="Aysel", family_name="Məmmədova", birth_date="2012-05-01", estimated_age=""))

    views = db.session.scalars(select(AuditEvent.details).where(
        AuditEvent.action == "child.view_list", AuditEvent.object_id == "likely duplicates")).all()
    assert any(namesake.id in view["child_ids"] and namesake.case_reference in view["case_references"]
               for view in views)
