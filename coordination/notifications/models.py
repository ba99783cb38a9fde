from datetime import datetime

from sqlalchemy import JSON, ForeignKey, Index, Integer, String, text
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
        # /notifications: a person's newest first, a page at a time by keyset (paging.py).
        Index("ix_notification_user_created", "user_id", "created_at", "id"),
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


class OutgoingMail(db.Model):
    """A notification that also goes by e-mail, waiting to be sent or sent. Written in the
    same transaction as its notification, so a step that is rolled back sends nothing; sent
    only after that transaction commits, by whichever server claims it first (`claim` and
    `next_try_at`, set by one conditional UPDATE: see notifications/sending.py). Holds no
    text: the message is worded when it is sent, in the recipient's language, and names no
    child."""

    __tablename__ = "outgoing_mail"
    __table_args__ = (
        # What a sender looks for: the messages neither sent nor given up, by when they are due.
        Index("ix_outgoing_mail_due", "next_try_at",
              sqlite_where=text("sent_at IS NULL AND given_up_at IS NULL"),
              postgresql_where=text("sent_at IS NULL AND given_up_at IS NULL")),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id"), index=True)
    notification_id: Mapped[int] = mapped_column(ForeignKey("notification.id"), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now)
    # Not before then: when it was queued, after a failure the time of the next try, and while a
    # sender holds it the end of that sender's claim (so a sender that died is replaced).
    next_try_at: Mapped[datetime] = mapped_column(UTCDateTime)
    claim: Mapped[str | None] = mapped_column(String(32))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    given_up_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_error: Mapped[str | None] = mapped_column(String(500))

    user: Mapped[User] = relationship()
    notification: Mapped[Notification] = relationship()
