from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..clock import now
from ..extensions import db
from ..referrals.models import Referral
from ..types import UTCDateTime

# Whom a step of the ladder tells (besides the referring caseworker, told at every step):
# those who must act (a reminder), the guardianship and custody body of the shelter's
# region, and oversight (the ombudsman's office).
ACTORS, GUARDIANSHIP_BODY, OVERSIGHT = "actors", "guardianship", "oversight"
AUDIENCES = (ACTORS, GUARDIANSHIP_BODY, OVERSIGHT)


class Escalation(db.Model):
    """One step of escalation of one wait: the referral waited in `status` since
    `waiting_since` and reached `level`. Rows are only ever inserted.

    The unique key makes each step happen once, however many servers run the periodic
    command at the same moment: only the insert that wins tells anyone. A referral that
    moves on leaves its wait behind; a new wait (another status, or the same one entered
    again, which starts from another moment) is escalated from the start."""

    __table_args__ = (
        UniqueConstraint("referral_id", "status", "waiting_since", "level", name="uq_escalation_step"),
        CheckConstraint("level >= 1", name="escalation_level"),
        CheckConstraint("audience IN ('actors', 'guardianship', 'oversight')", name="escalation_audience"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    referral_id: Mapped[int] = mapped_column(ForeignKey("referral.id"))
    status: Mapped[str] = mapped_column(String(20))
    waiting_since: Mapped[datetime] = mapped_column(UTCDateTime)
    level: Mapped[int] = mapped_column(Integer)
    audience: Mapped[str] = mapped_column(String(20))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now, index=True)

    referral: Mapped[Referral] = relationship()

    def __repr__(self) -> str:
        return f"<Escalation referral {self.referral_id} {self.status} level {self.level}>"
