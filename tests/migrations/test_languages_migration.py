"""The migration that turns free-text languages into ISO 639 codes (c4d8e9f0a1b2): what it
can match becomes codes, the rest is kept for a person to settle, and the downgrade writes
English names back. The mapping is tested directly, then once end to end on a database of
its own, built up to the revision before and filled with rows as people typed them."""
import importlib.util
from datetime import datetime
from pathlib import Path

import pytest
import sqlalchemy as sa
from flask_migrate import downgrade, upgrade

from coordination import languages
from coordination.extensions import db

BEFORE, REVISION = "e22ff3816b35", "c4d8e9f0a1b2"
VERSIONS = Path(__file__).resolve().parents[2] / "coordination" / "migrations" / "versions"


def _load_migration():
    path = next(VERSIONS.glob(f"{REVISION}_*.py"))
    spec = importlib.util.spec_from_file_location(f"migration_{REVISION}", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


migration = _load_migration()


# --- the mapping -----------------------------------------------------------------------------

@pytest.mark.parametrize("typed, codes, unmatched", [
    (["Azerbaijani", "Russian"], ["az", "ru"], []),
    (["AZERBAIJANI", "russian", "English "], ["az", "ru", "en"], []),
    (["Farsi", "Persian", "persian language"], ["fa"], []),
    (["Dari", "Pashto", "Pushto"], ["prs", "ps"], []),
    (["Azərbaycan dili", "azərbaycanca", "Azeri"], ["az"], []),
    (["русский", "Русский язык", "фарси", "арабский"], ["ru", "fa", "ar"], []),
    (["rus dili", "fars", "ərəb dili", "ingilis dili"], ["ru", "fa", "ar", "en"], []),
    (["az", "RU", "fa", "prs"], ["az", "ru", "fa", "prs"], []),
    (["Arabic, Kurdish"], ["ar", "ku"], []),
    (["Russian/Azerbaijani", "Arabic and Kurdish"], ["ru", "az", "ar", "ku"], []),
    (["Persian (Farsi)", "Kurdish (Sorani)", "Persian (Iran)"], ["fa", "ckb"], []),
    (["Talysh", "Lezgian", "Georgian"], ["tly", "lez", "ka"], []),
    (["Klingon"], [], ["Klingon"]),
    (["Russian", "Klingon", "klingon "], ["ru"], ["Klingon", "klingon"]),
    (["Russian and Klingon"], ["ru"], ["Russian and Klingon"]),
    (["sign language"], [], ["sign language"]),
    (["", "  ", None], [], []),
    ([], [], []),
    (None, [], []),
])
def test_free_text_is_matched_to_codes_and_the_rest_kept_as_typed(typed, codes, unmatched):
    assert migration.map_languages(typed) == (codes, unmatched)


def test_every_code_the_migration_gives_is_on_the_apps_list():
    """The migration keeps its own copy of the list (migrations import nothing of the app's);
    it must never give a code the app would refuse."""
    assert set(migration.CODES) <= languages.KNOWN
    assert set(migration.names_to_codes().values()) <= languages.KNOWN


def test_every_language_on_the_list_is_matched_by_its_english_russian_and_azerbaijani_names():
    from babel import Locale

    for locale in ("en", "ru", "az"):
        names = Locale.parse(locale).languages
        for code in migration.CODES:
            name = names.get(migration.CLDR_KEY.get(code, code))
            if name:
                assert migration.map_languages([name]) == ([code], []), (locale, name)


def test_the_downgrade_writes_codes_back_as_english_names_then_the_unmatched_text():
    assert migration.english_names(["fa", "prs", "tly", "az"], ["Klingon"]) == [
        "Persian", "Dari", "Talysh", "Azerbaijani", "Klingon"]


# --- end to end ------------------------------------------------------------------------------

def _table(name, *columns):
    return sa.table(name, sa.column("id", sa.Integer()), *columns)


def _fill_as_typed(connection) -> None:
    """One of everything a child and a shelter need, as the schema before the migration has it."""
    at = datetime(2026, 3, 1, 12, 0)
    connection.execute(_table("region", sa.column("code"), sa.column("name")).insert(),
                       [{"id": 1, "code": "BAK", "name": "Baku"}])
    connection.execute(_table("organization", sa.column("name"), sa.column("kind"), sa.column("region_id"),
                              sa.column("active")).insert(),
                       [{"id": 1, "name": "State Migration Service", "kind": "state", "region_id": 1, "active": True}])
    connection.execute(_table("user", sa.column("email"), sa.column("name"), sa.column("role"),
                              sa.column("organization_id"), sa.column("password_hash"), sa.column("locale"),
                              sa.column("active"), sa.column("failed_logins"), sa.column("created_at")).insert(),
                       [{"id": 1, "email": "cw@example.org", "name": "Caseworker", "role": "caseworker",
                         "organization_id": 1, "password_hash": "x", "locale": "en", "active": True,
                         "failed_logins": 0, "created_at": at}])
    shelters = [["Azerbaijani", "Russian", "Persian"], ["azərbaycan dili", "Talysh", "Lezgi-ish"], []]
    connection.execute(
        _table("shelter", sa.column("organization_id"), sa.column("region_id"), sa.column("name"),
               sa.column("address"), sa.column("phone"), sa.column("status"), sa.column("languages", sa.JSON()),
               sa.column("services", sa.JSON()), sa.column("accessibility")).insert(),
        [{"id": i + 1, "organization_id": 1, "region_id": 1, "name": f"Shelter {i}", "address": "", "phone": "",
          "status": "open", "languages": spoken, "services": [], "accessibility": ""}
         for i, spoken in enumerate(shelters)])
    children = [["Farsi", "Dari"], ["русский", "Arabic, Kurdish"], ["Hazaragi", "fa"]]
    connection.execute(
        _table("child", sa.column("organization_id"), sa.column("registered_by_id"), sa.column("given_name"),
               sa.column("family_name"), sa.column("name_key"), sa.column("sex"), sa.column("estimated_age"),
               sa.column("nationality"), sa.column("languages", sa.JSON()), sa.column("needs", sa.JSON()),
               sa.column("region_id"), sa.column("consent_given_by"), sa.column("child_assent"),
               sa.column("created_at")).insert(),
        [{"id": i + 1, "organization_id": 1, "registered_by_id": 1, "given_name": "Child", "family_name": str(i),
          "name_key": f"child {i}", "sex": "male", "estimated_age": 14, "nationality": "", "languages": spoken,
          "needs": [], "region_id": 1, "consent_given_by": "", "child_assent": False, "created_at": at}
         for i, spoken in enumerate(children)])


def _languages_of(table: str) -> list[tuple]:
    columns = sa.inspect(db.engine).get_columns(table)
    names = ["languages"] + (["languages_unmapped"] if any(c["name"] == "languages_unmapped" for c in columns) else [])
    rows = _table(table, *(sa.column(name, sa.JSON()) for name in names))
    with db.engine.connect() as connection:
        return [tuple(row[1:]) for row in connection.execute(
            sa.select(rows.c.id, *(rows.c[name] for name in names)).order_by(rows.c.id))]


def test_upgrading_turns_what_people_typed_into_codes_and_keeps_the_rest_and_downgrading_undoes_it(database):
    upgrade(revision=BEFORE)
    with db.engine.begin() as connection:
        _fill_as_typed(connection)

    upgrade(revision=REVISION)

    assert _languages_of("shelter") == [(["az", "ru", "fa"], []), (["az", "tly"], ["Lezgi-ish"]), ([], [])]
    assert _languages_of("child") == [(["fa", "prs"], []), (["ru", "ar", "ku"], []), (["fa"], ["Hazaragi"])]

    downgrade(revision=BEFORE)

    assert _languages_of("shelter") == [(["Azerbaijani", "Russian", "Persian"],),
                                        (["Azerbaijani", "Talysh", "Lezgi-ish"],), ([],)]
    assert _languages_of("child") == [(["Persian", "Dari"],), (["Russian", "Arabic", "Kurdish"],),
                                      (["Persian", "Hazaragi"],)]
