"""The languages a child or a shelter's staff can speak: one list of ISO 639 codes, named in
the reader's language from Babel's locale data (CLDR), and found by any name people use.

Codes are ISO 639-1 where one exists, else ISO 639-3. The list is curated: the languages
children crossing into Azerbaijan are likely to speak (Azerbaijan's neighbours, Iran,
Afghanistan, Central and South Asia, the Middle East, Africa, the languages of Azerbaijan's
own minorities) and the major world languages. A code is stored, never a name,
so that "Farsi", "Persian" and "персидский" are one language when beds are matched.
"""
import functools
import unicodedata

from babel import Locale, UnknownLocaleError
from flask_babel import get_locale, gettext as _, lazy_gettext as _l

from .errors import InvalidInput

LANGUAGE_CODES: tuple[str, ...] = (
    # Azerbaijan, its neighbours and its minorities
    "az", "ru", "tr", "fa", "ka", "hy", "tly", "lez", "av", "ce", "tt",
    # Afghanistan, Central Asia and the former Soviet Union
    "prs", "ps", "uz", "tg", "tk", "kk", "ky", "uk", "be", "mn", "ug",
    # the Middle East
    "ar", "ku", "ckb", "he",
    # South Asia
    "ur", "hi", "bn", "pa", "sd", "bal", "ne", "si", "ta",
    # Africa
    "so", "ti", "am", "om", "sw", "ha", "yo", "ig", "ln",
    # East and South-East Asia
    "zh", "ja", "ko", "vi", "th", "id", "ms",
    # Europe and the major world languages
    "en", "fr", "de", "es", "pt", "it", "pl", "ro", "bg", "sr", "hr", "bs", "sq", "el", "hu", "cs", "nl",
)
KNOWN = frozenset(LANGUAGE_CODES)

# Where CLDR names a language under another key (Dari is Persian as spoken in Afghanistan).
_CLDR_KEY = {"prs": "fa_AF"}

# Names for the few codes some of our locales have no name for; translators give theirs.
_OWN_NAMES = {"tly": _l("Talysh")}

# Other names people use, for finding a language (CLDR gives one name per locale).
ALIASES: dict[str, tuple[str, ...]] = {
    "az": ("Azeri", "Azərbaycan dili", "Azərbaycanca", "азербайджанский", "азери"),
    "fa": ("Farsi", "Iranian", "фарси"),
    "prs": ("Dari", "Afghan Persian", "дари"),
    "ps": ("Pushto", "Pashtu", "Afghani"),
    "ku": ("Kurmanji", "Kurmancî", "курманджи"),
    "ckb": ("Sorani", "сорани"),
    "bn": ("Bengali",),
    "pa": ("Panjabi",),
    "ky": ("Kirghiz",),
    "tg": ("Tajiki", "Tadjik"),
    "ug": ("Uighur",),
    "si": ("Sinhalese",),
    "av": ("Avar", "Avaric"),
    "lez": ("Lezgi", "Lezgin", "Lezgian"),
    "tly": ("Talyshi",),
    "zh": ("Mandarin",),
    "ms": ("Malaysian",),
    "id": ("Bahasa Indonesia",),
    "ro": ("Moldovan", "Moldavian"),
    "om": ("Afaan Oromo",),
    "sw": ("Kiswahili",),
    "he": ("Ivrit",),
}


def fold(text: str) -> str:
    """Text as compared when searching and sorting: case, accents and the Azerbaijani ə and ı
    set aside, so "azerbaycan" finds "azərbaycan" and "Çin" sorts with "C"."""
    text = unicodedata.normalize("NFKD", text.casefold().replace("ə", "e").replace("ı", "i"))
    return "".join(c for c in text if not unicodedata.combining(c)).strip()


def _locale_code() -> str:
    return str(get_locale() or "en")


@functools.lru_cache(maxsize=16)
def _cldr_names(locale: str) -> dict[str, str]:
    """The names CLDR gives our languages in `locale` (only those it has)."""
    try:
        names = Locale.parse(locale).languages
    except (ValueError, UnknownLocaleError):
        return {}
    return {code: names[_CLDR_KEY.get(code, code)] for code in LANGUAGE_CODES
            if _CLDR_KEY.get(code, code) in names}


@functools.lru_cache(maxsize=1)
def _autonyms() -> dict[str, str]:
    """Each language's name for itself, where CLDR knows it: "فارسی", "русский"."""
    found = {}
    for code in LANGUAGE_CODES:
        key = _CLDR_KEY.get(code, code)
        try:
            name = Locale.parse(key).languages.get(key)
        except (ValueError, UnknownLocaleError):
            continue
        if name:
            found[code] = name
    return found


def language_name(code: str, locale: str | None = None) -> str:
    """The language's name in the reader's language, as written mid-sentence ("персидский"),
    else our own translated name, else the English name, else the code itself."""
    locale = locale or _locale_code()
    name = _cldr_names(locale).get(code)
    if name is None and code in _OWN_NAMES:
        name = str(_OWN_NAMES[code])
    return name or _cldr_names("en").get(code) or code


def language_label(code: str, locale: str | None = None) -> str:
    """The name as it starts a line of a list ("Персидский", "Fars", "İngilis")."""
    locale = locale or _locale_code()
    name = language_name(code, locale)
    first = "İ" if name[:1] == "i" and locale.split("_")[0] in ("az", "tr") else name[:1].upper()
    return first + name[1:]


def language_names(codes) -> list[str]:
    """The names of these languages, in their order (for "speaks Persian, Russian")."""
    return [language_name(code) for code in codes]


def sorted_by_name(codes) -> list[str]:
    """These codes in the alphabetical order of their names in the reader's language."""
    locale = _locale_code()
    return sorted(codes, key=lambda code: (fold(language_name(code, locale)), code))


def choices() -> list[tuple[str, str]]:
    """Every language on the list as (code, label), alphabetical in the reader's language."""
    return [(code, language_label(code)) for code in sorted_by_name(LANGUAGE_CODES)]


# The app's own languages: a language is found by its name in any of them, whichever one
# the reader uses (a caseworker reading English may still type "персидский").
SEARCHED_LOCALES = ("az", "ru", "en")


@functools.lru_cache(maxsize=None)
def _search_names(code: str) -> tuple[str, ...]:
    names = [code, _autonyms().get(code, ""), *ALIASES.get(code, ())]
    names += [_cldr_names(locale).get(code, "") for locale in SEARCHED_LOCALES]
    return tuple(fold(name) for name in names if name)


def matches(code: str, text: str) -> bool:
    """Whether a person searching for `text` means this language: it is part of its name in
    the reader's language or any of the app's, in the language itself, of another name it
    goes by ("Farsi"), or its code."""
    wanted = fold(text)
    if not wanted:
        return True
    return wanted in fold(language_name(code)) or any(wanted in name for name in _search_names(code))


def listed(codes) -> str:
    """The languages for reading as a list: "Persian, Russian", "Персидский, русский"."""
    codes = list(codes or [])
    names = language_names(codes)
    if names:
        names[0] = language_label(codes[0])
    return ", ".join(names)


def unknown(codes) -> list[str]:
    """The values that are not codes on our list."""
    return [code for code in codes if code not in KNOWN]


def distinct(codes) -> list[str]:
    """Each code once, in the order first given."""
    return list(dict.fromkeys(codes))


def chosen(codes) -> list[str]:
    """Languages as a record stores them: codes on our list, each once. Anything else is
    refused, whatever sent it."""
    codes = distinct(codes or [])
    if unknown(codes):
        raise InvalidInput(_("Choose the languages from the list offered."), field="languages")
    return codes
