"""A referral that nobody answers reaches a person who will: after the allowed wait of its
urgency, those who must act are reminded; after twice that, the guardianship and custody
body of the shelter's region; after three times, oversight. The referring caseworker hears
of each step. Each step happens once, however often and from however many servers the
periodic command runs, and a referral that moves on stops escalating."""
from datetime import timedelta

import pytest
from sqlalchemy import select

from coordination import clock
from coordination.audit.models import AuditEvent
from coordination.escalations import services as escalations
from coordination.escalations.models import Escalation
from coordination.extensions import db
from coordination.notifications.models import Notification

from ..at_once import on_servers_at_once
from ..conftest import Client
from ..referrals.referral_cast import T0, Cast, count, move_as, person

URGENT = timedelta(hours=4)  # ESCALATE_URGENT_HOURS's default; the cast's referrals are urgent
# Who each level of a wait on the shelter tells, besides the referring caseworker.
SHELTER_LADDER = {1: "escalation.actors", 2: "escalation.guardianship", 3: "escalation.oversight"}
# The people no escalation ever tells.
BYSTANDERS = ("shelter staff of another org", "caseworker of another org", "guardianship of another region",
              "guardianship of the operator's home region", "admin", "admin of the shelter's org")


@pytest.fixture
def cast(make):
    clock.freeze(T0)
    cast = Cast(make, capacity=10)
    cast.urgency = "urgent"
    for kind in ("pool staff", "regional guardian", "oversight", "oversight in the shelter's org") + BYSTANDERS:
        cast[kind]  # there before anything escalates, to be told of it (or not)
    cast.second_staff = person("shelter_staff", cast.operator)
    cast.away_staff = person("shelter_staff", cast.operator, active=False)  # deactivated: never told
    return cast


def escalate_at(moment):
    """Run escalation as the periodic command would, at `moment`, and commit."""
    clock.freeze(moment)
    steps = escalations.escalate_waiting_referrals()
    db.session.commit()
    return [(step.referral.id, step.level, step.audience) for step in steps]


def told(referral, key: str) -> set[int]:
    return set(db.session.scalars(select(Notification.user_id).where(
        Notification.referral_id == referral.id, Notification.text_key == key)))


def escalation_notices(referral) -> int:
    return count(Notification, Notification.referral_id == referral.id, Notification.text_key.like("escalation.%"))


def ids(cast, *kinds) -> set[int]:
    return {cast[kind].id for kind in kinds}


# --- when each level comes, and whom it tells -------------------------------------------------

def test_a_referral_the_shelter_does_not_answer_climbs_the_ladder_at_one_two_and_three_times_the_wait(cast):
    referral = cast.referral("submitted")

    assert escalate_at(T0 + URGENT - timedelta(minutes=1)) == []
    assert escalate_at(T0 + URGENT) == [(referral.id, 1, "actors")]
    assert told(referral, "escalation.actors") == ids(cast, "pool staff") | {cast.second_staff.id}
    assert escalate_at(T0 + 2 * URGENT - timedelta(minutes=1)) == []
    assert escalate_at(T0 + 2 * URGENT) == [(referral.id, 2, "guardianship")]
    assert told(referral, "escalation.guardianship") == ids(cast, "regional guardian")
    assert escalate_at(T0 + 3 * URGENT) == [(referral.id, 3, "oversight")]
    assert told(referral, "escalation.oversight") == ids(cast, "oversight", "oversight in the shelter's org")
    for audience in ("actors", "guardianship", "oversight"):
        assert told(referral, f"escalation.caseworker.{audience}") == {cast.caseworker.id}

    assert escalate_at(T0 + 10 * URGENT) == []  # oversight is the top
    everyone_told = set(db.session.scalars(select(Notification.user_id).where(
        Notification.text_key.like("escalation.%"))))
    assert not everyone_told & (ids(cast, *BYSTANDERS) | {cast.away_staff.id})


def test_a_decision_the_guardianship_body_does_not_take_reminds_its_officers_then_goes_to_oversight(cast):
    clock.freeze(T0 - timedelta(hours=1))
    referral = cast.referral("accepted")  # accepted at T0 - 1h: the wait for a decision starts then
    colleague = person("guardianship", cast.guardian_org)
    start = T0 - timedelta(hours=1)

    assert escalate_at(start + URGENT) == [(referral.id, 1, "actors")]
    assert told(referral, "escalation.actors") == ids(cast, "regional guardian") | {colleague.id}
    assert escalate_at(start + 2 * URGENT) == [(referral.id, 2, "oversight")]
    assert told(referral, "escalation.oversight") == ids(cast, "oversight", "oversight in the shelter's org")
    assert told(referral, "escalation.caseworker.oversight") == {cast.caseworker.id}
    assert told(referral, "escalation.actors") & ids(cast, "pool staff") == set()
    assert escalate_at(start + 5 * URGENT) == []


def test_an_arrival_nobody_records_reminds_the_shelter_staff_first(cast):
    referral = cast.referral("approved")
    assert escalate_at(T0 + URGENT) == [(referral.id, 1, "actors")]
    assert told(referral, "escalation.actors") == ids(cast, "pool staff") | {cast.second_staff.id}
    assert escalate_at(T0 + 2 * URGENT) == [(referral.id, 2, "guardianship")]


@pytest.mark.parametrize("urgency, hours", [("routine", 12), ("urgent", 4), ("emergency", 1)])
def test_the_allowed_wait_depends_on_the_urgency(cast, make, app, monkeypatch, urgency, hours):
    monkeypatch.setitem(app.config, "HOLD_HOURS", 100)  # the default 48 h hold ends a routine wait at level 2
    referral = make.referral(pool=cast.pool, child=cast.child(), caseworker=cast.caseworker, status="submitted",
                             urgency=urgency)
    allowed = timedelta(hours=hours)

    assert escalate_at(T0 + allowed - timedelta(minutes=1)) == []
    assert escalate_at(T0 + allowed) == [(referral.id, 1, "actors")]
    assert escalate_at(T0 + 2 * allowed - timedelta(minutes=1)) == []
    assert escalate_at(T0 + 2 * allowed) == [(referral.id, 2, "guardianship")]


def test_the_allowed_waits_come_from_the_settings(cast, app, monkeypatch):
    monkeypatch.setitem(app.config, "ESCALATE_URGENT_HOURS", 0.5)
    referral = cast.referral("submitted")
    assert escalate_at(T0 + timedelta(minutes=29)) == []
    assert escalate_at(T0 + timedelta(minutes=30)) == [(referral.id, 1, "actors")]


# --- once only --------------------------------------------------------------------------------

def test_running_again_tells_nobody_again(cast):
    referral = cast.referral("submitted")
    escalate_at(T0 + URGENT)
    before = (count(Escalation), count(Notification), count(AuditEvent))

    assert escalate_at(T0 + URGENT + timedelta(minutes=1)) == []
    assert escalate_at(T0 + URGENT + timedelta(minutes=2)) == []

    assert (count(Escalation), count(Notification), count(AuditEvent)) == before
    assert escalation_notices(referral) == 3  # two shelter workers and the caseworker


def test_a_run_after_a_long_pause_makes_each_missed_step_once(cast):
    referral = cast.referral("submitted")

    assert escalate_at(T0 + 3 * URGENT + timedelta(minutes=5)) == [
        (referral.id, 1, "actors"), (referral.id, 2, "guardianship"), (referral.id, 3, "oversight")]
    assert escalate_at(T0 + 3 * URGENT + timedelta(minutes=6)) == []
    assert len(told(referral, "escalation.caseworker.actors")) == 1


def test_each_step_is_in_the_audit_trail_as_the_systems(cast, app):
    referral = cast.referral("submitted")
    escalate_at(T0 + 2 * URGENT + timedelta(minutes=10))

    events = db.session.scalars(select(AuditEvent).where(
        AuditEvent.action == "referral.escalated", AuditEvent.object_id == str(referral.id))
        .order_by(AuditEvent.id)).all()
    assert [(e.details["level"], e.details["audience"], e.details["status"]) for e in events] == [
        (1, "actors", "submitted"), (2, "guardianship", "submitted")]
    assert all(e.user_id is None for e in events)
    assert events[1].details["waited_minutes"] == 8 * 60 + 10
    browser = Client(app)
    assert browser.login(cast["oversight"].email).status_code == 303
    trail = browser.get("/audit?action=referral.escalated").get_data(as_text=True)
    assert trail.count("The system escalated the referral of") == 2
    assert f">{referral.child.case_reference}</a>" in trail
    assert "Level 2: escalated to the guardianship and custody body of the region, after 8 h 10 min" in trail


# --- a referral that moves on -----------------------------------------------------------------

def test_a_referral_that_moves_on_stops_escalating_and_its_new_wait_starts_over(cast):
    referral = cast.referral("submitted")
    escalate_at(T0 + URGENT)
    clock.freeze(T0 + URGENT + timedelta(hours=1))
    move_as(referral, "accept", cast["pool staff"])  # the shelter answers after the reminder

    # Where the shelter's wait would have gone to guardianship, the decision's wait is
    # only an hour old; its own reminder comes four hours after the answer.
    assert escalate_at(T0 + 2 * URGENT + timedelta(minutes=30)) == []
    assert escalate_at(T0 + 2 * URGENT + timedelta(hours=1)) == [(referral.id, 1, "actors")]
    assert told(referral, "escalation.guardianship") == set()
    assert told(referral, "escalation.actors") >= ids(cast, "regional guardian")
    assert [s.status for s in escalations.steps_of(referral)] == ["accepted"]


@pytest.mark.parametrize("status", ["draft", "placed", "withdrawn", "declined"])
def test_a_referral_nobody_owes_a_step_never_escalates(cast, status):
    cast.referral(status)
    assert escalate_at(T0 + 100 * URGENT) == []
    assert count(Escalation) == 0


def test_a_referral_whose_hold_ran_out_is_expired_not_escalated(cast, app, monkeypatch):
    monkeypatch.setitem(app.config, "HOLD_HOURS_URGENT", 3)  # shorter than the wait
    cast.referral("submitted")
    assert escalate_at(T0 + URGENT) == []


# --- what people read ---------------------------------------------------------------------------

def test_the_notices_name_the_case_and_how_long_it_waited_never_the_child(cast, app):
    referral = cast.referral("submitted", child=cast.child(given_name="Aysel", family_name="Məmmədova"))
    escalate_at(T0 + 3 * URGENT)
    child = referral.child
    for kind in ("pool staff", "regional guardian", "oversight", "referring caseworker"):
        browser = Client(app)
        assert browser.login(cast[kind].email).status_code == 303
        page = browser.get("/notifications").get_data(as_text=True)
        assert child.case_reference in page, kind
        assert child.given_name not in page and child.family_name not in page, kind
    assert "12 h 00 min" in page  # the caseworker, told at the top step, in English
    assert "escalated to oversight" in page


def test_the_referral_page_says_how_far_it_escalated(cast, app):
    referral = cast.referral("submitted")
    escalate_at(T0 + 3 * URGENT)
    browser = Client(app)
    assert browser.login(cast.caseworker.email).status_code == 303

    page = browser.get(f"/referrals/{referral.id}").get_data(as_text=True)

    assert "Reminder sent to those who must act at" in page
    assert "Escalated to the region's guardianship and custody body at" in page
    assert "Escalated to oversight at" in page


def test_oversight_lists_the_escalated_referrals_by_case_reference_only(cast, app):
    escalated = cast.referral("submitted", child=cast.child(given_name="Aysel", family_name="Məmmədova"))
    moved_on = cast.referral("submitted")
    clock.freeze(T0 + 3 * URGENT - timedelta(hours=1))
    quiet = cast.referral("submitted")  # has not waited long enough yet
    escalate_at(T0 + 3 * URGENT)
    move_as(moved_on, "accept", cast["pool staff"])
    browser = Client(app)
    assert browser.login(cast["oversight"].email).status_code == 303

    page = browser.get("/escalations").get_data(as_text=True)

    assert escalated.child.case_reference in page
    assert quiet.child.case_reference not in page
    assert escalated.child.given_name not in page and escalated.child.family_name not in page
    assert "Escalated to oversight" in page
    assert "Escalations" in browser.get("/").get_data(as_text=True)  # in the menu
    assert moved_on.child.case_reference not in page


# --- the periodic command ---------------------------------------------------------------------

def test_the_periodic_command_expires_holds_and_escalates(cast, app):
    hold = timedelta(hours=app.config["HOLD_HOURS_URGENT"])
    overdue = cast.referral("submitted")
    clock.freeze(T0 + hold - timedelta(hours=8))
    waiting = cast.referral("submitted")
    clock.freeze(T0 + hold + timedelta(minutes=1))
    db.session.commit()

    result = app.test_cli_runner().invoke(args=["periodic"])

    assert result.exit_code == 0, result.output
    assert "Expired 1 hold(s)." in result.output
    assert "Escalated 2 step(s)." in result.output  # 8 h 01 min of waiting: levels 1 and 2
    db.session.expire_all()
    assert (overdue.status, waiting.status) == ("expired", "submitted")
    assert told(overdue, "escalation.actors") == set()
    again = app.test_cli_runner().invoke(args=["periodic"])
    assert "Expired 0 hold(s)." in again.output and "Escalated 0 step(s)." in again.output


def test_expire_holds_alone_still_only_expires(cast, app):
    cast.referral("submitted")
    clock.freeze(T0 + 2 * URGENT)
    db.session.commit()

    result = app.test_cli_runner().invoke(args=["expire-holds"])

    assert result.exit_code == 0, result.output
    assert result.output.strip() == "Expired 0 hold(s)."
    assert count(Escalation) == 0


def test_two_servers_escalating_at_once_make_each_step_once(cast, app):
    referrals = [cast.referral("submitted") for _ in range(4)] + [cast.referral("approved") for _ in range(2)]
    clock.freeze(T0 + 3 * URGENT)
    db.session.commit()  # the test's session holds no lock while the servers run
    made_by = on_servers_at_once(app, lambda: [(s.referral_id, s.level) for s in (
        _as_row(step) for step in escalations.escalate_waiting_referrals())])

    assert sorted(made_by[0] + made_by[1]) == sorted((r.id, level) for r in referrals for level in (1, 2, 3))
    assert count(Escalation) == len(referrals) * 3
    for referral in referrals:
        assert len(told(referral, "escalation.caseworker.oversight")) == 1
        assert len(told(referral, "escalation.actors")) == 2
        assert count(AuditEvent, AuditEvent.action == "referral.escalated",
                     AuditEvent.object_id == str(referral.id)) == 3


class _as_row:
    def __init__(self, step):
        self.referral_id, self.level = step.referral.id, step.level


def test_an_emergency_decision_not_taken_by_its_deadline_reminds_the_officers_then_goes_to_oversight(cast, app):
    referral = cast.referral("emergency_placed")  # taken in at T0: the decision is due 72 h later
    due = referral.decision_due_at
    assert due == T0 + timedelta(hours=app.config["EMERGENCY_DECISION_HOURS"])
    one_wait = timedelta(hours=app.config["ESCALATE_EMERGENCY_HOURS"])

    assert escalate_at(due - timedelta(minutes=1)) == []
    assert escalate_at(due) == [(referral.id, 1, "actors")]
    assert told(referral, "escalation.actors") == ids(cast, "regional guardian")
    reminder = db.session.scalars(select(Notification).where(
        Notification.referral_id == referral.id, Notification.text_key == "escalation.actors")).one()
    assert reminder.params["waited_minutes"] == app.config["EMERGENCY_DECISION_HOURS"] * 60  # all along, not 1 h
    assert escalate_at(due + one_wait - timedelta(minutes=1)) == []
    assert escalate_at(due + one_wait) == [(referral.id, 2, "oversight")]
    assert told(referral, "escalation.oversight") == ids(cast, "oversight", "oversight in the shelter's org")
    assert escalate_at(due + 10 * one_wait) == []

    move_as(referral, "approve_emergency", cast["regional guardian"])  # decided at last: placed, nothing waits
    assert escalate_at(due + 20 * one_wait) == []


def test_a_child_who_must_move_out_and_has_no_new_place_reminds_every_caseworker_then_climbs(cast):
    referral = cast.referral("moving_out")  # rejected at T0: the caseworkers must find another place
    colleague = person("caseworker", cast.referring_org)
    one_wait = URGENT if referral.urgency == "urgent" else timedelta(hours=1)  # an emergency's wait

    assert escalate_at(T0 + one_wait) == [(referral.id, 1, "actors")]
    assert told(referral, "escalation.actors") == {cast.caseworker.id, colleague.id}
    assert told(referral, "escalation.caseworker.actors") == set()  # told as the ones who must act
    assert escalate_at(T0 + 2 * one_wait) == [(referral.id, 2, "guardianship")]
    assert told(referral, "escalation.guardianship") == ids(cast, "regional guardian")
    assert escalate_at(T0 + 3 * one_wait) == [(referral.id, 3, "oversight")]
    assert told(referral, "escalation.oversight") == ids(cast, "oversight", "oversight in the shelter's org")
