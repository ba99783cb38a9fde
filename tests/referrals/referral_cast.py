"""What the service-level referral tests share: DESIGN.md's state machine written out on
its own (so a wrong MOVES table cannot agree with itself), the people around one
referral, a walk through the real moves, and a snapshot of everything a refused move
must leave as it was.

People are made here rather than with `make.user`, because these tests need hundreds of
people; they all share the suite's one hash of PASSWORD, so they can still sign in."""
import itertools
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import func, select

from coordination import clock
from coordination.accounts.models import Organization, User
from coordination.audit.models import AuditEvent
from coordination.beds.models import BedPool, BedUpdate
from coordination.extensions import db
from coordination.notifications.models import Notification
from coordination.referrals import services
from coordination.referrals.models import Child, Referral, ReferralEvent

from ..conftest import PASSWORD, _acting, password_hash

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=timezone.utc)
HOLD = timedelta(hours=48)  # HOLD_HOURS's default

# --- DESIGN.md's table ------------------------------------------------------------------------

CASEWORKER, STAFF, GUARDIAN = "referring caseworker", "pool staff", "regional guardian"
HOLDING = ("submitted", "accepted", "approved")
IN_BED = ("placed", "emergency_placed", "moving_out")  # the child occupies a bed
STATUSES = ("draft", "submitted", "accepted", "approved", "placed", "emergency_placed", "moving_out",
            "declined", "rejected", "withdrawn", "expired", "discharged")
TERMINAL = ("declined", "rejected", "withdrawn", "expired", "discharged")

# action -> (the statuses it moves from, the status it moves to, who makes it)
TABLE = {
    "submit": (("draft",), "submitted", CASEWORKER),
    "accept": (("submitted",), "accepted", STAFF),
    "decline": (("submitted",), "declined", STAFF),
    "approve": (("accepted",), "approved", GUARDIAN),
    "reject": (("accepted",), "rejected", GUARDIAN),
    "place": (("approved",), "placed", STAFF),
    "discharge": (IN_BED, "discharged", STAFF),
    "withdraw": (HOLDING, "withdrawn", CASEWORKER),
    # emergency placement: taken in before the guardianship decision, which follows
    "place_now": (("submitted",), "emergency_placed", STAFF),
    "approve_emergency": (("emergency_placed",), "placed", GUARDIAN),
    "reject_emergency": (("emergency_placed",), "moving_out", GUARDIAN),
}
# Moves only an emergency referral may make.
EMERGENCY_ONLY = {"place_now"}
# What a move is called in the audit trail and notifications, where not the status it reaches.
EVENT = {"approve_emergency": "emergency_approved"}


def happened(action: str) -> str:
    return EVENT.get(action, TABLE[action][1])

# Every (action, status it may start from), for parametrizing.
STEPS = [(action, source) for action, (sources, _, _) in TABLE.items() for source in sources]

# A reason good enough for every move that needs one.
REASONS = {
    "decline": {"reason_code": "not_eligible", "reason_text": "This pool is for girls over 12."},
    "reject": {"reason_text": "An aunt in the region can take her."},
    "withdraw": {"reason_text": "A place nearer her school was found."},
    "discharge": {"reason_code": "family_reunification", "reason_text": "Reunited with her mother."},
    "reject_emergency": {"reason_text": "Her grandmother in Sumgait can take her."},
}

# The real moves that take a fresh draft to each status (expired is reached by the clock).
PATHS = {
    "draft": (),
    "submitted": ("submit",),
    "accepted": ("submit", "accept"),
    "approved": ("submit", "accept", "approve"),
    "placed": ("submit", "accept", "approve", "place"),
    "declined": ("submit", "decline"),
    "rejected": ("submit", "accept", "reject"),
    "withdrawn": ("submit", "withdraw"),
    "discharged": ("submit", "accept", "approve", "place", "discharge"),
    "emergency_placed": ("submit", "place_now"),
    "moving_out": ("submit", "place_now", "reject_emergency"),
}

# Who a move to each status must tell (DESIGN: whoever acts next, and the caseworker
# whenever the answer is someone else's).
TOLD = {
    "submitted": {STAFF},
    "accepted": {GUARDIAN, CASEWORKER},
    "declined": {CASEWORKER},
    "approved": {STAFF, CASEWORKER},
    "rejected": {CASEWORKER, STAFF},
    "placed": {CASEWORKER},
    "discharged": {CASEWORKER},
    "withdrawn": {STAFF, GUARDIAN},
    "expired": {CASEWORKER, STAFF},
    "emergency_placed": {GUARDIAN, CASEWORKER},
    "emergency_approved": {STAFF, CASEWORKER},
    "moving_out": {CASEWORKER, STAFF},
}

# --- people -----------------------------------------------------------------------------------

# Who each kind of person is, relative to one referral's cast: (role, which organization).
KINDS = {
    "referring caseworker": None,  # the caseworker who registered the child and made the draft
    "colleague caseworker": ("caseworker", "referring_org"),
    "pool staff": ("shelter_staff", "operator"),
    "regional guardian": ("guardianship", "guardian_org"),
    "shelter staff of another org": ("shelter_staff", "neighbour_ngo"),
    "shelter staff of the referring org": ("shelter_staff", "referring_org"),
    "caseworker of another org": ("caseworker", "neighbour_ngo"),
    "caseworker of the shelter's org": ("caseworker", "operator"),
    "guardianship of another region": ("guardianship", "faraway_org"),
    "guardianship of the operator's home region": ("guardianship", "operator_home_guardians"),
    "guardianship in the referring org": ("guardianship", "referring_org"),
    "oversight": ("oversight", "monitors"),
    "oversight in the shelter's org": ("oversight", "operator"),
    "admin": ("admin", "guardian_org"),
    "admin of the shelter's org": ("admin", "operator"),
    "admin of the referring org": ("admin", "referring_org"),
}
# The kinds that may make moves of each part. Any caseworker of the referring organization
# may act for it: colleagues cover each other's nights (services.plays).
ALLOWED = {
    CASEWORKER: {"referring caseworker", "colleague caseworker"},
    STAFF: {"pool staff"},
    GUARDIAN: {"regional guardian"},
}
RIGHTFUL = {CASEWORKER: "referring caseworker", STAFF: "pool staff", GUARDIAN: "regional guardian"}

_numbers = itertools.count(1)


def person(role: str, organization: Organization, active: bool = True) -> User:
    """A committed user who can sign in with the suite's PASSWORD."""
    i = next(_numbers)
    user = User(email=f"{role}.{i}@cast.example.org", name=f"{role.replace('_', ' ').title()} {i}",
                role=role, organization=organization, active=active, password_hash=password_hash(), locale="en")
    db.session.add(user)
    db.session.commit()
    return user


class Cast:
    """One shelter pool and everyone who might touch a referral to it.

    The shelter lies in a region other than its operating NGO's home region, and the
    referring organization sits in a third, so that "the right role in the wrong place"
    is told apart from "the right role in the right place"."""

    def __init__(self, make, capacity: int = 5, occupied: int = 0, **pool_values):
        self.make = make
        self.shelter_region = make.region()
        self.operator_region = make.region()
        self.referring_region = make.region()
        self.operator = make.organization("ngo", self.operator_region)
        self.referring_org = make.organization("state", self.referring_region)
        self.guardian_org = make.organization("state", self.shelter_region)
        self.shelter = make.shelter(organization=self.operator, region=self.shelter_region)
        self.pool = make.pool(self.shelter, capacity=capacity, occupied=occupied, **pool_values)
        self.caseworker = person("caseworker", self.referring_org)
        self.urgency = "routine"  # of the referrals it makes
        self._people = {"referring caseworker": self.caseworker}
        self._orgs = {}

    # organizations made only when a test needs their people
    def _org(self, name: str) -> Organization:
        if hasattr(self, name):
            return getattr(self, name)
        if name not in self._orgs:
            self._orgs[name] = {
                "neighbour_ngo": lambda: self.make.organization("ngo", self.shelter_region),
                "faraway_org": lambda: self.make.organization("state", self.make.region()),
                "operator_home_guardians": lambda: self.make.organization("state", self.operator_region),
                "monitors": lambda: self.make.organization("international", self.shelter_region),
            }[name]()
        return self._orgs[name]

    def __getitem__(self, kind: str) -> User:
        """The person of this kind (made on first need, then the same one)."""
        if kind not in self._people:
            role, org = KINDS[kind]
            self._people[kind] = person(role, self._org(org))
        return self._people[kind]

    def rightful(self, action: str) -> User:
        return self[RIGHTFUL[TABLE[action][2]]]

    def child(self, **values):
        return self.make.child(registered_by=self.caseworker, **values)

    def referral(self, status: str = "draft", child=None, pool: BedPool | None = None,
                 urgency: str | None = None) -> Referral:
        """A referral taken to `status` through the real moves, by the people who make them.
        For `expired` the clock is moved past the hold's deadline and left there. Routine
        (a hold of HOLD), unless said (here or in `self.urgency`) or its way there needs an emergency."""
        child = child or self.child()
        path = PATHS["submitted" if status == "expired" else status]
        urgency = urgency or ("emergency" if EMERGENCY_ONLY & set(path) else self.urgency)
        with _acting(self.caseworker):
            referral = services.create_referral(self.caseworker, child, pool or self.pool, urgency, "")
        db.session.commit()
        for action in path:
            move_as(referral, action, self.rightful(action))
        if status == "expired":
            clock.freeze(referral.hold_until + timedelta(minutes=1))
            services.expire_overdue_holds()
            db.session.commit()
            db.session.refresh(referral)
        assert referral.status == status
        return referral


# --- acting and looking -----------------------------------------------------------------------

def move_as(referral: Referral, action: str, user: User, **kwargs) -> Referral:
    """Make a move as `user` (with the reason it needs, unless given) and commit it, as a
    route would; the referral and its pool are read back from the database."""
    kwargs = {**REASONS.get(action, {}), **kwargs}
    with _acting(user):
        services.move(referral, action, user, **kwargs)
    db.session.commit()
    db.session.refresh(referral)
    db.session.refresh(referral.pool)
    return referral


def count(model, *where) -> int:
    return db.session.scalar(select(func.count()).select_from(model).where(*where))


def snapshot() -> dict:
    """Everything a refused move must leave as it was, read afresh from the database."""
    db.session.expire_all()
    return {
        "referrals": [tuple(row) for row in db.session.execute(
            select(Referral.id, Referral.status, Referral.holds_bed, Referral.hold_until,
                   Referral.status_changed_at, Referral.arrived_at, Referral.ended_at,
                   Referral.reason_code, Referral.reason_text).order_by(Referral.id))],
        "children's first beds": db.session.execute(
            select(Child.id, Child.reached_bed_at).order_by(Child.id)).all(),
        "pools": [tuple(row) for row in db.session.execute(
            select(BedPool.id, BedPool.held, BedPool.occupied, BedPool.out_of_service, BedPool.version)
            .order_by(BedPool.id))],
        "referral events": count(ReferralEvent),
        "audit events": count(AuditEvent),
        "notifications": count(Notification),
        "bed updates": count(BedUpdate),
    }


def assert_refused(error, referral: Referral, action: str, user: User, **kwargs):
    """The move raises `error`, and nothing in the database changed: not even when what
    the refused call left in the session is committed (services raise before writing)."""
    before = snapshot()
    with _acting(user), pytest.raises(error) as refusal:
        services.move(referral, action, user, **kwargs)
    assert refusal.value.message  # says why
    db.session.commit()
    assert snapshot() == before
    db.session.refresh(referral)
    return refusal.value


def notified(referral: Referral, key: str) -> set[int]:
    """The ids of the users told `key` about this referral."""
    return set(db.session.scalars(select(Notification.user_id).where(
        Notification.referral_id == referral.id, Notification.text_key == key)))


def pool_counts(pool: BedPool) -> tuple[int, int, int]:
    """(held, occupied, out_of_service), read afresh."""
    db.session.refresh(pool)
    return pool.held, pool.occupied, pool.out_of_service
