"""Every word the app shows is in Azerbaijani, Russian and English: each message in the code
and the templates is in the catalogs, translated, not fuzzy, and compiled; and no template
shows text outside gettext."""
import re
from html.parser import HTMLParser
from pathlib import Path

import pytest
from babel.messages.pofile import read_po
from flask_babel import force_locale, gettext

from coordination.translations.__main__ import LANGUAGES, mo_bytes, po_bytes, po_path, template, updated

ROOT = Path(__file__).resolve().parent.parent
TRANSLATED = ("az", "ru")  # English is the source language: its messages are their own translation
PLACEHOLDER = re.compile(r"%(?:\([a-z_]+\))?[-#0 +]?\d*(?:\.\d+)?[sdif%]")


@pytest.fixture(scope="module")
def extracted():
    return [message for message in template() if message.id]


def catalog(language: str):
    with open(po_path(language), "rb") as po:
        return read_po(po, locale=language)


@pytest.mark.parametrize("language", TRANSLATED)
def test_every_message_is_translated_and_not_fuzzy(extracted, language):
    translations = catalog(language)
    missing, untranslated, fuzzy = [], [], []
    for message in extracted:
        found = translations.get(message.id)
        strings = found.string if found is not None and isinstance(found.string, tuple) else (
            (found.string,) if found is not None else ())
        if found is None:
            missing.append(message.id)
        elif not all(strings):
            untranslated.append(message.id)
        elif found.fuzzy:
            fuzzy.append(message.id)
    assert (missing, untranslated, fuzzy) == ([], [], []), (
        "run `python -m coordination.translations` and translate what it adds")


@pytest.mark.parametrize("language", TRANSLATED)
def test_translations_keep_every_placeholder(language):
    wrong = []
    for message in catalog(language):
        if not message.id or not message.string:
            continue
        ids = message.id if isinstance(message.id, tuple) else (message.id,)
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        expected = set(PLACEHOLDER.findall(ids[-1])) | set(PLACEHOLDER.findall(ids[0]))
        for string in strings:
            if string and not set(PLACEHOLDER.findall(string)) <= expected | {"%%"}:
                wrong.append((message.id, string))
            if string and set(PLACEHOLDER.findall(ids[0])) - {"%(num)s", "%(num)d"} - set(PLACEHOLDER.findall(string)):
                wrong.append((message.id, string))
    assert wrong == []


@pytest.mark.parametrize("language", LANGUAGES)
def test_committed_catalogs_and_compiled_files_are_in_step_with_the_code(language):
    """A fresh checkout needs no compile step: the .mo files are committed, and current."""
    current = updated(language, template())
    assert po_path(language).read_bytes() == po_bytes(current), "run `python -m coordination.translations`"
    assert po_path(language).with_suffix(".mo").read_bytes() == mo_bytes(current)


def test_the_app_speaks_each_language(app):
    with force_locale("az"):
        assert gettext("Bed board") != "Bed board"
    with force_locale("ru"):
        assert gettext("Bed board") != "Bed board"
    with force_locale("en"):
        assert gettext("Bed board") == "Bed board"


# --- no text outside gettext in templates ---------------------------------------------------

JINJA = re.compile(r"{#.*?#}|{%.*?%}|{{.*?}}", re.S)
SHOWN_ATTRIBUTES = {"title", "alt", "placeholder", "aria-label", "aria-description", "label"}
LETTER = re.compile(r"[^\W\d_]")


class VisibleText(HTMLParser):
    def __init__(self):
        super().__init__()
        self.found, self.skipping = [], 0

    def handle_starttag(self, tag, attrs):
        if tag in ("script", "style"):
            self.skipping += 1
        for name, value in attrs:
            if name in SHOWN_ATTRIBUTES and value and LETTER.search(value):
                self.found.append(f'{name}="{value}"')

    def handle_endtag(self, tag):
        if tag in ("script", "style"):
            self.skipping -= 1

    def handle_data(self, data):
        if not self.skipping and LETTER.search(data):
            self.found.append(data.strip())


@pytest.mark.parametrize("path", sorted((ROOT / "templates").rglob("*.html")), ids=lambda p: str(p.relative_to(ROOT)))
def test_templates_show_no_text_outside_gettext(path):
    parser = VisibleText()
    parser.feed(JINJA.sub(" ", path.read_text()))
    assert parser.found == []
