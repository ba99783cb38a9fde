"""What makes a password acceptable here."""
import gzip
from functools import lru_cache
from pathlib import Path

from flask_babel import gettext as _

MIN_LENGTH = 12
MAX_LENGTH = 1024

# 20,000 common passwords, as shipped with Django (django/contrib/auth/common-passwords.txt.gz,
# BSD licence; compiled by Royce Williams).
COMMON_PASSWORDS_FILE = Path(__file__).with_name("common-passwords.txt.gz")


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
