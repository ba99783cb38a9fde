"""A child's languages through the pages: ticked on the list when the child is registered and
changed later on the child's page, named in the reader's language, a code not on the list
refused with a clear message and nothing saved, and what the move to the list could not
match shown until someone chooses."""
import html
import re

import pytest

from coordination import clock
from coordination.audit.models import AuditEvent
from coordination.extensions import db
from coordination.referrals.models import Child

from .pages import NOW, assert_whole_page, body, messages, raw, redirect_id

CHECKBOX = re.compile(r'<label class="check"><input type="checkbox" name="languages" id="languages-(\w+)" '
                      r'value="(\w+)"( checked)?[^>]*> ([^<]+)</label>')
SHOWN = re.compile(r'<li><label class="check"><input type="checkbox" name="languages" id="languages-(\w+)"')
CHOOSE = "Choose the languages from the list offered."


@pytest.fixture(autouse=True)
def frozen_clock(app):
    clock.freeze(NOW)
    yield
    clock.freeze(None)


@pytest.fixture
def caseworker(login_as):
    return login_as("caseworker")


def registration(client, **changes) -> dict:
    data = {"given_name": "Ali", "family_name": "Rezaei", "sex": "male", "estimated_age": "15",
            "nationality": "Afghan", "languages": ["fa", "ru"], "region": str(client.user.organization.region_id),
            "consent_given_by": "the boy himself", "consent_given_at": "2026-03-01T10:30", "child_assent": "y",
            "found_place": "border_crossing", "found_region": str(client.user.organization.region_id),
            "found_at": "2026-03-01T06:00"}
    data.update(changes)
    return data


def boxes(response) -> dict[str, tuple[bool, str]]:
    """Each language box on the page: code -> (ticked, label)."""
    found = {}
    for element_id, value, checked, label in CHECKBOX.findall(raw(response)):
        assert element_id == value
        found[value] = (bool(checked), html.unescape(label))
    return found


def children() -> list[Child]:
    db.session.expire_all()
    return db.session.scalars(db.select(Child)).all()


# --- registering -----------------------------------------------------------------------------

def test_the_registration_form_offers_every_language_as_a_labelled_box_and_a_labelled_search(caseworker):
    page = caseworker.get("/children/new")

    text = assert_whole_page(page)
    offered = boxes(page)
    assert len(offered) >= 40 and not any(ticked for ticked, _ in offered.values())
    assert offered["fa"] == (False, "Persian") and offered["prs"] == (False, "Dari")
    labels = [label for _, label in offered.values()]
    assert labels == sorted(labels)
    assert "<legend>Languages the child speaks</legend>" in text
    assert '<label for="languages-filter">Find a language</label>' in text
    # The search box belongs to its own form, after the registration form: Enter searches.
    assert 'form="languages-search"' in text
    assert text.index('<form id="languages-search"') > text.index("</form>", text.index('action="/children/new"'))
    assert "<select" not in text.split("Languages the child speaks")[1].split("</fieldset>")[0]


def test_a_child_is_registered_with_the_languages_ticked_in_the_order_given(caseworker):
    response = caseworker.post("/children/new", registration(caseworker, languages=["fa", "ru", "fa"]))

    child = db.session.get(Child, redirect_id(response, "/children/"))
    assert child.languages == ["fa", "ru"]
    assert child.languages_unmapped == []
    page = body(caseworker.get(f"/children/{child.id}"))
    assert "<dt>Languages</dt><dd>Persian, Russian" in page


def test_a_child_may_speak_none_of_the_languages_on_the_list(caseworker):
    data = registration(caseworker)
    del data["languages"]

    child = db.session.get(Child, redirect_id(caseworker.post("/children/new", data), "/children/"))

    assert child.languages == []


@pytest.mark.parametrize("sent", [["Farsi"], ["fa", "xx"], ["FA"], ["fa, ru"], [""], ["x" * 5000]])
def test_a_language_not_on_the_list_is_refused_with_a_message_and_nothing_is_saved(caseworker, sent):
    response = caseworker.post("/children/new", registration(caseworker, languages=sent))

    assert response.status_code == 422, raw(response)[:2000]
    assert CHOOSE in messages(response)
    assert children() == []
    # The form comes back as it was filled in, with the boxes on the list still ticked.
    ticked = {code for code, (on, _) in boxes(response).items() if on}
    assert ticked == {code for code in sent if code in ("fa",)}
    assert 'value="Ali"' in raw(response)


def test_the_child_is_refused_a_language_by_the_service_whatever_the_form_let_through(make, caseworker):
    from coordination.errors import InvalidInput

    with pytest.raises(InvalidInput):
        make.child(registered_by=caseworker.user, languages=["Persian"])
    db.session.rollback()
    assert children() == []


# --- reading ---------------------------------------------------------------------------------

def test_the_child_page_names_the_languages_in_the_readers_language(make, caseworker):
    child = make.child(registered_by=caseworker.user, languages=["fa", "ru"])
    caseworker.user.locale = "ru"
    db.session.commit()

    page = caseworker.get(f"/children/{child.id}")

    assert "Персидский, русский" in body(page)
    assert boxes(page)["fa"] == (True, "Персидский")


def test_the_printed_record_names_the_languages_and_what_is_not_matched_yet(make, caseworker):
    child = make.child(registered_by=caseworker.user, languages=["prs"])
    child.languages_unmapped = ["Hazaragi"]
    db.session.commit()

    printed = body(caseworker.get(f"/children/{child.id}/print"))

    assert "Dari; not matched to the list yet: Hazaragi" in printed


# --- changing --------------------------------------------------------------------------------

def test_a_caseworker_changes_the_childs_languages_on_the_childs_page(make, caseworker):
    child = make.child(registered_by=caseworker.user, languages=["fa"])

    response = caseworker.post(f"/children/{child.id}/languages", {"languages": ["prs", "ps"]})

    assert redirect_id(response, "/children/") == child.id
    db.session.expire_all()
    assert db.session.get(Child, child.id).languages == ["prs", "ps"]
    actions = db.session.scalars(db.select(AuditEvent.action).where(AuditEvent.object_id == str(child.id))).all()
    assert "child.languages" in actions


def test_what_the_move_to_the_list_could_not_match_is_shown_until_someone_chooses(make, caseworker):
    child = make.child(registered_by=caseworker.user, languages=["ru"])
    child.languages_unmapped = ["Farsi/Dari mix", "sign language"]
    db.session.commit()

    page = caseworker.get(f"/children/{child.id}")

    notes = [m for m in messages(page) if "not matched" in m]
    assert notes and "Farsi/Dari mix; sign language" in notes[0] and "tick the right languages" in notes[0]
    assert '<details class="child-languages" open>' in raw(page)

    saved = caseworker.post(f"/children/{child.id}/languages", {"languages": ["ru", "fa", "prs"]})

    assert saved.status_code == 303
    db.session.expire_all()
    child = db.session.get(Child, child.id)
    assert (child.languages, child.languages_unmapped) == (["ru", "fa", "prs"], [])
    page = caseworker.get(f"/children/{child.id}")
    assert not [m for m in messages(page) if "not matched" in m]
    assert '<details class="child-languages">' in raw(page)


@pytest.mark.parametrize("sent", [["Farsi"], ["ru", "zz"]])
def test_changing_to_a_language_not_on_the_list_is_refused_and_changes_nothing(make, caseworker, sent):
    child = make.child(registered_by=caseworker.user, languages=["fa"])
    child.languages_unmapped = ["Hazaragi"]
    db.session.commit()

    response = caseworker.post(f"/children/{child.id}/languages", {"languages": sent})

    assert response.status_code == 422
    assert CHOOSE in messages(response)
    db.session.expire_all()
    child = db.session.get(Child, child.id)
    assert (child.languages, child.languages_unmapped) == (["fa"], ["Hazaragi"])


def test_another_organizations_caseworker_cannot_change_a_childs_languages(make, caseworker, login_as):
    child = make.child(registered_by=caseworker.user, languages=["fa"])
    outsider = login_as("caseworker")

    assert outsider.post(f"/children/{child.id}/languages", {"languages": ["ru"]}).status_code == 404
    db.session.expire_all()
    assert db.session.get(Child, child.id).languages == ["fa"]


# --- finding a language ----------------------------------------------------------------------

def test_the_search_box_narrows_the_list_and_keeps_the_ticked_boxes(caseworker):
    response = caseworker.get("/languages", query_string={"language_filter": "farsi", "languages": ["ru", "ar"]},
                              htmx=True)

    text = raw(response)
    assert response.status_code == 200
    assert text.lstrip().startswith('<div id="languages-choices"') and "<html" not in text
    assert "HX-Request" in response.headers.get("Vary", "")
    assert SHOWN.findall(text) == sorted(["ar", "fa", "ru"], key=lambda c: boxes(response)[c][1])
    assert {code for code, (on, _) in boxes(response).items() if on} == {"ru", "ar"}
    assert len(boxes(response)) >= 40  # the rest are there, out of sight, so none is lost
    assert "1 language matches “farsi”." in body(response)


def test_the_search_finds_a_language_by_its_name_in_another_language(caseworker):
    response = caseworker.get("/languages", query_string={"language_filter": "персид"}, htmx=True)

    assert SHOWN.findall(raw(response)) == ["fa"]


def test_without_htmx_the_search_answers_with_a_page_listing_the_languages_found(caseworker):
    response = caseworker.get("/languages", query_string={"language_filter": "kurd"})

    text = body(assert_whole_page(response) and response)
    assert "Kurdish" in text and "Central Kurdish" in text and "Russian" not in text


def test_a_search_with_a_code_not_on_the_list_answers_400_not_a_500(caseworker):
    response = caseworker.get("/languages", query_string={"languages": ["xx"], "language_filter": "a" * 500},
                              htmx=True)

    assert response.status_code == 400
    assert len(boxes(response)) >= 40


def test_anonymizing_removes_the_unmatched_free_text_and_keeps_the_codes(app, make):
    from datetime import datetime, timezone

    clock.freeze(datetime(2026, 3, 1, 12, tzinfo=timezone.utc))
    child = make.child(languages=["fa"])
    child.languages_unmapped = ["Hazaragi, as his uncle says"]
    db.session.commit()
    clock.freeze(datetime(2026, 6, 1, tzinfo=timezone.utc))

    result = app.test_cli_runner().invoke(args=["anonymize", "--ended-before", "2026-05-01"])

    assert result.exit_code == 0, result.output
    db.session.expire_all()
    child = db.session.get(Child, child.id)
    assert (child.languages, child.languages_unmapped) == (["fa"], [])
