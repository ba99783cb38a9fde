"""The list of languages (coordination/languages.py): ISO 639 codes, named in the reader's
language from Babel's locale data, sorted by that name, and found by any name people use."""
import re

import pytest
from babel import Locale
from flask_babel import force_locale, gettext

from coordination import languages
from coordination.errors import InvalidInput


@pytest.fixture
def context(app):
    with app.test_request_context():
        yield


def test_every_code_is_an_iso_639_code_once_two_letters_where_part_1_has_one(context):
    codes = languages.LANGUAGE_CODES
    assert len(codes) == len(set(codes)) and 40 <= len(codes) <= 80
    assert all(re.fullmatch(r"[a-z]{2}|[a-z]{3}", code) for code in codes)
    # The three-letter ones have no ISO 639-1 code (Babel knows every two-letter code by name).
    english = Locale.parse("en").languages
    for code in (c for c in codes if len(c) == 3):
        assert not any(len(key) == 2 and name == languages.language_name(code, "en")
                       for key, name in english.items()), code


@pytest.mark.parametrize("code", ["az", "ru", "en", "fa", "prs", "ps", "ar", "tr", "ka", "hy", "uk", "ku", "ur"])
def test_the_languages_children_here_are_likely_to_speak_are_on_the_list(code):
    assert code in languages.KNOWN


@pytest.mark.parametrize("locale", ["en", "ru", "az"])
def test_every_language_has_a_name_of_its_own_in_each_of_the_apps_languages(context, locale):
    names = [languages.language_name(code, locale) for code in languages.LANGUAGE_CODES]
    assert all(name and name not in languages.KNOWN for name in names)
    assert len(set(names)) == len(names)


def test_names_come_from_the_readers_language(context):
    with force_locale("ru"):
        assert languages.language_name("fa") == "персидский"
        assert languages.language_names(["fa", "prs", "ru"]) == ["персидский", "дари", "русский"]
    with force_locale("az"):
        assert languages.language_name("ru") == "rus"
        assert languages.language_label("en") == "İngilis"  # an Azerbaijani capital i has its dot
    with force_locale("en"):
        assert languages.language_names(["fa", "prs", "ckb"]) == ["Persian", "Dari", "Central Kurdish"]


def test_a_language_babel_cannot_name_in_the_readers_language_has_a_name_for_translators(context):
    with force_locale("ru"):
        assert languages.language_name("tly") == gettext("Talysh")  # Babel has only the English name
    with force_locale("en"):
        assert languages.language_name("tly") == "Talysh"
    assert languages.language_name("xx") == "xx"


def test_the_list_is_alphabetical_in_the_readers_language(context):
    for locale in ("en", "ru", "az"):
        with force_locale(locale):
            labels = [label for _, label in languages.choices()]
        assert labels == sorted(labels, key=languages.fold), locale
    with force_locale("ru"):
        codes = [code for code, _ in languages.choices()]
    assert codes.index("az") < codes.index("en") < codes.index("fa") < codes.index("ru")  # А, Ан, П, Р
    with force_locale("en"):
        codes = [code for code, _ in languages.choices()]
    assert codes.index("en") < codes.index("fa") < codes.index("ru")


@pytest.mark.parametrize("typed, code", [
    ("Farsi", "fa"), ("pers", "fa"), ("перс", "fa"), ("فارس", "fa"), ("fars", "fa"), ("FA", "fa"),
    ("Dari", "prs"), ("prs", "prs"), ("azerbaycan", "az"), ("Azeri", "az"), ("азерб", "az"),
    ("Sorani", "ckb"), ("Kurmanji", "ku"), ("Bengali", "bn"), ("ərəb", "ar"), ("pusht", "ps"),
])
def test_a_language_is_found_by_any_name_people_use_in_any_case_and_in_any_of_our_languages(context, typed, code):
    with force_locale("en"):
        assert languages.matches(code, typed)


def test_a_search_does_not_find_what_it_does_not_name(context):
    with force_locale("en"):
        found = [code for code in languages.LANGUAGE_CODES if languages.matches(code, "farsi")]
        assert found == ["fa"]
        assert not any(languages.matches(code, "klingon") for code in languages.LANGUAGE_CODES)
        assert all(languages.matches(code, "  ") for code in languages.LANGUAGE_CODES)


def test_chosen_languages_are_kept_once_in_order_and_anything_else_is_refused(context):
    assert languages.chosen(["fa", "ru", "fa"]) == ["fa", "ru"]
    assert languages.chosen(None) == []
    for wrong in (["Farsi"], ["fa", "FA"], [""], ["fa "], ["x" * 10_000]):
        with pytest.raises(InvalidInput):
            languages.chosen(wrong)


def test_a_list_of_languages_reads_as_a_list(context):
    with force_locale("ru"):
        assert languages.listed(["fa", "ru"]) == "Персидский, русский"
    with force_locale("en"):
        assert languages.listed(["fa", "ru"]) == "Persian, Russian"
    assert languages.listed([]) == ""
