from datetime import datetime

from sqlalchemy import JSON, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from ..clock import now
from ..extensions import db
from ..types import UTCDateTime


class AuditEvent(db.Model):
    """Who did what to which record, from where. Rows are only ever inserted, and each
    carries the hash of the one before it, so an edited, inserted or removed row shows.
    The hash is a signature (HMAC) with the audit key, named by `key_id`, which is kept
    outside the database (see audit/services.py)."""

    __table_args__ = (Index("ix_audit_object", "object_type", "object_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now, index=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"), index=True)
    organization_id: Mapped[int | None] = mapped_column(ForeignKey("organization.id"), index=True)
    action: Mapped[str] = mapped_column(String(50), index=True)
    object_type: Mapped[str] = mapped_column(String(30))
    object_id: Mapped[str] = mapped_column(String(40))
    details: Mapped[dict] = mapped_column(JSON, default=dict)
    client_address: Mapped[str] = mapped_column(String(64), default="")
    previous_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64), unique=True)
    # Which key signed `hash`: its id (audit/signing.py), or "legacy" for the events written
    # before the trail was keyed, which are plain SHA-256.
    key_id: Mapped[str] = mapped_column(String(8))


class AuditHead(db.Model):
    """The end of the chain: the last event's id and hash and how many there are, updated
    with every append and signed with the audit key, so that removing events from the end
    shows too, even when the head is moved back to match."""

    id: Mapped[int] = mapped_column(primary_key=True)  # always 1
    last_event_id: Mapped[int] = mapped_column()
    last_hash: Mapped[str] = mapped_column(String(64))
    event_count: Mapped[int] = mapped_column()
    key_id: Mapped[str] = mapped_column(String(8))
    signature: Mapped[str] = mapped_column(String(64))
