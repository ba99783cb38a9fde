"""Regions, organizations and the people who sign in."""
from datetime import datetime

from flask_login import UserMixin
from sqlalchemy import (JSON, BigInteger, Boolean, CheckConstraint, ForeignKey, Integer, String, UniqueConstraint,
                        select, text)
from sqlalchemy.ext.hybrid import hybrid_property
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..clock import now
from ..extensions import db
from ..i18n import current_language
from ..types import UTCDateTime
from .passwords import hash_password, password_matches

SHELTER_STAFF = "shelter_staff"
CASEWORKER = "caseworker"
GUARDIANSHIP = "guardianship"
OVERSIGHT = "oversight"
ADMIN = "admin"
ROLES = (SHELTER_STAFF, CASEWORKER, GUARDIANSHIP, OVERSIGHT, ADMIN)

ORGANIZATION_KINDS = ("ngo", "state", "international")


class Region(db.Model):
    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(20), unique=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)  # the official (Azerbaijani) name
    name_ru: Mapped[str] = mapped_column(String(100), default="")
    name_en: Mapped[str] = mapped_column(String(100), default="")

    def name_in(self, language: str) -> str:
        """The region's name in `language`; the official name where none is given."""
        return {"ru": self.name_ru, "en": self.name_en}.get(language) or self.name

    @property
    def local_name(self) -> str:
        return self.name_in(current_language())

    def __repr__(self) -> str:
        return f"<Region {self.code}>"


class Organization(db.Model):
    __table_args__ = (
        CheckConstraint("kind IN ('ngo', 'state', 'international')", name="organization_kind"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    kind: Mapped[str] = mapped_column(String(20))
    region_id: Mapped[int] = mapped_column(ForeignKey("region.id"))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    # When it last changed (its activation above all: a deactivated organization's shelters
    # leave the bed board), for the API's "what changed since" (api/reads.py).
    changed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now, onupdate=now)

    region: Mapped[Region] = relationship()

    def __repr__(self) -> str:
        return f"<Organization {self.name}>"


class User(UserMixin, db.Model):
    __table_args__ = (
        CheckConstraint(
            "role IN ('shelter_staff', 'caseworker', 'guardianship', 'oversight', 'admin')",
            name="user_role",
        ),
        CheckConstraint("email = lower(email)", name="user_email_lowercase"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    # Stored lower-cased, so the unique index makes addresses unique case-insensitively.
    email: Mapped[str] = mapped_column(String(254), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(20))
    organization_id: Mapped[int] = mapped_column(ForeignKey("organization.id"), index=True)
    password_hash: Mapped[str] = mapped_column(String(255))
    locale: Mapped[str] = mapped_column(String(10), default="az")
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    last_login_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now)
    # Set by an admin's password reset: the next sign-in must choose a new password.
    must_change_password: Mapped[bool] = mapped_column(Boolean, default=False)
    # Base32 TOTP secret once the user has set up two-factor sign-in.
    totp_secret: Mapped[str | None] = mapped_column(String(64))
    # The TOTP time step of the last code accepted: a code is good once, and never an older one.
    totp_last_step: Mapped[int | None] = mapped_column(BigInteger)
    # Part of the session's user id: bumping it ends every session of this user at once.
    session_version: Mapped[int] = mapped_column(Integer, default=1)
    # The kinds of e-mail (notifications/mail.py, MAIL_KINDS) this person turned off on the
    # account page; every other kind that needs them to act comes by e-mail too.
    mail_turned_off: Mapped[list] = mapped_column(JSON, default=list, server_default=text("'[]'"))
    # The account an API token acts through (api/tokens.py), never a person: it has no usable
    # password, cannot sign in to the pages, and is told nothing (notifications.notify).
    api_account: Mapped[bool] = mapped_column(Boolean, default=False, server_default=text("false"))

    organization: Mapped[Organization] = relationship()

    @hybrid_property
    def region_id(self) -> int:
        """The home region of the user's organization (a guardianship officer's jurisdiction)."""
        return self.organization.region_id

    @region_id.inplace.expression
    @classmethod
    def _region_id_expression(cls):
        return (select(Organization.region_id).where(Organization.id == cls.organization_id)
                .correlate_except(Organization).scalar_subquery())

    @property
    def is_active(self) -> bool:  # Flask-Login refuses inactive users
        return self.active and self.organization.active

    def get_id(self) -> str:
        return f"{self.id}.{self.session_version}"

    def set_password(self, password: str) -> None:
        self.password_hash = hash_password(password)

    def check_password(self, password: str) -> bool:
        return password_matches(self.password_hash, password)

    def __repr__(self) -> str:
        return f"<User {self.email} {self.role}>"


class RolePolicy(db.Model):
    """Per-role security settings an admin can change (today: two-factor sign-in required)."""

    role: Mapped[str] = mapped_column(String(20), primary_key=True)
    require_totp: Mapped[bool] = mapped_column(Boolean, default=False)


class SignInPause(db.Model):
    """Failed sign-ins in a row to one account from one client address, and until when
    that address must wait before it may try that account again. Kept per pair, so that
    someone guessing elsewhere never locks the account's owner out."""

    __table_args__ = (UniqueConstraint("user_id", "client_address", name="uq_sign_in_pause_pair"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id"))
    client_address: Mapped[str] = mapped_column(String(64))
    failures: Mapped[int] = mapped_column(Integer, default=0)
    last_failure_at: Mapped[datetime] = mapped_column(UTCDateTime)
    paused_until: Mapped[datetime | None] = mapped_column(UTCDateTime)

    user: Mapped[User] = relationship()


class PendingSignIn(db.Model):
    """A sign-in that gave the right password and still owes the second factor. Kept on the
    server, so its count of codes tried cannot be reset by replaying an older cookie; the
    session holds only a random token, and the table only that token's hash."""

    id: Mapped[int] = mapped_column(primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id"), index=True)
    client_address: Mapped[str] = mapped_column(String(64))
    started_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    codes_tried: Mapped[int] = mapped_column(Integer, default=0)
    # The new authenticator key while a role's required set-up is done during sign-in.
    new_totp_secret: Mapped[str | None] = mapped_column(String(64))

    user: Mapped[User] = relationship()


class TotpEnrolment(db.Model):
    """The authenticator key a signed-in person is shown while turning two-factor sign-in
    on, until they confirm it with a code; kept here, never in the cookie."""

    user_id: Mapped[int] = mapped_column(ForeignKey("user.id"), primary_key=True)
    secret: Mapped[str] = mapped_column(String(64))
    started_at: Mapped[datetime] = mapped_column(UTCDateTime)
