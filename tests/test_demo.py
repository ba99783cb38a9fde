"""The demo data: everyone who has a part in a referral has an account, and the demo's people
find real work waiting on first sign-in, made through the real services and moves."""
import re
from datetime import datetime, timezone

import pytest
from sqlalchemy import func, select

from coordination import clock
from coordination.accounts.models import GUARDIANSHIP, SHELTER_STAFF, Organization, Region, User
from coordination.audit.models import AuditEvent
from coordination.beds.models import BedPool, BedUpdate, Shelter
from coordination.demo import DEMO_PASSWORD, USERS, seed_demo
from coordination.extensions import db
from coordination.notifications.models import Notification
from coordination.referrals import services as referrals
from coordination.referrals.models import DRAFT, STATUSES, Child, Referral, ReferralEvent

from .conftest import Client

# A Monday morning in Baku; the demo's day is the three days before it.
SEEDED_AT = datetime(2026, 3, 2, 6, 30, tzinfo=timezone.utc)
WELL_KNOWN = ("admin@demo.az", "ngo@demo.az", "caseworker@demo.az", "guardian@demo.az", "ombudsman@demo.az")

QUEUE_PART = re.compile(r'<h2 id="queue-(\w+)">(.*?)(?=<h2 id="queue-|</section>)', re.S)
REFERRAL_LINK = re.compile(r'href="/referrals/(\d+)"')


@pytest.fixture
def seeded(app):
    clock.freeze(SEEDED_AT)
    seed_demo()
    db.session.commit()
    return app


def user(email: str) -> User:
    return db.session.scalar(select(User).where(User.email == email))


def signed_in(app, email: str) -> Client:
    person = Client(app)
    response = person.login(email, password=DEMO_PASSWORD)
    assert response.status_code == 303, response.get_data(as_text=True)[:2000]
    return person


def queue(person: Client) -> dict[str, list[int]]:
    """The work queue's sections on the home page: the referrals each lists."""
    response = person.get("/")
    assert response.status_code == 200
    text = response.get_data(as_text=True)
    queue_section = re.search(r'<section id="queue".*?</section>', text, re.S).group(0)
    return {key: [int(i) for i in REFERRAL_LINK.findall(part)] for key, part in QUEUE_PART.findall(queue_section)}


def shelters_of(referral_ids) -> set[str]:
    return {db.session.get(Referral, i).pool.shelter.name for i in referral_ids}


# --- accounts ------------------------------------------------------------------------------

def test_every_shelter_running_organization_has_staff_and_every_shelter_region_a_guardian(seeded):
    shelters = db.session.scalars(select(Shelter)).all()
    people = db.session.scalars(select(User)).all()

    for organization in {s.organization for s in shelters}:
        assert any(p.role == SHELTER_STAFF and p.organization == organization for p in people), organization.name
    for region in {s.region for s in shelters}:
        guardians = [p for p in people if p.role == GUARDIANSHIP and p.organization.region == region]
        assert guardians, region.name_en
        assert all(g.organization.kind == "state" and "Guardianship and Custody Body" in g.organization.name
                   for g in guardians)


def test_the_well_known_logins_stay_and_every_account_has_the_demo_password(seeded):
    emails = [email for email, *_ in USERS]
    assert emails[:5] == list(WELL_KNOWN)
    assert {u.email for u in db.session.scalars(select(User))} == set(emails)
    assert user("guardian@demo.az").organization.name == "Baku Guardianship and Custody Body"
    assert {user(email).locale for email in WELL_KNOWN} == {"az"}
    assert {u.locale for u in db.session.scalars(select(User))} == {"az", "ru", "en"}
    for email in emails:
        assert user(email).check_password(DEMO_PASSWORD), email


@pytest.mark.parametrize("email", [email for email, *_ in USERS if email not in WELL_KNOWN])
def test_each_new_account_signs_in_with_the_demo_password(seeded, email):
    signed_in(seeded, email)


# --- the demo's day ------------------------------------------------------------------------

def test_referrals_exist_in_every_status_each_step_made_by_whoever_makes_it(seeded):
    all_referrals = db.session.scalars(select(Referral)).all()

    assert {r.status for r in all_referrals} == set(STATUSES)
    assert 10 <= db.session.scalar(select(func.count(Child.id))) <= 18  # two more for the emergency placements
    for referral in all_referrals:
        steps = referral.events
        assert (steps[0].from_status, steps[0].to_status) == (None, DRAFT)
        assert steps[-1].to_status == referral.status
        for before, after in zip(steps, steps[1:]):
            assert after.from_status == before.to_status
            assert after.created_at >= before.created_at
            if after.user_id is None:  # the system: only a hold running out
                assert after.to_status == "expired"
                continue
            action = next(m for m in referrals.MOVES.values()
                          if m.target == after.to_status and after.from_status in m.sources)
            assert referrals.plays(db.session.get(User, after.user_id), action.part, referral), (referral, action)
    for child in db.session.scalars(select(Child)):
        assert child.has_consent and child.languages and child.case_reference
        assert child.registered_by.email in {e for e, _n, role, _o in USERS if role == "caseworker"}


def test_the_audit_trail_names_who_made_each_step_in_the_order_it_happened(seeded):
    events = db.session.scalars(select(AuditEvent).order_by(AuditEvent.id)).all()

    assert [e.created_at for e in events] == sorted(e.created_at for e in events)
    assert max(e.created_at for e in events) <= SEEDED_AT
    moves = [e for e in events if e.action.startswith("referral.")]
    assert all(e.user_id is not None for e in moves if e.action != "referral.expired")


@pytest.mark.parametrize("email, sections, shelters", [
    ("caseworker@demo.az", {"drafts", "expiring", "answers", "moving_out"}, 3),
    ("ngo@demo.az", {"to_answer", "arrivals", "moving_out"}, 3),
    ("guardian@demo.az", {"emergencies", "decisions"}, 2),
    ("ngo-lankaran@demo.az", {"to_answer"}, 1),
    ("ngo-ganja@demo.az", {"to_answer"}, 1),
    ("ngo-childrenfirst@demo.az", {"to_answer"}, 1),
    ("guardian-lankaran@demo.az", {"decisions"}, 1),
    ("caseworker-lankaran@demo.az", {"answers"}, 1),
])
def test_each_role_finds_work_waiting_on_first_sign_in(seeded, email, sections, shelters):
    found = queue(signed_in(seeded, email))

    assert {key for key, ids in found.items() if ids} >= sections, found
    assert len(shelters_of(i for ids in found.values() for i in ids)) >= shelters


def test_the_shelter_staff_answer_and_expect_children_in_several_shelters(seeded):
    found = queue(signed_in(seeded, "ngo@demo.az"))

    assert len(shelters_of(found["to_answer"])) >= 2
    assert len(shelters_of(found["to_answer"] + found["arrivals"])) >= 3


@pytest.mark.parametrize("email", ["admin@demo.az", "ombudsman@demo.az"])
def test_admin_and_oversight_find_the_day_in_the_audit_trail(seeded, email):
    response = signed_in(seeded, email).get("/audit?action=referral.submitted")

    assert response.status_code == 200
    assert response.get_data(as_text=True).count('<td class="sentence"') >= 10  # one per submitted referral


def test_check_integrity_and_verify_audit_pass_after_seeding(app):
    runner = app.test_cli_runner()

    assert runner.invoke(args=["seed-demo"]).exit_code == 0
    for command in ("check-integrity", "verify-audit"):
        result = runner.invoke(args=[command])
        assert result.exit_code == 0, (command, result.output)


def counts() -> dict:
    return {model.__name__: db.session.scalar(select(func.count()).select_from(model))
            for model in (Region, Organization, User, Shelter, BedPool, BedUpdate, Child, Referral,
                          ReferralEvent, Notification, AuditEvent)}


def test_seeding_twice_adds_nothing_the_second_time(app):
    runner = app.test_cli_runner()
    assert runner.invoke(args=["seed-demo"]).exit_code == 0
    first = counts()

    result = runner.invoke(args=["seed-demo"])

    assert result.exit_code == 0, result.output
    assert counts() == first
    assert first["Child"] >= 10 and first["Referral"] >= 10


def test_over_an_older_demo_without_children_the_day_is_added(app, monkeypatch):
    monkeypatch.setattr("coordination.demo._demo_day", lambda started, scale: (0, 0))
    seed_demo()  # as the demo was before it had a day: places and people only
    db.session.commit()
    monkeypatch.undo()

    seed_demo()
    db.session.commit()

    assert {r.status for r in db.session.scalars(select(Referral))} == set(STATUSES)
    assert referrals.integrity_problems() == []


def test_once_the_demo_caseworkers_have_a_child_the_day_is_never_played(app, make, monkeypatch):
    monkeypatch.setattr("coordination.demo._demo_day", lambda started, scale: (0, 0))
    seed_demo()
    db.session.commit()
    monkeypatch.undo()
    make.child(registered_by=user("caseworker@demo.az"))

    seed_demo()
    db.session.commit()

    assert db.session.scalar(select(func.count(Child.id))) == 1
    assert db.session.scalar(select(func.count(Referral.id))) == 0


def test_seeding_puts_a_stopped_clock_back_where_it_was(app):
    clock.freeze(SEEDED_AT)

    seed_demo()

    assert clock.now() == SEEDED_AT


def test_with_short_holds_the_day_shrinks_and_its_referrals_stay_live(app):
    hold_hours = {name: app.config[name] for name in ("HOLD_HOURS", "HOLD_HOURS_URGENT", "HOLD_HOURS_EMERGENCY")}
    # three minutes, for a trial run; urgent and emergency holds in the default proportions
    app.config.update(HOLD_HOURS=0.05, HOLD_HOURS_URGENT=0.025, HOLD_HOURS_EMERGENCY=0.00625)
    try:
        clock.freeze(SEEDED_AT)
        seed_demo()
        db.session.commit()
        assert {r.status for r in db.session.scalars(select(Referral))} == set(STATUSES)
        found = queue(signed_in(app, "guardian@demo.az"))
    finally:
        app.config.update(hold_hours)
    assert found["decisions"]
    assert referrals.integrity_problems() == []
