"""The languages a shelter's staff speak, chosen by an admin from the list: stored as codes,
a code not on the list refused with a clear message and nothing changed, and what the move
to the list could not match shown on the admin's shelter page until the shelter is saved."""
import html
import re

import pytest

from coordination.beds.models import Shelter
from coordination.extensions import db

from .pages import messages, redirected_to, text

TICKED = re.compile(r'<input type="checkbox" name="languages" id="languages-(\w+)" value="\w+" checked')
NOTE = re.compile(r'<p class="warning"[^>]*>(.*?)</p>', re.S)
CHOOSE = "Choose the languages from the list offered."


def shelter_form(shelter: Shelter, **changes) -> dict:
    data = {"organization": str(shelter.organization_id), "region": str(shelter.region_id), "name": shelter.name,
            "address": shelter.address, "phone": shelter.phone, "status": shelter.status,
            "languages": list(shelter.languages), "services": list(shelter.services), "accessibility": ""}
    data.update(changes)
    return data


def unmatched_notes(response) -> list[str]:
    return [html.unescape(note) for note in NOTE.findall(response.get_data(as_text=True)) if "not matched" in note]


def fresh(shelter: Shelter) -> Shelter:
    db.session.expire_all()
    return db.session.get(Shelter, shelter.id)


def test_the_shelter_page_ticks_the_languages_its_staff_speak(admin, make):
    shelter = make.shelter(languages=["az", "fa", "ar"])

    page = admin.get(f"/admin/shelters/{shelter.id}")

    assert sorted(TICKED.findall(page.get_data(as_text=True))) == ["ar", "az", "fa"]
    assert "Languages the staff speak" in text(page)


def test_an_admin_chooses_the_languages_the_staff_speak(admin, make):
    shelter = make.shelter(languages=["az"])

    response = admin.post(f"/admin/shelters/{shelter.id}", shelter_form(shelter, languages=["az", "fa", "prs"]))

    assert redirected_to(response) == f"/admin/shelters/{shelter.id}"
    assert fresh(shelter).languages == ["az", "fa", "prs"]
    assert "Azerbaijani, Persian, Dari" in text(admin.get(f"/shelters/{shelter.id}"))


@pytest.mark.parametrize("sent", [["Persian"], ["az", "xx"], ["AZ"]])
def test_a_language_not_on_the_list_is_refused_and_nothing_changes(admin, make, sent):
    shelter = make.shelter(languages=["az"])

    response = admin.post(f"/admin/shelters/{shelter.id}", shelter_form(shelter, languages=sent, name="Renamed"))

    assert response.status_code == 422
    assert CHOOSE in messages(response)
    assert (fresh(shelter).name, fresh(shelter).languages) == (shelter.name, ["az"])


def test_what_the_move_to_the_list_could_not_match_is_shown_until_the_shelter_is_saved(admin, make):
    shelter = make.shelter(languages=["az"])
    shelter.languages_unmapped = ["Talishi (some)"]
    db.session.commit()

    page = admin.get(f"/admin/shelters/{shelter.id}")
    notes = unmatched_notes(page)
    assert notes and "Talishi (some)" in notes[0] and "tick the right languages" in notes[0]
    assert "Not matched to the list yet: Talishi (some)" in text(admin.get(f"/shelters/{shelter.id}"))

    redirected_to(admin.post(f"/admin/shelters/{shelter.id}", shelter_form(shelter, languages=["az", "tly"])))

    assert (fresh(shelter).languages, fresh(shelter).languages_unmapped) == (["az", "tly"], [])
    assert unmatched_notes(admin.get(f"/admin/shelters/{shelter.id}")) == []


def test_a_new_shelter_gets_its_languages_from_the_list(admin, make):
    organization = make.organization()
    data = {"organization": str(organization.id), "region": str(organization.region_id), "name": "New House",
            "status": "open", "languages": ["ru", "uk"]}

    response = admin.post("/admin/shelters/new", data)

    shelter = db.session.scalar(db.select(Shelter).where(Shelter.name == "New House"))
    assert redirected_to(response) == f"/admin/shelters/{shelter.id}"
    assert (shelter.languages, shelter.languages_unmapped) == (["ru", "uk"], [])
