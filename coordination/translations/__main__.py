"""Keep the catalogs in step with the code: `python -m coordination.translations`.

Extracts every message from the app's Python code and templates, adds WTForms' own
messages (WTForms ships no Azerbaijani, so the app's catalogs carry them), updates the
Azerbaijani, Russian and English catalogs beside this file (new messages arrive
untranslated, and tests/test_translations.py fails until someone translates them), and
compiles them. The compiled .mo files are committed, so a fresh checkout needs no step
of its own; `--check` only reports whether they are in step."""
import argparse
import io
import sys
from datetime import datetime, timezone
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.extract import extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po, write_po
from wtforms.i18n import messages_path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent
LANGUAGES = ("az", "ru", "en")
# Catalog headers carry dates; fixed ones keep the files the same from run to run, so that a
# test can tell whether they are in step with the code (git keeps the real history).
STAMP = datetime(2026, 1, 1, tzinfo=timezone.utc)
KEYWORDS = {"_": None, "gettext": None, "ngettext": (1, 2), "_l": None, "lazy_gettext": None,
            "lazy_ngettext": (1, 2)}


def template() -> Catalog:
    """Every message the app can show, as one catalog template."""
    with open(HERE / "babel.cfg") as config:
        method_map, options_map = parse_mapping_cfg(config)
    catalog = Catalog(project="shelter-coordination", charset="utf-8", creation_date=STAMP, revision_date=STAMP)
    for filename, lineno, message, comments, context in extract_from_dir(
            ROOT, method_map, options_map, keywords=KEYWORDS, strip_comment_tags=True):
        catalog.add(message, None, [(filename, lineno)], auto_comments=comments, context=context)
    with open(Path(messages_path()) / "wtforms.pot", "rb") as wtforms_messages:
        for message in read_po(wtforms_messages):
            if message.id:
                catalog.add(message.id, None, [("wtforms", 0)])
    return catalog


def po_path(language: str) -> Path:
    return HERE / language / "LC_MESSAGES" / "messages.po"


def updated(language: str, pot: Catalog) -> Catalog:
    path = po_path(language)
    if path.exists():
        with open(path, "rb") as po:
            catalog = read_po(po, locale=language)
    else:
        catalog = Catalog(locale=language, project="shelter-coordination", charset="utf-8")
    catalog.update(pot, no_fuzzy_matching=True)
    catalog.creation_date = catalog.revision_date = STAMP
    return catalog


def po_bytes(catalog: Catalog) -> bytes:
    out = io.BytesIO()
    write_po(out, catalog, width=100, omit_header=False, no_location=True, ignore_obsolete=True,
             sort_output=True)
    return out.getvalue()


def mo_bytes(catalog: Catalog) -> bytes:
    out = io.BytesIO()
    write_mo(out, catalog, use_fuzzy=False)
    return out.getvalue()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="report catalogs out of step; change nothing")
    args = parser.parse_args()
    pot = template()
    stale = []
    for language in LANGUAGES:
        catalog = updated(language, pot)
        po, mo = po_path(language), po_path(language).with_suffix(".mo")
        new_po, new_mo = po_bytes(catalog), mo_bytes(catalog)
        for path, content in ((po, new_po), (mo, new_mo)):
            if path.exists() and path.read_bytes() == content:
                continue
            stale.append(str(path.relative_to(ROOT)))
            if not args.check:
                path.parent.mkdir(parents=True, exist_ok=True)
                path.write_bytes(content)
    if stale:
        print(("Out of step: " if args.check else "Updated: ") + ", ".join(stale))
    return 1 if (stale and args.check) else 0


if __name__ == "__main__":
    sys.exit(main())
