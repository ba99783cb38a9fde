"""Children, their referrals to bed pools, and the referral timeline."""
from datetime import date, datetime

from sqlalchemy import JSON, Boolean, CheckConstraint, Date, ForeignKey, Index, Integer, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..accounts.models import Organization, Region, User
from ..beds.models import BedPool
from ..clock import now
from ..extensions import db
from ..types import UTCDateTime

# The needs a caseworker can record; the same keys name a shelter's services.
NEEDS = ("medical", "disability", "psychosocial", "trafficking", "young_mother")
CHILD_SEXES = ("female", "male")
# Where a child was found (issue 14). "not_recorded" is what children registered before the
# question existed have: shown as such and counted as unknown, never as some place; it is not
# offered for a new child.
NOT_RECORDED = "not_recorded"
FOUND_PLACES = ("border_crossing", "airport", "migrant_detention", "police_station", "street_outreach", "hospital",
                "self_referral", "other", NOT_RECORDED)
# Places where a child must not wait for a bed: with no live referral some hours after being
# found there, an alert goes out (referrals/found.py).
WAITING_PLACES = ("migrant_detention", "police_station")

DRAFT, SUBMITTED, ACCEPTED, APPROVED, PLACED = "draft", "submitted", "accepted", "approved", "placed"
DECLINED, REJECTED, WITHDRAWN, EXPIRED, DISCHARGED = "declined", "rejected", "withdrawn", "expired", "discharged"
# An emergency referral placed by the shelter before the guardianship decision, and one whose
# placement guardianship then rejected: the child still sleeps there until someone takes them.
EMERGENCY_PLACED, MOVING_OUT = "emergency_placed", "moving_out"
STATUSES = (DRAFT, SUBMITTED, ACCEPTED, APPROVED, PLACED, EMERGENCY_PLACED, MOVING_OUT, DECLINED, REJECTED,
            WITHDRAWN, EXPIRED, DISCHARGED)
HOLDING = (SUBMITTED, ACCEPTED, APPROVED)  # a live referral holds one bed of its pool
IN_BED = (PLACED, EMERGENCY_PLACED, MOVING_OUT)  # the child occupies one bed of the pool
LIVE = HOLDING + IN_BED
TERMINAL = (DECLINED, REJECTED, WITHDRAWN, EXPIRED, DISCHARGED)

URGENCIES = ("routine", "urgent", "emergency")
EMERGENCY = "emergency"
DECLINE_CODES = ("no_capacity", "not_eligible", "needs_not_met", "other")
# How a placement ended. Discharges recorded before the codes existed keep "" (shown as "not
# recorded"); "transferred" is also what a transfer's arrival writes on the placement it ends.
MISSING, TRANSFERRED = "missing", "transferred"
DISCHARGE_CODES = ("family_reunification", "foster_care", "other_guardian", "aged_out", MISSING, TRANSFERRED,
                   "other")
# The statuses a child may be transferred from to another shelter (referrals/transfers.py): a
# placement, and an emergency placement the guardianship body rejected (the child must move
# out). Not an emergency placement still awaiting its decision: that decision comes first.
TRANSFERABLE = (PLACED, MOVING_OUT)

# The partial unique indexes that keep a child in one bed. A child has at most one referral
# that holds a bed or occupies one as its own (not a transfer in progress) ...
ONE_LIVE_REFERRAL_WHERE = ("(status IN ('submitted', 'accepted', 'approved') AND transfer_of_id IS NULL) "
                           "OR status IN ('placed', 'emergency_placed', 'moving_out')")
# ... and at most one referral holding a bed at all: so a placed child may hold one bed for
# a transfer beside the one they occupy, but never two holds, nor a transfer beside a new referral.
ONE_HELD_BED_WHERE = "status IN ('submitted', 'accepted', 'approved')"
# The partial indexes of what is live now (the overview): referrals waiting at a stage (HOLDING
# and EMERGENCY_PLACED), referrals whose child is in a bed (IN_BED), and children never in a bed.
WAITING_WHERE = "status IN ('submitted', 'accepted', 'approved', 'emergency_placed')"
IN_BED_WHERE = "status IN ('placed', 'emergency_placed', 'moving_out')"
CHILD_WAITING_WHERE = "anonymized_at IS NULL AND reached_bed_at IS NULL"


class Child(db.Model):
    __table_args__ = (
        CheckConstraint("sex IN ('female', 'male')", name="child_sex"),
        CheckConstraint("birth_date IS NOT NULL OR estimated_age IS NOT NULL", name="child_has_age"),
        CheckConstraint("estimated_age IS NULL OR (estimated_age >= 0 AND estimated_age <= 17)",
                        name="child_estimated_age"),
        CheckConstraint("found_place IN (" + ", ".join(f"'{p}'" for p in FOUND_PLACES) + ")",
                        name="child_found_place"),
        # The unplaced-child alert: children found at a waiting place, not yet alerted, by time found.
        Index("ix_child_unplaced_alert", "found_place", "unplaced_alert_at", "found_at"),
        Index("ix_child_name_key", "organization_id", "name_key"),
        # /children: an organization's children, newest registered first, a page at a time by keyset.
        Index("ix_child_organization_created", "organization_id", "created_at", "id"),
        # The overview's children still waiting for a bed, by region and kind of place: only
        # those rows, so it costs what is waiting now, not the whole history.
        Index("ix_child_waiting_for_bed", text("coalesce(found_region_id, region_id)"), "found_place", "found_at",
              sqlite_where=text(CHILD_WAITING_WHERE), postgresql_where=text(CHILD_WAITING_WHERE)),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    # UC-<year>-<id>, set in the same transaction as the insert.
    case_reference: Mapped[str | None] = mapped_column(String(20), unique=True)
    organization_id: Mapped[int] = mapped_column(ForeignKey("organization.id"))
    registered_by_id: Mapped[int] = mapped_column(ForeignKey("user.id"))
    given_name: Mapped[str] = mapped_column(String(200))
    family_name: Mapped[str] = mapped_column(String(200))
    # "given family" folded across scripts and spellings (referrals/names.py), for finding
    # likely duplicates and searching by name; recompute it (a migration) when the folding changes.
    name_key: Mapped[str] = mapped_column(String(401), default="")
    sex: Mapped[str] = mapped_column(String(10))
    birth_date: Mapped[date | None] = mapped_column(Date)
    estimated_age: Mapped[int | None] = mapped_column(Integer)
    nationality: Mapped[str] = mapped_column(String(100), default="")
    # ISO 639 codes from coordination.languages; what the language migration could not match
    # stays in languages_unmapped, as typed, until someone chooses the right language.
    languages: Mapped[list[str]] = mapped_column(JSON, default=list)
    languages_unmapped: Mapped[list[str]] = mapped_column(JSON, default=list)
    needs: Mapped[list[str]] = mapped_column(JSON, default=list)
    region_id: Mapped[int] = mapped_column(ForeignKey("region.id"), index=True)
    consent_given_by: Mapped[str] = mapped_column(String(200), default="")
    consent_given_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    child_assent: Mapped[bool] = mapped_column(Boolean, default=False)
    # Where and when the child was found (the kind of place, the region, the time).
    found_place: Mapped[str] = mapped_column(String(30), default=NOT_RECORDED, server_default=NOT_RECORDED)
    found_region_id: Mapped[int | None] = mapped_column(ForeignKey("region.id"))
    found_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # When the alert went out that the child, found at a WAITING_PLACE, still had no live referral.
    unplaced_alert_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now)
    # When the child first arrived in a bed, by any referral (the earliest arrival); None while
    # they never have. Set with the arrival (services.move); the reports' "still without a bed".
    reached_bed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Set by `flask anonymize`: names, birth date and free text are gone from then on.
    anonymized_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Brothers and sisters share a group (referrals/siblings.py); None for a child alone.
    sibling_group_id: Mapped[int | None] = mapped_column(ForeignKey("sibling_group.id"), index=True)

    organization: Mapped[Organization] = relationship()
    registered_by: Mapped[User] = relationship()
    region: Mapped[Region] = relationship(foreign_keys=[region_id])
    found_region: Mapped[Region | None] = relationship(foreign_keys=[found_region_id])
    referrals: Mapped[list["Referral"]] = relationship(back_populates="child", order_by="Referral.id")

    @property
    def full_name(self) -> str:
        return f"{self.given_name} {self.family_name}".strip()

    @property
    def has_consent(self) -> bool:
        return bool(self.consent_given_by) and self.consent_given_at is not None

    def age_on(self, day: date) -> int:
        if self.birth_date is None:
            return self.estimated_age or 0
        years = day.year - self.birth_date.year
        if (day.month, day.day) < (self.birth_date.month, self.birth_date.day):
            years -= 1
        return max(0, years)

    def __repr__(self) -> str:
        return f"<Child {self.case_reference}>"


class Referral(db.Model):
    """One child referred to one bed pool.

    `holds_bed` is true exactly while this referral is counted in its pool's `held`; it is
    switched in the same transaction as the pool's counter, and check-integrity recounts it.
    """

    __table_args__ = (
        CheckConstraint(
            "status IN ('draft', 'submitted', 'accepted', 'approved', 'placed', 'emergency_placed', 'moving_out', "
            "'declined', 'rejected', 'withdrawn', 'expired', 'discharged')", name="referral_status"),
        CheckConstraint("urgency IN ('routine', 'urgent', 'emergency')", name="referral_urgency"),
        # One child, one live referral: a child never holds two beds at once; a placed child's
        # transfer in progress is the one exception (see ONE_LIVE_REFERRAL_WHERE above).
        Index("one_live_referral_per_child", "child_id", unique=True,
              sqlite_where=text(ONE_LIVE_REFERRAL_WHERE), postgresql_where=text(ONE_LIVE_REFERRAL_WHERE)),
        Index("one_held_bed_per_child", "child_id", unique=True,
              sqlite_where=text(ONE_HELD_BED_WHERE), postgresql_where=text(ONE_HELD_BED_WHERE)),
        Index("ix_referral_holds", "pool_id", "holds_bed", "hold_until"),
        Index("ix_referral_submitted_at", "submitted_at"),  # the reports take referrals by when they were sent
        # /referrals, latest change first, a page at a time by keyset (paging.py), and the work
        # queues, oldest first: a caseworker's by organization (and status), shelter staff's and
        # guardianship's by status, or, unfiltered, the whole list in order, their shelters' rows
        # picked out as it is read.
        Index("ix_referral_organization_changed", "referring_organization_id", "status_changed_at", "id"),
        Index("ix_referral_organization_status_changed", "referring_organization_id", "status",
              "status_changed_at", "id"),
        Index("ix_referral_status_changed", "status", "status_changed_at", "id"),
        Index("ix_referral_changed", "status_changed_at", "id"),
        # A pool's referrals (and, for shelter staff and guardianship, whether a page has a
        # newer or older one: one look per pool of theirs).
        Index("ix_referral_pool_changed", "pool_id", "status_changed_at", "id"),
        # ... and of one urgency: emergencies are few, and a pool's whole history is long.
        Index("ix_referral_pool_urgency_changed", "pool_id", "urgency", "status_changed_at", "id"),
        # The overview: per pool, the referrals waiting at a stage, and the children in a bed.
        # Only those rows, however long the history grows.
        Index("ix_referral_waiting", "pool_id", "status", "status_changed_at", "id",
              sqlite_where=text(WAITING_WHERE), postgresql_where=text(WAITING_WHERE)),
        Index("ix_referral_in_bed", "pool_id",
              sqlite_where=text(IN_BED_WHERE), postgresql_where=text(IN_BED_WHERE)),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    child_id: Mapped[int] = mapped_column(ForeignKey("child.id"), index=True)
    pool_id: Mapped[int] = mapped_column(ForeignKey("bed_pool.id"))
    referring_organization_id: Mapped[int] = mapped_column(ForeignKey("organization.id"))
    caseworker_id: Mapped[int] = mapped_column(ForeignKey("user.id"))
    status: Mapped[str] = mapped_column(String(20), default=DRAFT)
    urgency: Mapped[str] = mapped_column(String(20), default="routine")
    note: Mapped[str] = mapped_column(Text, default="")
    holds_bed: Mapped[bool] = mapped_column(Boolean, default=False)
    hold_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now)
    status_changed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now)
    submitted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    accepted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    approved_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    arrived_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # An emergency placement made before the guardianship decision: by when the region's
    # guardianship body must approve or reject it (kept afterwards, as a record).
    decision_due_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    reason_code: Mapped[str] = mapped_column(String(30), default="")
    reason_text: Mapped[str] = mapped_column(Text, default="")
    # Siblings referred together to one shelter (referrals/siblings.py); None for one child alone.
    group_id: Mapped[int | None] = mapped_column(ForeignKey("referral_group.id"), index=True)
    # A transfer: the placement this referral moves the child from; that placement ends, its
    # bed freed, in the transaction that records the arrival here.
    transfer_of_id: Mapped[int | None] = mapped_column(ForeignKey("referral.id"), index=True)

    child: Mapped[Child] = relationship(back_populates="referrals")
    transfer_of: Mapped["Referral | None"] = relationship(remote_side="Referral.id", foreign_keys=[transfer_of_id])
    pool: Mapped[BedPool] = relationship()
    referring_organization: Mapped[Organization] = relationship()
    caseworker: Mapped[User] = relationship()
    events: Mapped[list["ReferralEvent"]] = relationship(
        back_populates="referral", order_by="ReferralEvent.id")

    def __repr__(self) -> str:
        return f"<Referral {self.id} {self.status}>"


class ReferralEvent(db.Model):
    """One step of a referral's timeline. Rows are only ever inserted."""

    id: Mapped[int] = mapped_column(primary_key=True)
    referral_id: Mapped[int] = mapped_column(ForeignKey("referral.id"), index=True)
    from_status: Mapped[str | None] = mapped_column(String(20))
    to_status: Mapped[str] = mapped_column(String(20))
    user_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))  # None: the system
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now)
    reason_code: Mapped[str] = mapped_column(String(30), default="")
    reason_text: Mapped[str] = mapped_column(Text, default="")

    referral: Mapped[Referral] = relationship(back_populates="events")
    user: Mapped[User | None] = relationship()


# Age bands for counting children and beds without singling a child out.
AGE_BANDS = ((0, 5), (6, 11), (12, 14), (15, 17))


def age_band(age: int) -> str:
    """'12–14': the band of AGE_BANDS an age falls in (17 for anyone older)."""
    low, high = next(((lo, hi) for lo, hi in AGE_BANDS if age <= hi), AGE_BANDS[-1])
    return f"{low}–{high}"


class DemandSignal(db.Model):
    """A search for a bed that found none free: a child of this sex and age band, with these
    needs, in this region, at this time, and no open pool that admits them had a free bed.
    Anonymous on purpose (no child, no organization): the evidence for where beds are short.
    Rows are only ever inserted; `seen_key` keeps one signal per child per day without
    naming the child (a keyed hash that cannot be turned back into the child's id)."""

    __table_args__ = (CheckConstraint("sex IN ('female', 'male')", name="demand_sex"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now, index=True)
    region_id: Mapped[int | None] = mapped_column(ForeignKey("region.id"), index=True)
    sex: Mapped[str] = mapped_column(String(10))
    age_band: Mapped[str] = mapped_column(String(10))
    needs: Mapped[list[str]] = mapped_column(JSON, default=list)
    seen_key: Mapped[str] = mapped_column(String(64), unique=True)

    region: Mapped[Region | None] = relationship()


# The most a case note may say; the database holds to it too (check constraint case_note_length).
NOTE_MAX_LENGTH = 4000


class CaseNote(db.Model):
    """A note on a child's case by someone who may see the child's name: what was said,
    who said it, for which organization, and when. Rows are only ever inserted (a
    correction is a new note); `flask anonymize` alone blanks the text, with the child's
    names. The note's text is never in the audit trail, a notification or an e-mail."""

    __table_args__ = (
        CheckConstraint(f"length(body) <= {NOTE_MAX_LENGTH}", name="case_note_length"),
        # A child's notes, newest first, a page at a time by keyset (paging.py).
        Index("ix_case_note_child_created", "child_id", "created_at", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    child_id: Mapped[int] = mapped_column(ForeignKey("child.id"))
    author_id: Mapped[int] = mapped_column(ForeignKey("user.id"))
    # The author's organization when the note was written (people change organizations).
    organization_id: Mapped[int] = mapped_column(ForeignKey("organization.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now)
    body: Mapped[str] = mapped_column(Text, default="")

    child: Mapped[Child] = relationship()
    author: Mapped[User] = relationship()
    organization: Mapped[Organization] = relationship()

    def __repr__(self) -> str:
        return f"<CaseNote {self.id} on child {self.child_id}>"
class SiblingGroup(db.Model):
    """Children of one organization known to be brothers and sisters: the system never
    splits them when they are referred together (referrals/siblings.py)."""

    id: Mapped[int] = mapped_column(primary_key=True)
    organization_id: Mapped[int] = mapped_column(ForeignKey("organization.id"), index=True)
    created_by_id: Mapped[int] = mapped_column(ForeignKey("user.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now)


class ReferralGroup(db.Model):
    """Siblings referred together to one shelter: one referral per sibling (each to the pool
    of that shelter that admits the sibling), held, answered and decided all together."""

    id: Mapped[int] = mapped_column(primary_key=True)
    shelter_id: Mapped[int] = mapped_column(ForeignKey("shelter.id"))
    referring_organization_id: Mapped[int] = mapped_column(ForeignKey("organization.id"), index=True)
    caseworker_id: Mapped[int] = mapped_column(ForeignKey("user.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now)
