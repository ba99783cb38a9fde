"""Signing in, and making accounts."""
from flask_babel import gettext as _
from sqlalchemy import func, select
from werkzeug.security import check_password_hash, generate_password_hash

from ..clock import now
from ..errors import InvalidInput
from ..extensions import db
from .models import ROLES, Organization, User

# Checked against when the email is unknown, so a wrong address costs as long as a
# wrong password and the timing does not tell which one it was.
_DUMMY_HASH = generate_password_hash("not-a-real-password", method="scrypt")


def find_user_by_email(email: str) -> User | None:
    return db.session.scalar(select(User).where(User.email == email.strip().lower()))


def authenticate(email: str, password: str) -> User | None:
    """The active user with this email and password, or None, whichever part was wrong."""
    user = find_user_by_email(email)
    if user is None:
        check_password_hash(_DUMMY_HASH, password)
        return None
    if not user.check_password(password) or not user.is_active:
        return None
    user.last_login_at = now()
    return user


def create_user(email: str, name: str, role: str, organization_name: str, password: str) -> User:
    """Make an account; refuses a taken email, an unknown role or organization, a short password."""
    email = email.strip().lower()
    if "@" not in email or len(email) > 254:
        raise InvalidInput(_("%(email)s is not an email address.", email=email))
    if role not in ROLES:
        raise InvalidInput(_("Unknown role %(role)s; choose one of %(roles)s.",
                             role=role, roles=", ".join(ROLES)))
    organization = db.session.scalar(
        select(Organization).where(func.lower(Organization.name) == organization_name.strip().lower()))
    if organization is None:
        raise InvalidInput(_("There is no organization called %(name)s.", name=organization_name))
    if find_user_by_email(email) is not None:
        raise InvalidInput(_("An account with the email %(email)s already exists.", email=email))
    if len(password) < 12:
        raise InvalidInput(_("The password must be at least 12 characters long."))
    if not name.strip():
        raise InvalidInput(_("Give the person's name."))
    user = User(email=email, name=name.strip(), role=role, organization=organization)
    user.set_password(password)
    db.session.add(user)
    db.session.flush()
    return user
