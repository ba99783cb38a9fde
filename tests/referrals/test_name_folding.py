"""One child, whatever the script: names folded across Azerbaijani Latin, Russian Cyrillic and
ASCII spellings meet; different names stay apart. Then the likely-duplicate check that uses
the folding: names either way round, ages that agree, only the organization's own children;
and the migration that refolds the keys already stored."""
import importlib.util
from datetime import date
from pathlib import Path

import pytest
from alembic.migration import MigrationContext
from alembic.operations import Operations
from sqlalchemy import select

from coordination import clock
from coordination.extensions import db
from coordination.referrals import services
from coordination.referrals.models import Child
from coordination.referrals.names import MAX_KEY_LENGTH, fold, name_key

from .pages import NOW

# Each row: spellings of one name that agencies really write, Azerbaijani Latin first.
SAME = {
    "the issue's child": ["Şəbnəm Ağaoğlu-Mırzəyeva", "Shabnam Agaoglu-Mirzayeva", "Шабнам Агаоглу-Мырзаева",
                          "SHABNAM AGAOGLU MIRZAYEVA", "Sebnem Agaoglu-Mirzeyeva", "Shabnam Agaoglu-Mirzaeva",
                          "şəbnəm  ağaoğlu - mırzəyeva"],
    "ə as a or e": ["Məmmədova", "Mammadova", "Мамедова", "Memmedova", "MƏMMƏDOVA"],
    "x as kh, c as j": ["Xədicə", "Khadija", "Хадиджа", "Хадижа", "Xadica"],
    "c as j and дж": ["Cəmil", "Jamil", "Джамиль", "Camil"],
    "ç as ch and ч": ["Çingiz", "Chingiz", "Чингиз", "Cingiz"],
    "ş as sh and ш": ["Rəşad", "Rashad", "Рашад", "Rasad"],
    "h opening a word as г": ["Həsənov", "Hasanov", "Гасанов"],
    "h inside a word as х": ["Əhməd", "Ahmad", "Ахмед", "Ahmed"],
    "ü as ю after a consonant": ["Gülnarə", "Gulnara", "Гюльнара", "Gyulnara"],
    "ə as я after a consonant": ["Ləman", "Laman", "Ляман", "Liaman"],
    "ö as ё": ["Gözəl", "Gozal", "Гёзель", "Gyozel"],
    "ı as ы, q as г": ["Qasımov", "Qasimov", "Gasimov", "Гасымов"],
    "y and е after a vowel": ["Əliyev", "Aliyev", "Алиев", "Aliev"],
    "ey and ей": ["Hüseyn", "Huseyn", "Гусейн", "Huseyin"],
    "ay and ай": ["Aysel", "Aisel", "Айсель"],
    "yy, ь and я": ["Ülviyyə", "Ulviyya", "Ульвия"],
    "y opening a word as ю": ["Yusif", "Юсиф", "Iusif"],
    "ğ as gh or g": ["Ağa", "Agha", "Aga", "Ага"],
    "j as ж and zh": ["Jalə", "Jala", "Жаля", "Zhala"],
    "dotted and dotless i in capitals": ["İlham Işıqlı", "ILHAM ISIQLI", "ilham ışıqlı", "Ильхам Ышыглы"],
    "kh for a medial h": ["İlham", "Ilkham", "Ильхам"],
    "щ as shch": ["Щербакова", "Shcherbakova"],
}

DIFFERENT = {
    "another family name": ("Aysel Mammadova", "Aysel Məmmədli"),
    "a girl's and a boy's name": ("Elvina", "Elvin"),
    "Aliyeva is not Aliyev": ("Nigar Aliyeva", "Nigar Aliyev"),
    "Həsənova is not Hüseynova": ("Leyla Həsənova", "Leyla Hüseynova"),
    "numbers are not letters doubled": ("Child Number 1", "Child Number 11"),
    "Elmira is not Elmir": ("Elmira", "Elmir"),
    "Nərgiz is not Nərmin": ("Nərgiz", "Nərmin"),
    "Kamal is not Camal": ("Kamal", "Camal"),
}


@pytest.mark.parametrize("spellings", SAME.values(), ids=SAME.keys())
def test_spellings_of_one_name_in_any_script_fold_alike(spellings):
    folded = {spelling: fold(spelling) for spelling in spellings}

    assert len(set(folded.values())) == 1, folded
    assert folded[spellings[0]]


@pytest.mark.parametrize("one, other", DIFFERENT.values(), ids=DIFFERENT.keys())
def test_different_names_stay_apart(one, other):
    assert fold(one) != fold(other)


def test_the_folded_form_is_lower_case_ascii_words():
    for name in [*(s for row in SAME.values() for s in row), "مريم الحسن", "王秀英", "Zoë O'Neil", "👧🏽 Leyla"]:
        assert fold(name) == " ".join(fold(name).split())
        assert all(ch.isascii() and (ch.islower() or ch.isdigit() or ch == " ") for ch in fold(name)), name


def test_an_apostrophe_joins_a_word_and_a_hyphen_parts_it():
    assert fold("Mar'yam") == fold("Maryam") == fold("Марьям")
    assert fold("Ağaoğlu-Mırzəyeva") == fold("Ağaoğlu Mırzəyeva")


def test_a_name_of_no_letters_folds_to_nothing():
    assert fold("") == fold("  -- ! ") == fold("👧🏽🛏️") == ""
    assert name_key("", "") == ""


def test_the_key_never_exceeds_the_column():
    long_names = ["王" * 200, "ə" * 200, "Щ" * 200]
    for given in long_names:
        for family in long_names:
            assert len(name_key(given, family)) <= MAX_KEY_LENGTH


# --- likely duplicates -----------------------------------------------------------------------

@pytest.fixture
def caseworker(app, make):
    clock.freeze(NOW)
    yield make.user("caseworker")
    clock.freeze(None)


def registered(make, caseworker, given, family, birth_date=date(2012, 5, 1), estimated_age=None):
    return make.child(registered_by=caseworker, given_name=given, family_name=family,
                      birth_date=birth_date, estimated_age=estimated_age)


def duplicates_of(caseworker, given, family, birth_date=date(2012, 5, 1), estimated_age=None) -> list:
    return services.likely_duplicates(caseworker.organization_id, given, family, birth_date, estimated_age)


@pytest.mark.parametrize("given, family", [("Shabnam", "Agaoglu-Mirzayeva"), ("Шабнам", "Агаоглу-Мырзаева"),
                                           ("SEBNEM", "AGAOGLU MIRZEYEVA")], ids=["ascii", "cyrillic", "stripped"])
def test_the_same_child_written_in_another_script_is_a_likely_duplicate(make, caseworker, given, family):
    existing = registered(make, caseworker, "Şəbnəm", "Ağaoğlu-Mırzəyeva")

    assert duplicates_of(caseworker, given, family) == [existing]


def test_given_and_family_name_the_other_way_round_are_a_likely_duplicate(make, caseworker):
    existing = registered(make, caseworker, "Şəbnəm", "Ağaoğlu-Mırzəyeva")

    assert duplicates_of(caseworker, "Агаоглу-Мырзаева", "Шабнам") == [existing]


def test_another_family_name_is_not_a_likely_duplicate(make, caseworker):
    registered(make, caseworker, "Aysel", "Mammadova")

    assert duplicates_of(caseworker, "Aysel", "Məmmədli") == []
    assert duplicates_of(caseworker, "Aysel", "Məmmədova") != []


def test_the_same_names_in_another_organization_are_never_compared(make, caseworker):
    make.child(given_name="Şəbnəm", family_name="Ağaoğlu-Mırzəyeva", birth_date=date(2012, 5, 1),
               estimated_age=None)

    assert duplicates_of(caseworker, "Shabnam", "Agaoglu-Mirzayeva") == []


def test_a_name_of_no_letters_matches_no_anonymized_child(make, caseworker):
    child = registered(make, caseworker, "Leyla", "Həsənova")
    child.given_name = child.family_name = child.name_key = ""  # as `flask anonymize` leaves it
    db.session.commit()

    assert duplicates_of(caseworker, "—", "") == []


AGES = {
    # (stored birth date, stored estimated age), (typed birth date, typed estimated age), alike?
    "the same birth date": ((date(2012, 5, 1), None), (date(2012, 5, 1), None), True),
    "day and month swapped": ((date(2012, 5, 1), None), (date(2012, 1, 5), None), True),
    "dates a year apart to the day": ((date(2012, 5, 1), None), (date(2013, 5, 1), None), True),
    "dates more than a year apart": ((date(2012, 5, 1), None), (date(2013, 5, 2), None), False),
    "dates two years apart": ((date(2012, 5, 1), None), (date(2010, 5, 1), None), False),
    "an estimate giving the same year": ((None, 14), (date(2012, 1, 15), None), True),
    "an estimate one year off": ((None, 14), (date(2011, 12, 31), None), True),
    "an estimate two years off": ((None, 14), (date(2010, 6, 1), None), False),
    "two estimates a year apart": ((None, 14), (None, 15), True),
    "two estimates two years apart": ((None, 14), (None, 16), False),
    "a date and an estimate": ((date(2012, 5, 1), None), (None, 13), True),
}


@pytest.mark.parametrize("stored, typed, alike", AGES.values(), ids=AGES.keys())
def test_same_names_are_a_likely_duplicate_when_the_ages_agree(make, caseworker, stored, typed, alike):
    existing = registered(make, caseworker, "Şəbnəm", "Ağaoğlu-Mırzəyeva", *stored)

    found = duplicates_of(caseworker, "Shabnam", "Agaoglu-Mirzayeva", *typed)

    assert found == ([existing] if alike else [])


# --- keys stored before the folding (migration d2f3a4b5c6e7) ----------------------------------

MIGRATION = Path(__file__).parents[2] / "coordination/migrations/versions/d2f3a4b5c6e7_names_folded_across_scripts.py"


def run_migration(step: str, batch: int) -> None:
    """Run the revision's upgrade or downgrade against the test database, as Alembic would."""
    spec = importlib.util.spec_from_file_location("names_folded_across_scripts", MIGRATION)
    revision = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(revision)
    revision.BATCH = batch
    db.session.commit()
    with db.engine.begin() as connection, Operations.context(MigrationContext.configure(connection)):
        getattr(revision, step)()
    db.session.expire_all()


def stored_keys() -> dict[int, str]:
    return dict(db.session.execute(select(Child.id, Child.name_key)).all())


def test_the_migration_refolds_every_stored_key_and_the_downgrade_restores_the_old_ones(make, caseworker):
    names = [("Şəbnəm", "Ağaoğlu-Mırzəyeva"), ("Шабнам", "Агаоглу-Мырзаева"), ("İlham", "Işıqlı"),
             ("Aysel", "Məmmədli"), ("Child", ""), ("", "")]
    children = [registered(make, caseworker, given or "Someone", family) for given, family in names]
    for child, (given, _family) in zip(children, names):
        child.given_name = given  # as an anonymized record: no name (registering needs one)
    # As the previous revision stored them: case-folded, dotted and dotless i alike, no more.
    old = {"Şəbnəm Ağaoğlu-Mırzəyeva": "şəbnəm ağaoğlu-mırzəyeva".replace("ı", "i"),
           "Шабнам Агаоглу-Мырзаева": "шабнам агаоглу-мырзаева", "İlham Işıqlı": "ilham işiqli",
           "Aysel Məmmədli": "aysel məmmədli", "Child": "child", "": ""}
    for child in children:
        child.name_key = old[child.full_name]
    db.session.commit()

    run_migration("upgrade", batch=2)

    assert stored_keys() == {c.id: name_key(c.given_name, c.family_name) for c in children}
    assert stored_keys()[children[0].id] == stored_keys()[children[1].id] == "sabnam agaoglu mirzava"

    run_migration("downgrade", batch=4)

    assert stored_keys() == {c.id: old[c.full_name] for c in children}
