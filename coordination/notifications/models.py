from datetime import datetime

from sqlalchemy import JSON, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..accounts.models import User
from ..clock import now
from ..extensions import db
from ..types import UTCDateTime


class Notification(db.Model):
    """Tells one person that a referral waits on them, or moved, or that something happened
    to an account (sign-ins paused). The text is a key, so it is worded in the reader's
    language when shown, and never carries a child's name; `params` holds what an account
    notice needs to say (an address, which account), or how long a referral has waited
    (an escalation: `waited_minutes`, `level`), never anything about a child."""

    __table_args__ = (
        Index("ix_notification_unread", "user_id", "read_at"),
        Index("ix_notification_user_newest", "user_id", "id"),  # /notifications: a person's newest first
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id"))
    referral_id: Mapped[int | None] = mapped_column(ForeignKey("referral.id"), index=True)
    text_key: Mapped[str] = mapped_column(String(50))
    params: Mapped[dict | None] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now)
    read_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    user: Mapped[User] = relationship()
    referral = relationship("Referral")
