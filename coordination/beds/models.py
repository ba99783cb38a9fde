"""Shelters, their bed pools, and the append-only history of bed counts."""
from datetime import datetime

from sqlalchemy import JSON, CheckConstraint, ForeignKey, Index, Integer, String, Text, literal
from sqlalchemy.ext.hybrid import hybrid_property
from sqlalchemy.orm import Mapped, mapped_column, query_expression, relationship

from ..accounts.models import Organization, Region, User
from ..clock import now
from ..extensions import db
from ..types import UTCDateTime

SHELTER_STATUSES = ("open", "suspended", "closed")
SEXES = ("female", "male", "any")

# What a shelter can care for; the same keys name a child's needs.
SERVICES = ("medical", "disability", "psychosocial", "trafficking", "young_mother")


class Shelter(db.Model):
    __table_args__ = (
        CheckConstraint("status IN ('open', 'suspended', 'closed')", name="shelter_status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    organization_id: Mapped[int] = mapped_column(ForeignKey("organization.id"), index=True)
    region_id: Mapped[int] = mapped_column(ForeignKey("region.id"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    address: Mapped[str] = mapped_column(String(500), default="")
    phone: Mapped[str] = mapped_column(String(50), default="")
    status: Mapped[str] = mapped_column(String(20), default="open")
    # The languages its staff speak: ISO 639 codes from coordination.languages; what the
    # language migration could not match stays in languages_unmapped until the next edit.
    languages: Mapped[list[str]] = mapped_column(JSON, default=list)
    languages_unmapped: Mapped[list[str]] = mapped_column(JSON, default=list)
    services: Mapped[list[str]] = mapped_column(JSON, default=list)
    accessibility: Mapped[str] = mapped_column(Text, default="")
    # When any of the above last changed, for the API's "what changed since" (api/reads.py).
    changed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now, onupdate=now)

    organization: Mapped[Organization] = relationship()
    region: Mapped[Region] = relationship()
    pools: Mapped[list["BedPool"]] = relationship(
        back_populates="shelter", order_by="BedPool.id"
    )

    def __repr__(self) -> str:
        return f"<Shelter {self.name}>"


class BedPool(db.Model):
    """A group of interchangeable beds in one shelter.

    The database itself refuses counts that overbook the pool, so no code path, however
    concurrent, can commit occupied + out_of_service + held above capacity. `held` is
    only ever changed by one conditional UPDATE (see beds.services.hold_bed), and
    `version` is bumped by every change to the staff-kept counts so that two people
    editing at once cannot overwrite each other.
    """

    __table_args__ = (
        CheckConstraint("admits_sex IN ('female', 'male', 'any')", name="pool_admits_sex"),
        CheckConstraint("min_age >= 0 AND max_age >= min_age", name="pool_age_range"),
        CheckConstraint(
            "capacity >= 0 AND occupied >= 0 AND out_of_service >= 0 AND held >= 0",
            name="pool_counts_not_negative",
        ),
        # pool_not_overbooked, built from `beds_in_use`, is added below the class.
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    shelter_id: Mapped[int] = mapped_column(ForeignKey("shelter.id"), index=True)
    label: Mapped[str] = mapped_column(String(100))
    admits_sex: Mapped[str] = mapped_column(String(10), default="any")
    min_age: Mapped[int] = mapped_column(Integer, default=0)
    max_age: Mapped[int] = mapped_column(Integer, default=17)
    capacity: Mapped[int] = mapped_column(Integer)
    occupied: Mapped[int] = mapped_column(Integer, default=0)
    out_of_service: Mapped[int] = mapped_column(Integer, default=0)
    out_of_service_reason: Mapped[str] = mapped_column(String(500), default="")
    held: Mapped[int] = mapped_column(Integer, default=0)
    last_confirmed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    version: Mapped[int] = mapped_column(Integer, default=1)
    # When any count or the pool itself last changed, holds included (which do not move
    # `version`): every UPDATE of the row sets it, Core statements too (onupdate), for the
    # API's "what changed since" (api/reads.py).
    changed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now, onupdate=now, index=True)

    # Holds past their deadline that expire-holds has not closed yet. They no longer count
    # against availability; loaded with beds.services.with_live_holds, 0 otherwise.
    overdue_holds: Mapped[int] = query_expression(default_expr=literal(0))
    # Children placed here through referrals, read with the pool for a count change
    # (beds.operations.pool_to_change); None when the pool was read without it.
    placed_children: Mapped[int | None] = query_expression()

    shelter: Mapped[Shelter] = relationship(back_populates="pools")

    @hybrid_property
    def in_use(self):
        """The beds this pool cannot offer: occupied, out of service or held (on a record, a
        number; on the class, the SQL expression)."""
        return beds_in_use(self.occupied, self.out_of_service, self.held)

    @property
    def live_holds(self) -> int:
        return self.held - (self.overdue_holds or 0)

    @property
    def available(self) -> int:
        """Free beds now: holds past their deadline no longer count."""
        return max(0, self.capacity - self.in_use + (self.overdue_holds or 0))

    def __repr__(self) -> str:
        return f"<BedPool {self.id} {self.label}>"


def beds_in_use(occupied, out_of_service, held):
    """The one definition of the beds a pool cannot offer, for counts in Python and columns
    or proposed values in SQL alike: `occupied + out_of_service + held <= capacity` always."""
    return occupied + out_of_service + held


BedPool.__table__.append_constraint(
    CheckConstraint(BedPool.in_use <= BedPool.capacity, name="pool_not_overbooked"))


class BedUpdate(db.Model):
    """One change or confirmation of a pool's counts: who, when, the counts after, why.

    Rows are only ever inserted.
    """

    # The reports read a pool's history by time (the last update before a month ends).
    __table_args__ = (Index("ix_bed_update_pool_time", "pool_id", "created_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    pool_id: Mapped[int] = mapped_column(ForeignKey("bed_pool.id"), index=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now)
    capacity: Mapped[int] = mapped_column(Integer)
    occupied: Mapped[int] = mapped_column(Integer)
    out_of_service: Mapped[int] = mapped_column(Integer)
    held: Mapped[int] = mapped_column(Integer)
    reason: Mapped[str] = mapped_column(String(500))

    pool: Mapped[BedPool] = relationship()
    user: Mapped[User | None] = relationship()
