"""What makes a password acceptable here."""
import gzip
from functools import lru_cache
from pathlib import Path

from flask import current_app
from flask_babel import gettext as _
from werkzeug.security import check_password_hash, generate_password_hash

MIN_LENGTH = 12
MAX_LENGTH = 1024

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


def password_problems(password: str, email: str = "") -> list[str]:
    """Why this password will not do, in the user's words; empty when it is fine."""
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
    return problems
