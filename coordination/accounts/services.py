"""Signing in and out, passwords, two-factor sign-in, and making accounts."""
import secrets
from datetime import timedelta

import pyotp
from flask_babel import gettext as _
from sqlalchemy import func, select, update

from ..audit import services as audit
from ..clock import now
from ..errors import InvalidInput
from ..extensions import db
from ..i18n import LANGUAGES
from .emails import folded_email, normalized_email
from .models import ROLES, Organization, Region, RolePolicy, User
from .passwords import password_problems, spend_as_long_as_a_check

# Temporary passwords are read out over the phone: no letters that look like digits.
READABLE = "abcdefghjkmnpqrstuvwxyz23456789"
MAX_FAILED_LOGINS = 5
LOCK_MINUTES = 15


class LoginRefused(Exception):
    """One answer for every way a sign-in fails, so the page never tells which it was."""


def find_user_by_email(email: str) -> User | None:
    return db.session.scalar(select(User).where(User.email == folded_email(email)))


def authenticate(email: str, password: str) -> User:
    """The active, unlocked user with this email and password. Five wrong passwords in a
    row lock the account for 15 minutes; while locked, even the right password is refused,
    so guessing cannot go on. Every attempt is in the audit trail."""
    at = now()
    user = find_user_by_email(email)
    if user is None:
        spend_as_long_as_a_check(password)
        audit.record("login.failed", "user", "", {"email": folded_email(email)[:254], "why": "unknown email"})
        raise LoginRefused
    if user.locked_until is not None and user.locked_until > at:
        audit.record("login.failed", "user", user.id, {"why": "locked"})
        raise LoginRefused
    if not user.check_password(password):
        # Counted in the database, so attempts racing each other on several servers all count.
        db.session.execute(update(User).where(User.id == user.id)
                           .values(failed_logins=User.failed_logins + 1))
        db.session.refresh(user)
        failures = user.failed_logins
        audit.record("login.failed", "user", user.id, {"why": "wrong password", "failures": failures})
        if failures >= MAX_FAILED_LOGINS:
            user.failed_logins = 0
            user.locked_until = at + timedelta(minutes=LOCK_MINUTES)
            audit.record("user.locked", "user", user.id, {"minutes": LOCK_MINUTES})
        db.session.flush()
        raise LoginRefused
    if not user.is_active:
        audit.record("login.failed", "user", user.id, {"why": "deactivated"})
        raise LoginRefused
    return user


def record_login(user: User) -> None:
    """The sign-in is complete (password, and the second factor where needed)."""
    user.failed_logins = 0
    user.locked_until = None
    user.last_login_at = now()
    audit.record("login", "user", user.id)
    db.session.flush()


def record_logout(user: User) -> None:
    """Signing out ends the session for good: sessions live in signed cookies, so a copy of
    the cookie would otherwise still open the account. Bumping the session version makes
    every copy worthless (it signs the user out on their other devices too)."""
    user.session_version += 1
    audit.record("logout", "user", user.id)


def is_locked(user: User) -> bool:
    return user.locked_until is not None and user.locked_until > now()


# --- passwords -------------------------------------------------------------------------------

def check_new_password(password: str, email: str, *own: str) -> None:
    """Refuses a password that will not do (passwords.password_problems). `own`: the person's
    name and organization, which a guesser who knows them tries first, as are the names of
    the regions this app serves."""
    regions = db.session.execute(select(Region.name, Region.name_ru, Region.name_en)).all()
    problems = password_problems(password, email, [*own, *(name for names in regions for name in names)])
    if problems:
        raise InvalidInput(" ".join(problems))


def change_password(user: User, current: str, new: str) -> None:
    """The user's own change: needs the current password; ends every other session."""
    if not user.check_password(current):
        raise InvalidInput(_("The current password is not right."), field="current")
    if current == new:
        raise InvalidInput(_("Choose a password different from the current one."))
    check_new_password(new, user.email, user.name, user.organization.name)
    user.set_password(new)
    user.must_change_password = False
    user.session_version += 1
    audit.record("password.change", "user", user.id)
    db.session.flush()


def temporary_password() -> str:
    """A one-time password to read out: four groups of four unmistakable characters."""
    return "-".join("".join(secrets.choice(READABLE) for _ in range(4)) for _ in range(4))


def reset_password(user: User) -> str:
    """An admin's reset: a one-time password to pass on, to be changed at the next sign-in.
    Every session of the user ends at once."""
    temporary = temporary_password()
    user.set_password(temporary)
    user.must_change_password = True
    user.session_version += 1
    user.failed_logins = 0
    user.locked_until = None
    audit.record("password.reset", "user", user.id)
    db.session.flush()
    return temporary


# --- two-factor sign-in ----------------------------------------------------------------------

def totp_required(user: User) -> bool:
    policy = db.session.get(RolePolicy, user.role)
    return bool(policy and policy.require_totp)


def needs_second_factor(user: User) -> bool:
    return user.totp_secret is not None or totp_required(user)


def new_totp_secret() -> str:
    return pyotp.random_base32()


def totp_uri(user: User, secret: str) -> str:
    return pyotp.TOTP(secret).provisioning_uri(name=user.email, issuer_name="Shelter coordination")


def verify_totp(secret: str, code: str) -> bool:
    code = (code or "").replace(" ", "")
    return code.isdigit() and len(code) == 6 and pyotp.TOTP(secret).verify(code, for_time=now(), valid_window=1)


def enable_totp(user: User, secret: str, code: str) -> None:
    if not verify_totp(secret, code):
        raise InvalidInput(_("That code is not right; check the time on your phone and try again."))
    user.totp_secret = secret
    audit.record("totp.enable", "user", user.id)
    db.session.flush()


def disable_totp(user: User) -> None:
    if totp_required(user):
        raise InvalidInput(_("Two-factor sign-in is required for your role."))
    user.totp_secret = None
    audit.record("totp.disable", "user", user.id)
    db.session.flush()


# --- accounts --------------------------------------------------------------------------------

def create_user(email: str, name: str, role: str, organization_name: str, password: str) -> User:
    """Make an account; refuses what is not an email address (normalized_email), a taken
    email, an unknown role or organization, a weak password."""
    email = normalized_email(email)
    if role not in ROLES:
        raise InvalidInput(_("Unknown role %(role)s; choose one of %(roles)s.",
                             role=role, roles=", ".join(ROLES)))
    organization = db.session.scalar(
        select(Organization).where(func.lower(Organization.name) == organization_name.strip().lower()))
    if organization is None:
        raise InvalidInput(_("There is no organization called %(name)s.", name=organization_name))
    if find_user_by_email(email) is not None:
        raise InvalidInput(_("An account with the email %(email)s already exists.", email=email))
    if not name.strip():
        raise InvalidInput(_("Give the person's name."))
    check_new_password(password, email, name, organization.name)
    user = User(email=email, name=name.strip(), role=role, organization=organization)
    user.set_password(password)
    db.session.add(user)
    db.session.flush()
    audit.record("user.create", "user", user.id, {"role": role, "organization": organization.id})
    return user


def choose_language(user: User, language: str) -> None:
    """The language the app speaks to this person from now on, on every device."""
    if language not in LANGUAGES:
        raise InvalidInput(_("Choose one of the languages offered."))
    if user.locale != language:
        audit.record("user.language", "user", user.id, {"from": user.locale, "to": language})
        user.locale = language
    db.session.flush()
