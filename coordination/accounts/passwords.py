"""What makes a password acceptable here."""
import gzip
import re
import threading
from collections.abc import Iterable
from functools import lru_cache
from pathlib import Path

from flask import current_app
from flask_babel import gettext as _, lazy_gettext as _l
from werkzeug.security import check_password_hash, generate_password_hash
from zxcvbn import zxcvbn

MIN_LENGTH = 12
MAX_LENGTH = 1024
# zxcvbn's scale runs from 0 (guessed at once) to 4; see password_problems for why 3.
MIN_SCORE = 3
# zxcvbn refuses longer input; characters past these only make a password harder to guess.
ESTIMATED_LENGTH = 72

# The words of this app, which anyone guessing a password here tries first: its name and
# subject in the three languages it speaks, and the demo accounts' published password
# (coordination/demo.py). The region names come from the database (accounts.services).
APP_WORDS = (
    "coordination", "coordination-demo", "demo", "shelter", "shelters", "referral", "referrals",
    "child", "children", "caseworker", "guardianship", "custody", "ombudsman", "azerbaijan",
    "koordinasiya", "sığınacaq", "göndəriş", "uşaq", "uşaqlar", "qəyyumluq", "himayə", "azərbaycan",
    "координация", "приют", "убежище", "направление", "ребёнок", "ребенок", "дети", "опека",
    "азербайджан",
)

# zxcvbn explains itself in English only, with fixed sentences: the ones people meet most,
# in our words, so they reach every user in their own language.
ZXCVBN_WARNINGS = {
    'Repeats like "aaa" are easy to guess.': _l('Repeated characters, such as "aaa", are easy to guess.'),
    'Repeats like "abcabcabc" are only slightly harder to guess than "abc".':
        _l('A word or pattern said twice, such as "abcabc", is hardly harder to guess than once.'),
    'Sequences like "abc" or "6543" are easy to guess.': _l('Sequences, such as "abc" or "6543", are easy to guess.'),
    "Straight rows of keys are easy to guess.": _l("Rows of keys on the keyboard are easy to guess."),
    "Short keyboard patterns are easy to guess.": _l("Rows of keys on the keyboard are easy to guess."),
    "Recent years are easy to guess.": _l("Years and dates are easy to guess."),
    "Dates are often easy to guess.": _l("Years and dates are easy to guess."),
    "This is a top-10 common password.": _l("It is very close to a commonly used password."),
    "This is a top-100 common password.": _l("It is very close to a commonly used password."),
    "This is a very common password.": _l("It is very close to a commonly used password."),
    "This is similar to a commonly used password.": _l("It is very close to a commonly used password."),
    "A word by itself is easy to guess.": _l("A single word is easy to guess."),
    "Names and surnames by themselves are easy to guess.": _l("Names and surnames are easy to guess."),
    "Common names and surnames are easy to guess.": _l("Names and surnames are easy to guess."),
}

# One estimate at a time: zxcvbn keeps the words it is given in a module-wide dictionary,
# so two estimates at once in one process would each see the other's.
_zxcvbn_lock = threading.Lock()

# 20,000 common passwords, as shipped with Django (django/contrib/auth/common-passwords.txt.gz,
# BSD licence; compiled by Royce Williams).
COMMON_PASSWORDS_FILE = Path(__file__).with_name("common-passwords.txt.gz")


def hash_password(password: str) -> str:
    """A salted hash of the password, by PASSWORD_HASH_METHOD (scrypt: slow on purpose, so a
    stolen table of hashes is costly to guess from). The method is stored in the hash, so a
    password keeps verifying whatever the setting is later."""
    return generate_password_hash(password, method=current_app.config["PASSWORD_HASH_METHOD"])


def password_matches(password_hash: str, password: str) -> bool:
    return check_password_hash(password_hash, password)


@lru_cache(maxsize=4)
def _dummy_hash(method: str) -> str:
    return generate_password_hash("not-a-real-password", method=method)


def spend_as_long_as_a_check(password: str) -> None:
    """Check against a hash of nobody's, so a sign-in with an unknown email costs as long as
    one with a wrong password and the timing does not tell which one it was."""
    check_password_hash(_dummy_hash(current_app.config["PASSWORD_HASH_METHOD"]), password)


@lru_cache(maxsize=1)
def common_passwords() -> frozenset[str]:
    with gzip.open(COMMON_PASSWORDS_FILE, "rt", encoding="utf-8") as lines:
        return frozenset(line.strip().casefold() for line in lines if line.strip())


def own_words(*texts: str) -> list[str]:
    """A person's own words for zxcvbn: each text whole (a name, an email address, an
    organization's name) and each of its words (the email's local part, 'leyla', 'huseynova')."""
    words = []
    for text in texts:
        text = (text or "").strip().casefold()
        if not text:
            continue
        words.append(text)
        if "@" in text:
            words.append(text.split("@")[0])
        words += [word for word in re.split(r"[\W_]+", text) if len(word) >= 3]
    return list(dict.fromkeys(words))


def _estimate(password: str, words: list[str]) -> dict:
    with _zxcvbn_lock:
        return zxcvbn(password[:ESTIMATED_LENGTH], user_inputs=words)


def _easy_to_guess(password: str, words: list[str]) -> list[str]:
    """Why zxcvbn guesses this password too soon, in the user's language; empty when it does not."""
    estimate = _estimate(password, words)
    if estimate["score"] >= MIN_SCORE:
        # Still refused when it is only the person's own words put together: what is left
        # without them must be hard to guess on its own ('Leyla Huseynova 2026' is not).
        folded = password.casefold()
        rest = folded
        for word in sorted(words, key=len, reverse=True):
            if len(word) >= 3:
                rest = rest.replace(word, " ")
        if rest == folded or _estimate(rest, []).get("score", 0) >= MIN_SCORE:
            return []
        return [_("This password is made of your name, email address or organization, or of this "
                  "app's words; add words nobody could guess from them.")]
    problems = [_("This password would be easy to guess. Use a longer one, for example four or five "
                  "words that do not belong together, and not your name, email address or organization.")]
    if any(match.get("dictionary_name") == "user_inputs" for match in estimate["sequence"]):
        problems.append(_("It contains your name, email address or organization, or a word of this app."))
    warning = ZXCVBN_WARNINGS.get(estimate["feedback"]["warning"])
    if warning is not None:
        problems.append(str(warning))
    return problems


def password_problems(password: str, email: str = "", own: Iterable[str] = ()) -> list[str]:
    """Why this password will not do, in the user's words; empty when it is fine.

    At least 12 characters, not one of the 20,000 most common passwords, not the email
    address; and hard to guess: zxcvbn, which tries what guessers try (words, names, keyboard
    rows, repeats, dates, and here the person's own name, email and organization and this
    app's words, `own`), must score it at least 3 of 4. A 3 means about 10^8 guesses or more:
    far beyond what anyone can try at the sign-in page (five wrong passwords pause
    that address, for longer after each further one), and, against a stolen table of scrypt hashes, years of work per password. A 4
    would refuse many passphrases people can remember, and a password that is written down
    because it cannot be remembered helps nobody. zxcvbn's own feedback is English only:
    the refusal is ours, in the user's language."""
    problems = []
    if len(password) < MIN_LENGTH:
        problems.append(_("Use at least %(n)s characters.", n=MIN_LENGTH))
    if len(password) > MAX_LENGTH:
        problems.append(_("Use at most %(n)s characters.", n=MAX_LENGTH))
    folded = password.strip().casefold()
    if folded in common_passwords():
        problems.append(_("This password is among the most common ones; choose another."))
    email = email.strip().casefold()
    if email and (folded == email or folded == email.split("@")[0]):
        problems.append(_("The password cannot be your email address."))
    if problems:
        return problems  # one clear reason is enough; no need to also call it easy to guess
    return _easy_to_guess(password, own_words(email, *own) + list(APP_WORDS))
