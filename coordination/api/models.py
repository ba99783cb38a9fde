"""API tokens: who may call the API, as whom, for what, until when."""
from datetime import datetime

from sqlalchemy import JSON, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..accounts.models import User
from ..clock import now
from ..extensions import db
from ..types import UTCDateTime


class ApiToken(db.Model):
    """A secret an external system sends as `Authorization: Bearer <token>`. Only the SHA-256
    of the secret is kept (the secret is shown once, when it is made); the token acts through
    its own account (`account`), a User of its organization and role that nobody signs in
    as, so that every operation and every audit line is the same as for a person."""

    id: Mapped[int] = mapped_column(primary_key=True)
    # The start of the secret, shown in lists so that people can tell their tokens apart.
    prefix: Mapped[str] = mapped_column(String(20))
    secret_hash: Mapped[str] = mapped_column(String(64), unique=True)
    label: Mapped[str] = mapped_column(String(200))
    scopes: Mapped[list[str]] = mapped_column(JSON, default=list)
    account_id: Mapped[int] = mapped_column(ForeignKey("user.id"), unique=True)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now)
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    revoked_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    account: Mapped[User] = relationship(foreign_keys=[account_id])
    created_by: Mapped[User | None] = relationship(foreign_keys=[created_by_id])

    def is_usable(self, at: datetime) -> bool:
        """Not revoked, not expired, and its account and organization still active."""
        return (self.revoked_at is None and (self.expires_at is None or self.expires_at > at)
                and self.account.is_active)

    def __repr__(self) -> str:
        return f"<ApiToken {self.id} {self.prefix}>"
