"""Names folded across scripts and spellings, so that one child registered three times is
recognised as one child: by the State Migration Service in Azerbaijani Latin
("Şəbnəm Ağaoğlu-Mırzəyeva"), by an NGO in ASCII ("Shabnam Agaoglu-Mirzayeva") and by a
police report in Cyrillic ("Шабнам Агаоглу-Мырзаева").

The folded form is a key for comparing, never for showing: lower-case ASCII letters,
digits and single spaces. Two spellings of one name should fold alike; two different names
may occasionally fold alike too ("Emin" and "Amin"), which costs a caseworker one tick of
"this is a different child", while a missed duplicate costs a child a second record.

No Flask here, and nothing else of the app: the migration that recomputes the stored keys
imports this module. Changing the folding (or upgrading anyascii, whose tables it uses for
scripts other than Azerbaijani and Russian) changes the keys of children already stored:
ship a migration that recomputes them, as d2f3a4b5c6e7 does.
"""
import re
import unicodedata

from anyascii import anyascii

# Child.name_key is a String(401); the folded form of a 200-character name in a script that
# transliterates long (Chinese, emoji-free but syllabic) could exceed it. The first 401
# characters tell any two real names apart.
MAX_KEY_LENGTH = 401

# Letters whose general transliteration hides what we need: Russian ё is "yo" (it writes
# Azerbaijani ö, as in Гёзель), Azerbaijani Cyrillic ј is the glide y, and dotless ı an i.
_BEFORE_TRANSLITERATION = str.maketrans({"ё": "yo", "ј": "y", "ı": "i"})
# Marks that sit inside a word (O'Neil, Mar'yam, Azerbaijani ʼ) join it rather than split it.
_APOSTROPHES = frozenset("'`´‘’ʹʻʼ")

# How each spelling of a sound is written in the key, longest spelling first. One letter per
# sound that the alphabets write differently:
#   s  ş ш sh (and щ, "shch"): a keyboard without Azerbaijani letters drops the cedilla,
#      so "Sebnem" is Şəbnəm as often as "Shabnam" is;
#   j  c ç ч ch ж zh дж dzh dj j: Azerbaijani c is English j (Cəmil, Jamil, Джамиль), and ç
#      loses its cedilla as ş does;
#   x  x х kh, and h inside a word (Əhməd, Ахмед, Ahmad);
#   g  g ğ gh q г, and h opening a word (Həsənov, Гасанов, Hasanov);
#   a  a ə e э ä (Məmmədova, Mammadova, Мамедова);
#   i  i ı y ы й и; an i before another vowel is a glide and is dropped, which folds
#      Russian я ю е ё after a consonant or vowel (Ляман, Гюльнара, Мырзаева) onto the
#      plain vowel (Ləman, Gülnarə, Mırzəyeva);
#   v  v w.
# o (o ö) and u (u ü) lose their dots through the transliteration. Russian ц stays "ts".
_SPELLINGS = {
    "dzh": "j", "dj": "j", "zh": "j", "sh": "s", "ch": "j", "kh": "x", "gh": "g",
    "c": "j", "q": "g", "w": "v", "y": "i", "e": "a",
}
_SPELLING = re.compile("|".join(sorted(_SPELLINGS, key=len, reverse=True)) + "|h")
_GLIDE = re.compile(r"i(?=[aiou])")
_DOUBLED = re.compile(r"([a-z])\1+")  # letters only: "Number 11" is not "Number 1"
_NOT_A_WORD = re.compile(r"[^a-z0-9]+")


def _transliterated(text: str) -> str:
    """Lower-case ASCII, every dotted and dotless i alike; anything that is neither letter
    nor digit separates words."""
    text = unicodedata.normalize("NFD", text.casefold()).replace("\u0307", "")  # İ → i̇ → i
    text = unicodedata.normalize("NFC", text).translate(_BEFORE_TRANSLITERATION)
    kept = "".join("" if ch in _APOSTROPHES else ch if unicodedata.category(ch)[0] in "LMN" else " "
                   for ch in text)
    return anyascii(kept).lower().replace("'", "")


def _sound(match: re.Match) -> str:
    spelling = match.group()
    if spelling == "h":
        return "g" if match.start() == 0 else "x"
    return _SPELLINGS[spelling]


def _folded_word(word: str) -> str:
    word = _SPELLING.sub(_sound, word)
    word = _GLIDE.sub("", word)
    return _DOUBLED.sub(r"\1", word)


def fold(text: str) -> str:
    """Any text (a name, or what someone searches for) as it is compared: each word folded
    to one spelling whatever the script, words separated by single spaces."""
    words = _NOT_A_WORD.split(_transliterated(text or ""))
    return " ".join(filter(None, (_folded_word(word) for word in words)))


def name_key(given: str, family: str) -> str:
    """The key stored with a child and compared for likely duplicates: the given and family
    names folded (see `fold`), at most MAX_KEY_LENGTH characters."""
    return fold(f"{given or ''} {family or ''}")[:MAX_KEY_LENGTH].rstrip()
