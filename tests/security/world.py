"""One small but complete world for the security tests: a shelter with pools, children,
referrals in every status, notifications, the people of every role, and another
organization whose records nobody here may touch.

Some stored values are hostile on purpose (a child's name, a shelter's name, a pool's
label, a referral's note), so that every page that shows them proves it escapes what is
stored, not only what is typed.

People share the suite's one password hash, cheap to check: signing in goes through the
real login form."""
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone

from coordination import clock
from coordination.accounts.models import Organization, User
from coordination.api import tokens as api_tokens
from coordination.beds.models import BedPool, Shelter
from coordination.extensions import db
from coordination.notifications.models import Notification
from coordination.referrals import services as referral_services
from coordination.referrals.models import Child, Referral

from ..conftest import Client, _acting, password_hash

# A Monday morning; the world is built around it, and the clock stays frozen there.
T0 = datetime(2026, 3, 2, 9, 0, tzinfo=timezone.utc)

STORED_SCRIPT = '<script>alert("stored")</script>'
STORED_IMG = '"><img src=x onerror=alert(1)>'
STORED_STYLE = "<style>body{display:none}</style>"

STATUSES = ("draft", "submitted", "accepted", "approved", "placed", "emergency_placed", "moving_out",
            "declined", "rejected", "withdrawn", "expired", "discharged")
PATHS = {
    "draft": (), "submitted": ("submit",), "accepted": ("submit", "accept"),
    "approved": ("submit", "accept", "approve"), "placed": ("submit", "accept", "approve", "place"),
    "declined": ("submit", "decline"), "rejected": ("submit", "accept", "reject"),
    "withdrawn": ("submit", "withdraw"), "expired": ("submit",),
    "discharged": ("submit", "accept", "approve", "place", "discharge"),
    # an emergency referral, taken in before the guardianship decision
    "emergency_placed": ("submit", "place_now"), "moving_out": ("submit", "place_now", "reject_emergency"),
}
REASON = {"reason_code": "other", "reason_text": "a test reason"}

ROLES = ("caseworker", "shelter_staff", "guardianship", "oversight", "admin")


@dataclass
class World:
    make: object
    regions: list = field(default_factory=list)
    organizations: list = field(default_factory=list)
    users: dict = field(default_factory=dict)        # role (or other name) -> User
    shelters: list = field(default_factory=list)
    pools: list = field(default_factory=list)
    children: list = field(default_factory=list)
    referrals: dict = field(default_factory=dict)    # status -> Referral of our caseworker
    rival_referral: Referral | None = None
    rival_child: Child | None = None
    rival_pool: BedPool | None = None
    rival_shelter: Shelter | None = None
    child_without_consent: Child | None = None
    child_unreferred: Child | None = None
    # API tokens of the shelter's organization (shelter staff) and of the referring one
    # (caseworker), by role, each with its secret: (ApiToken, secret).
    api_tokens: dict = field(default_factory=dict)
    _n: int = 0

    def person(self, role: str, organization: Organization, name: str | None = None, **values) -> User:
        self._n += 1
        user = User(email=f"{role}.{self._n}@security.example.org",
                    name=name or f"{role.replace('_', ' ').title()} {self._n}", role=role,
                    organization=organization, password_hash=password_hash(), locale="en", **values)
        db.session.add(user)
        db.session.commit()
        return user

    # --- ids for filling URLs ---------------------------------------------------------------

    def ids(self) -> dict[str, list[int]]:
        """Every id of the world, by the name a URL rule gives its argument."""
        return {
            "region_id": [r.id for r in self.regions],
            "organization_id": [o.id for o in self.organizations],
            "user_id": [u.id for u in self.users.values()],
            "shelter_id": [s.id for s in self.shelters],
            "pool_id": [p.id for p in self.pools],
            "child_id": [c.id for c in self.children],
            "referral_id": [r.id for r in self.all_referrals()],
            "notification_id": list(db.session.scalars(db.select(Notification.id))),
            "token_id": [token.id for token, _secret in self.api_tokens.values()],
        }

    def consistent_records(self) -> list[dict[str, int]]:
        """Sets of ids that belong together (a pool and its shelter, a referral and its child),
        for URL rules that name more than one record."""
        records = []
        for region in self.regions:
            records.append({"region_id": region.id})
        for org in self.organizations:
            records.append({"organization_id": org.id, "region_id": org.region_id})
        for user in self.users.values():
            records.append({"user_id": user.id, "organization_id": user.organization_id,
                            "region_id": user.organization.region_id})
        for shelter in self.shelters:
            records.append({"shelter_id": shelter.id, "organization_id": shelter.organization_id,
                            "region_id": shelter.region_id})
        for pool in self.pools:
            records.append({"pool_id": pool.id, "shelter_id": pool.shelter_id,
                            "organization_id": pool.shelter.organization_id, "region_id": pool.shelter.region_id})
        for child in self.children:
            records.append({"child_id": child.id, "organization_id": child.organization_id,
                            "region_id": child.region_id})
        for referral in self.all_referrals():
            records.append({"referral_id": referral.id, "child_id": referral.child_id, "pool_id": referral.pool_id,
                            "shelter_id": referral.pool.shelter_id,
                            "organization_id": referral.referring_organization_id})
        return records

    def all_referrals(self) -> list[Referral]:
        return list(self.referrals.values()) + ([self.rival_referral] if self.rival_referral else [])

    # --- making -----------------------------------------------------------------------------

    def _refer(self, caseworker: User, child: Child, pool: BedPool, status: str, note: str = "") -> Referral:
        with _acting(caseworker):
            urgency = "emergency" if "place_now" in PATHS[status] else "urgent"
            referral = referral_services.create_referral(caseworker, child, pool, urgency, note)
        db.session.commit()
        for action in PATHS[status]:
            actor = self._actor_for(action, referral)
            with _acting(actor):
                referral_services.move(referral, action, actor, **REASON)
            db.session.commit()
        return referral

    def _actor_for(self, action: str, referral: Referral) -> User:
        part = referral_services.MOVES[action].part
        if part == referral_services.REFERRING_CASEWORKER:
            return referral.caseworker
        if part == referral_services.POOL_STAFF:
            return self.users["shelter_staff"] if referral.pool.shelter is self.shelters[0] else self.users["rival_staff"]
        return self.users["guardianship"]


def build_world(make, statuses=STATUSES) -> World:
    """The world every security test starts from, with one referral of our caseworker in
    each of `statuses` (a few seconds to build on SQLite with all of them)."""
    clock.freeze(T0)
    w = World(make)
    home = make.region("Baku")
    far = make.region("Ganja-Dashkasan")
    other = make.region("Lankaran-Astara")
    w.regions = [home, far, other]

    operator = make.organization("ngo", home, name="Safe Harbour NGO")
    referring = make.organization("state", far, name="State Migration Service")
    guardians = make.organization("state", home, name="Baku guardianship body")
    monitors = make.organization("international", home, name="Ombudsman's office")
    admins = make.organization("state", far, name="System administration")
    rival = make.organization("ngo", other, name="Rival NGO")
    w.organizations = [operator, referring, guardians, monitors, admins, rival]

    w.users["caseworker"] = w.person("caseworker", referring)
    w.users["shelter_staff"] = w.person("shelter_staff", operator)
    w.users["guardianship"] = w.person("guardianship", guardians)
    w.users["oversight"] = w.person("oversight", monitors)
    w.users["admin"] = w.person("admin", admins)
    w.users["rival_caseworker"] = w.person("caseworker", rival)
    w.users["rival_staff"] = w.person("shelter_staff", rival)

    shelter = make.shelter(operator, home, name=f"Harbour House {STORED_IMG}", phone="+994 12 000 00 00")
    girls = make.pool(shelter, capacity=20, label=f"Girls 12–17 {STORED_STYLE}", admits_sex="female",
                      min_age=12, max_age=17)
    boys = make.pool(shelter, capacity=20, label="Boys 0–17", admits_sex="male")
    anyone = make.pool(shelter, capacity=4, occupied=1, out_of_service=1, out_of_service_reason=STORED_SCRIPT,
                       label="Emergency beds")
    w.rival_shelter = make.shelter(rival, other, name="Rival shelter")
    w.rival_pool = make.pool(w.rival_shelter, capacity=6, label="Rival pool", admits_sex="any")
    w.shelters = [shelter, w.rival_shelter]
    w.pools = [girls, boys, anyone, w.rival_pool]

    caseworker = w.users["caseworker"]

    def child(i: int, **values) -> Child:
        values.setdefault("given_name", f"Aysel {i}")
        values.setdefault("family_name", STORED_SCRIPT if i == 1 else f"Məmmədova {i}")
        return make.child(registered_by=caseworker, **values)

    # The expired referral first: expiring it moves the clock past its hold, and the
    # rest of the world is made at that later time, so their holds are live.
    if "expired" in statuses:
        expired_child = child(0)
        w.referrals["expired"] = w._refer(caseworker, expired_child, girls, "expired")
        clock.freeze(w.referrals["expired"].hold_until + timedelta(minutes=1))
        referral_services.expire_overdue_holds()
        db.session.commit()
        w.children.append(expired_child)

    for i, status in enumerate(s for s in statuses if s != "expired"):
        kid = child(i + 1)
        w.children.append(kid)
        note = f"Arrives by bus {STORED_SCRIPT}" if status == "submitted" else ""
        w.referrals[status] = w._refer(caseworker, kid, girls, status, note=note)

    w.child_unreferred = child(20, sex="male", estimated_age=9, needs=["medical"], languages=["ar"])
    w.child_without_consent = child(21, consent=False)
    w.children += [w.child_unreferred, w.child_without_consent]

    w.rival_child = make.child(registered_by=w.users["rival_caseworker"], given_name="Rival", family_name="Child")
    w.children.append(w.rival_child)
    w.rival_referral = w._refer(w.users["rival_caseworker"], w.rival_child, w.rival_pool, "accepted")

    with _acting(w.users["admin"]):
        for role, organization in (("shelter_staff", operator), ("caseworker", referring)):
            w.api_tokens[role] = api_tokens.create_token(w.users["admin"], f"{role} system", organization.id, role,
                                                         list(api_tokens.SCOPES_BY_ROLE[role]), None)
    db.session.commit()

    # One notification read, the rest unread.
    first = db.session.scalar(db.select(Notification).order_by(Notification.id))
    if first is not None:
        first.read_at = clock.now()
    db.session.commit()
    for status, referral in w.referrals.items():
        db.session.refresh(referral)
        assert referral.status == status, (status, referral.status)
    return w


def signed_in(app, user: User) -> Client:
    """A Client signed in as `user`, without a new password hash."""
    client = Client(app)
    response = client.login(user.email)
    assert response.status_code == 303, response.get_data(as_text=True)[:500]
    client.user = user
    return client
