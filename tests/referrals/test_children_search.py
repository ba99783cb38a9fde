"""Searching the children list (GET /children?q=…) by case reference or by name: a name
typed in any script or spelling finds the child however it was registered, the search is
a bookmarkable query parameter that htmx applies without a reload, it never reaches past
the caseworker's own organization, and bad input is refused with a message, never a 500."""
import re
from datetime import date
from urllib.parse import quote

import pytest
from sqlalchemy import select

from coordination import clock
from coordination.audit.models import AuditEvent
from coordination.extensions import db

from .pages import NOW, assert_fragment_only, assert_whole_page, messages, pager_link, pager_links, raw

LISTED = re.compile(r'<a href="/children/(\d+)">(UC-\d{4}-\d{5})</a>')


@pytest.fixture(autouse=True)
def frozen_clock(app):
    clock.freeze(NOW)
    yield
    clock.freeze(None)


@pytest.fixture
def caseworker(login_as):
    return login_as("caseworker")


def listed(response) -> list[int]:
    assert response.status_code == 200, raw(response)[:2000]
    return [int(child_id) for child_id, _ in LISTED.findall(raw(response))]


def search(client, q: str, htmx: bool = False, **filters) -> list[int]:
    return listed(client.get("/children", query_string={"q": q, **filters}, htmx=htmx))


@pytest.fixture
def children(make, caseworker):
    """Three of the organization's children, and one of another organization with the same names."""
    def child(given, family, **values):
        values.setdefault("birth_date", date(2012, 5, 1))
        values.setdefault("estimated_age", None)
        return make.child(registered_by=caseworker.user, given_name=given, family_name=family, **values)

    return {
        "shabnam": child("Şəbnəm", "Ağaoğlu-Mırzəyeva"),
        "aysel": child("Aysel", "Məmmədova"),
        "aysel_li": child("Aysel", "Məmmədli"),
        "elsewhere": make.child(given_name="Şəbnəm", family_name="Ağaoğlu-Mırzəyeva"),
    }


@pytest.mark.parametrize("q", ["Şəbnəm Ağaoğlu-Mırzəyeva", "Shabnam Agaoglu-Mirzayeva", "Шабнам Агаоглу-Мырзаева",
                               "shabnam", "ШАБНАМ", "sebnem", "Mırzəyeva", "Mirzaeva", "Мырза", "Mirzayeva Shabnam",
                               "  shabnam   mirzayeva  "])
def test_a_name_in_any_script_or_spelling_finds_the_child(children, caseworker, q):
    assert search(caseworker, q) == [children["shabnam"].id]


def test_a_name_search_finds_every_child_whose_name_contains_it_and_no_other(children, caseworker):
    both = sorted([children["aysel"].id, children["aysel_li"].id])

    assert sorted(search(caseworker, "Aysel")) == both
    assert sorted(search(caseworker, "Mammad")) == both
    assert search(caseworker, "Mammadova") == [children["aysel"].id]
    assert search(caseworker, "Мамедова") == [children["aysel"].id]
    assert search(caseworker, "Məmmədli") == [children["aysel_li"].id]
    assert search(caseworker, "Aysel Huseynova") == []


@pytest.mark.parametrize("how", ["whole", "lower case", "number only", "year and number"])
def test_a_case_reference_finds_the_child_whole_in_any_case_or_in_part(children, caseworker, how):
    reference = children["aysel"].case_reference  # UC-2026-000NN
    q = {"whole": reference, "lower case": reference.lower(), "number only": reference[-5:],
         "year and number": reference[3:]}[how]

    assert search(caseworker, q) == [children["aysel"].id]


def test_another_organizations_child_is_never_found(children, caseworker):
    elsewhere = children["elsewhere"]

    assert elsewhere.id not in search(caseworker, "Shabnam")
    assert search(caseworker, elsewhere.case_reference) == []


def test_the_search_narrows_the_other_filters_and_they_narrow_it(make, children, caseworker):
    other_region = make.region()
    moved = make.child(registered_by=caseworker.user, given_name="Aysel", family_name="Mammadova",
                       region_id=other_region.id)

    assert search(caseworker, "Aysel Mammadova", region=str(other_region.id)) == [moved.id]
    assert sorted(search(caseworker, "Aysel Mammadova")) == sorted([children["aysel"].id, moved.id])


def test_an_empty_search_or_one_of_no_letters_lists_by_the_other_filters_alone(children, caseworker):
    everyone = sorted(c.id for key, c in children.items() if key != "elsewhere")

    assert sorted(search(caseworker, "")) == everyone
    assert sorted(search(caseworker, "   ")) == everyone
    assert search(caseworker, "—") == []  # something was searched for, and nothing is called that


@pytest.mark.parametrize("q", ["%", "_", "\\", "'; DROP TABLE child; --", "%(ref)s", "UC-%", "*"])
def test_wildcards_and_quotes_are_searched_for_literally(children, caseworker, q):
    assert search(caseworker, q) == []


def test_htmx_gets_only_the_list_and_the_page_keeps_what_was_searched(children, caseworker):
    fragment = caseworker.get("/children", query_string={"q": "Мамедова"}, htmx=True)
    assert fragment.status_code == 200
    assert children["aysel"].case_reference in assert_fragment_only(fragment, "children-list")

    page = caseworker.get("/children", query_string={"q": "Мамедова"})
    text = assert_whole_page(page)
    assert re.search(r'<label>Case reference or name <input[^>]*name="q"[^>]*value="Мамедова"', text), text
    assert 'type="search"' in text
    assert "input changed delay:400ms target:#children-q" in text


def test_the_pager_keeps_the_search(make, caseworker):
    for _ in range(27):
        make.child(registered_by=caseworker.user, given_name="Nigar", family_name="Əliyeva")

    first = caseworker.get("/children?q=" + quote("Нигяр"))

    assert len(listed(first)) == 25
    assert pager_links(raw(first))["next"]["q"] == "Нигяр"
    assert len(listed(caseworker.get(pager_link(raw(first), "next")))) == 2


def test_only_the_children_found_are_recorded_as_seen(children, caseworker):
    def views_of(child) -> int:
        shown = db.session.scalars(select(AuditEvent.details).where(AuditEvent.action == "child.view_list")).all()
        return sum(child.id in details["child_ids"] for details in shown)

    search(caseworker, "Shabnam")

    assert views_of(children["shabnam"]) == 1
    assert views_of(children["aysel"]) == views_of(children["aysel_li"]) == 0


@pytest.mark.parametrize("htmx", [False, True], ids=["page", "htmx"])
def test_a_search_too_long_is_refused_with_a_message(caseworker, htmx):
    response = caseworker.get("/children", query_string={"q": "ə" * 201}, htmx=htmx)

    assert response.status_code == 400
    assert any("Case reference or name" in message for message in messages(response)), messages(response)
    if htmx:
        assert_fragment_only(response, "children-list")


def test_a_search_with_a_nul_character_is_refused_whole(caseworker):
    response = caseworker.get("/children", query_string={"q": "Ley\x00la"})

    assert response.status_code == 400
    assert "nothing was changed" in response.get_data(as_text=True)
