"""The referral state machine, at the service level: every move of DESIGN.md's table by
its rightful actor, with its effect on the pool; every other actor, every wrong status
and every missing reason refused with nothing changed; what each move leaves behind
(timeline, audit event, notifications); and the buttons (`allowed_moves`) agreeing
with what `move` does."""
from datetime import timedelta

import pytest
from sqlalchemy import select

from coordination import clock
from coordination.audit.models import AuditEvent
from coordination.beds.models import BedUpdate
from coordination.errors import InvalidInput, InvalidMove, NotAllowed
from coordination.extensions import db
from coordination.referrals import services
from coordination.referrals.models import ReferralEvent

from ..conftest import _acting
from .referral_cast import (
    ALLOWED, CASEWORKER, EMERGENCY_ONLY, GUARDIAN, HOLD, KINDS, REASONS, STAFF, STATUSES, STEPS, T0, TABLE,
    TERMINAL, TOLD, Cast, assert_refused, count, happened, move_as, notified, person, pool_counts,
)


def _urgency_for(action: str) -> str | None:
    """An emergency for the moves only an emergency may make; otherwise as the cast has it."""
    return "emergency" if action in EMERGENCY_ONLY else None


@pytest.fixture
def cast(make):
    clock.freeze(T0)
    return Cast(make)


def test_the_service_table_is_the_designs_table():
    parts = {CASEWORKER: services.REFERRING_CASEWORKER, STAFF: services.POOL_STAFF,
             GUARDIAN: services.REGIONAL_GUARDIAN}
    # Steps only siblings referred together take are proven in tests/referrals/test_siblings.py.
    assert {action: (tuple(m.sources), m.target, m.part) for action, m in services.MOVES.items()
            if not m.group_only} == {
        action: (sources, target, parts[who]) for action, (sources, target, who) in TABLE.items()}
    assert {action for action, m in services.MOVES.items() if m.group_only} == {"withdraw_siblings"}


# --- the rightful actor succeeds ----------------------------------------------------------------

RIGHTFUL_STEPS = [(action, source, kind) for action, source in STEPS for kind in sorted(ALLOWED[TABLE[action][2]])]


@pytest.mark.parametrize("action, source, kind", RIGHTFUL_STEPS)
def test_rightful_actor_makes_the_move_and_it_leaves_timeline_audit_and_notifications(cast, action, source, kind):
    referral = cast.referral(source, urgency=_urgency_for(action))
    actor = cast[kind]
    events, audits = count(ReferralEvent), count(AuditEvent)
    clock.freeze(clock.now() + timedelta(hours=1))

    move_as(referral, action, actor)

    target = TABLE[action][1]
    assert referral.status == target
    assert referral.status_changed_at == clock.now()
    reason = REASONS.get(action, {})
    assert count(ReferralEvent) == events + 1
    event = db.session.scalars(select(ReferralEvent).where(ReferralEvent.referral_id == referral.id)
                               .order_by(ReferralEvent.id.desc())).first()
    assert (event.from_status, event.to_status, event.user_id, event.created_at) == (
        source, target, actor.id, clock.now())
    assert (event.reason_code, event.reason_text) == (reason.get("reason_code", ""), reason.get("reason_text", ""))
    assert count(AuditEvent) == audits + 1
    audit = db.session.scalars(select(AuditEvent).order_by(AuditEvent.id.desc())).first()
    assert (audit.action, audit.object_type, audit.object_id) == (f"referral.{happened(action)}", "referral",
                                                                  str(referral.id))
    assert (audit.user_id, audit.organization_id) == (actor.id, actor.organization_id)
    assert (audit.details["from"], audit.details["to"]) == (source, target)
    assert actor.id not in notified(referral, f"referral.{happened(action)}")


# --- effects on the pool ---------------------------------------------------------------------

@pytest.mark.parametrize("kind", sorted(ALLOWED[CASEWORKER]))
def test_submit_holds_one_bed_until_hold_hours_from_now(cast, kind):
    referral = cast.referral("draft")
    assert pool_counts(cast.pool) == (0, 0, 0)
    clock.freeze(T0 + timedelta(hours=3))

    move_as(referral, "submit", cast[kind])

    assert pool_counts(cast.pool) == (1, 0, 0)
    assert referral.holds_bed is True
    assert referral.submitted_at == T0 + timedelta(hours=3)
    assert referral.hold_until == T0 + timedelta(hours=3) + HOLD


@pytest.mark.parametrize("action, source", [("accept", "submitted"), ("approve", "accepted")])
def test_decision_renews_the_hold_deadline_from_the_time_of_the_decision(cast, action, source):
    referral = cast.referral(source)
    first_deadline = referral.hold_until
    clock.freeze(T0 + timedelta(hours=30))

    move_as(referral, action, cast.rightful(action))

    assert referral.hold_until == T0 + timedelta(hours=30) + HOLD
    assert referral.hold_until > first_deadline
    assert referral.holds_bed is True
    assert pool_counts(cast.pool) == (1, 0, 0)
    stamp = referral.accepted_at if action == "accept" else referral.approved_at
    assert stamp == T0 + timedelta(hours=30)


@pytest.mark.parametrize("action, source", [
    ("decline", "submitted"), ("reject", "accepted"),
    ("withdraw", "submitted"), ("withdraw", "accepted"), ("withdraw", "approved")])
def test_ending_a_holding_referral_releases_its_bed_and_keeps_the_reason(cast, action, source):
    referral = cast.referral(source)
    other = cast.referral("submitted")  # a second hold in the same pool stays
    assert pool_counts(cast.pool) == (2, 0, 0)
    clock.freeze(T0 + timedelta(hours=2))

    move_as(referral, action, cast.rightful(action))

    assert pool_counts(cast.pool) == (1, 0, 0)
    assert (referral.holds_bed, referral.hold_until, referral.ended_at) == (False, None, T0 + timedelta(hours=2))
    reason = REASONS[action]
    assert (referral.reason_code, referral.reason_text) == (reason.get("reason_code", ""), reason["reason_text"])
    db.session.refresh(other)
    assert other.holds_bed is True


def test_place_turns_the_held_bed_into_an_occupied_one_in_one_step(cast):
    referral = cast.referral("approved")
    assert pool_counts(cast.pool) == (1, 0, 0)
    version = cast.pool.version
    updates = count(BedUpdate)
    clock.freeze(T0 + timedelta(hours=5))

    move_as(referral, "place", cast.rightful("place"))

    assert pool_counts(cast.pool) == (0, 1, 0)
    assert referral.arrived_at == T0 + timedelta(hours=5)
    assert (referral.holds_bed, referral.hold_until) == (False, None)
    # one change of the pool, recorded once, with both counts already moved
    assert cast.pool.version == version + 1
    assert count(BedUpdate) == updates + 1
    update = db.session.scalars(select(BedUpdate).order_by(BedUpdate.id.desc())).first()
    assert (update.pool_id, update.held, update.occupied, update.user_id) == (
        cast.pool.id, 0, 1, cast.rightful("place").id)
    assert referral.child.case_reference in update.reason


def test_place_keeps_an_arrival_time_given_in_the_past(cast):
    referral = cast.referral("approved")
    clock.freeze(T0 + timedelta(hours=10))
    arrived = T0 + timedelta(hours=7, minutes=15)

    move_as(referral, "place", cast.rightful("place"), arrived_at=arrived)

    assert referral.arrived_at == arrived
    assert pool_counts(cast.pool) == (0, 1, 0)
    db.session.refresh(referral.child)
    assert referral.child.reached_bed_at == arrived  # no longer counted as still without a bed


def test_check_integrity_names_a_child_whose_first_bed_disagrees_with_the_arrivals(cast):
    referral = cast.referral("placed")
    assert services.integrity_problems() == []
    referral.child.reached_bed_at = None
    db.session.commit()

    problems = services.integrity_problems()

    assert len(problems) == 1 and problems[0].startswith(f"child {referral.child_id}: first reached a bed at None")


def test_place_refuses_an_arrival_time_in_the_future(cast):
    referral = cast.referral("approved")
    assert_refused(InvalidInput, referral, "place", cast.rightful("place"),
                   arrived_at=clock.now() + timedelta(hours=1))
    assert referral.status == "approved"
    assert pool_counts(cast.pool) == (1, 0, 0)


def test_place_refuses_an_arrival_before_the_referral_was_submitted(cast):
    referral = cast.referral("approved")
    assert_refused(InvalidInput, referral, "place", cast.rightful("place"),
                   arrived_at=referral.submitted_at - timedelta(hours=1))


def test_discharge_frees_the_occupied_bed(cast):
    referral = cast.referral("placed")
    assert pool_counts(cast.pool) == (0, 1, 0)
    clock.freeze(T0 + timedelta(days=20))

    move_as(referral, "discharge", cast.rightful("discharge"))

    assert pool_counts(cast.pool) == (0, 0, 0)
    assert referral.ended_at == T0 + timedelta(days=20)
    assert referral.reason_text == REASONS["discharge"]["reason_text"]


# --- everyone else is refused ------------------------------------------------------------------

WRONG_ACTORS = [(action, source, kind) for action, source in STEPS
                for kind in KINDS if kind not in ALLOWED[TABLE[action][2]]]


@pytest.mark.parametrize("action, source, kind", WRONG_ACTORS)
def test_anyone_but_the_rightful_actor_is_refused_and_nothing_changes(cast, action, source, kind):
    referral = cast.referral(source, urgency=_urgency_for(action))
    assert_refused(NotAllowed, referral, action, cast[kind], **REASONS.get(action, {}))
    assert referral.status == source


WRONG_STATUSES = [(action, status) for action, (sources, _, _) in TABLE.items()
                  for status in STATUSES if status not in sources]


@pytest.mark.parametrize("action, status", WRONG_STATUSES)
def test_move_from_a_status_it_does_not_start_from_is_refused_and_nothing_changes(cast, action, status):
    referral = cast.referral(status, urgency=_urgency_for(action) if status not in ("emergency_placed", "moving_out")
                             else None)
    assert_refused(InvalidMove, referral, action, cast.rightful(action), **REASONS.get(action, {}))
    assert referral.status == status


def test_there_is_no_move_outside_the_table(cast):
    referral = cast.referral("submitted")
    assert_refused(InvalidMove, referral, "expire", cast["pool staff"])
    assert_refused(InvalidMove, referral, "place", cast["pool staff"])  # skipping steps


@pytest.mark.parametrize("status", TERMINAL)
def test_nothing_moves_a_referral_out_of_a_terminal_status(cast, status):
    referral = cast.referral(status)
    for action in TABLE:
        assert_refused(InvalidMove, referral, action, cast.rightful(action), **REASONS.get(action, {}))
    assert referral.status == status


# --- reasons -----------------------------------------------------------------------------------

@pytest.mark.parametrize("code", ["no_capacity", "not_eligible", "needs_not_met", "other"])
def test_decline_records_each_reason_code_with_its_text(cast, code):
    referral = cast.referral("submitted")
    move_as(referral, "decline", cast["pool staff"], reason_code=code, reason_text="  She needs a medical unit.  ")
    assert (referral.status, referral.reason_code, referral.reason_text) == (
        "declined", code, "She needs a medical unit.")
    event = referral.events[-1]
    assert (event.reason_code, event.reason_text) == (code, "She needs a medical unit.")


@pytest.mark.parametrize("code, text", [
    ("", "She needs a medical unit."),           # no code
    ("full", "She needs a medical unit."),       # a code not on the list
    ("no_capacity", ""),                          # no text
    ("no_capacity", "   \n "),                    # only blanks
])
def test_decline_without_a_listed_code_and_a_text_is_refused(cast, code, text):
    referral = cast.referral("submitted")
    assert_refused(InvalidInput, referral, "decline", cast["pool staff"], reason_code=code, reason_text=text)
    assert (referral.status, referral.holds_bed) == ("submitted", True)


@pytest.mark.parametrize("action, source", [
    ("reject", "accepted"), ("withdraw", "submitted"), ("withdraw", "approved"), ("discharge", "placed")])
@pytest.mark.parametrize("text", ["", "  \t "])
def test_reject_withdraw_and_discharge_without_a_reason_are_refused(cast, action, source, text):
    referral = cast.referral(source)
    assert_refused(InvalidInput, referral, action, cast.rightful(action), reason_text=text,
                   reason_code=REASONS[action].get("reason_code", ""))
    assert referral.status == source


# --- submitting: consent and one live referral per child -------------------------------------

def test_submit_without_recorded_consent_is_refused_until_consent_is_recorded(cast):
    child = cast.child(consent=False)
    referral = cast.referral("draft", child=child)
    assert_refused(InvalidInput, referral, "submit", cast.caseworker)
    assert pool_counts(cast.pool) == (0, 0, 0)

    with _acting(cast.caseworker):
        services.record_consent(child, cast.caseworker, "the child's aunt", clock.now(), True)
    db.session.commit()
    move_as(referral, "submit", cast.caseworker)
    assert referral.status == "submitted"


@pytest.mark.parametrize("first_status", ["submitted", "accepted", "approved", "placed"])
def test_a_child_with_a_live_referral_cannot_have_a_second_one_submitted(cast, make, first_status):
    child = cast.child()
    cast.referral(first_status, child=child)
    other_pool = make.pool(cast.shelter)
    second = cast.referral("draft", child=child, pool=other_pool)

    assert_refused(InvalidMove, second, "submit", cast.caseworker)
    assert (second.status, pool_counts(other_pool)) == ("draft", (0, 0, 0))


@pytest.mark.parametrize("first_status", ["declined", "withdrawn", "discharged", "expired"])
def test_once_the_first_referral_ended_the_child_can_be_referred_again(cast, make, first_status):
    child = cast.child()
    cast.referral(first_status, child=child)
    second = cast.referral("submitted", child=child, pool=make.pool(cast.shelter))
    assert second.holds_bed is True


# --- notifications ---------------------------------------------------------------------------

@pytest.mark.parametrize("action, source", STEPS)
def test_move_notifies_exactly_the_people_who_act_next(cast, action, source):
    referral = cast.referral(source, urgency=_urgency_for(action))
    # everyone who could be told, and some who must not be
    staff = [cast["pool staff"], person("shelter_staff", cast.operator)]
    guardians = [cast["regional guardian"], person("guardianship", cast.make.organization("state", cast.shelter_region))]
    person("shelter_staff", cast.operator, active=False)
    person("guardianship", cast.guardian_org, active=False)
    for kind in KINDS:
        cast[kind]
    target = TABLE[action][1]
    actor = cast.rightful(action)

    move_as(referral, action, actor)

    parts = {STAFF: staff, GUARDIAN: guardians, CASEWORKER: [cast.caseworker]}
    told_parts = set(TOLD[happened(action)])
    if action == "discharge" and source == "emergency_placed":
        told_parts.add(GUARDIAN)  # the decision guardianship owed is moot: they must hear of it
    expected = {user.id for part in told_parts for user in parts[part]} - {actor.id}
    assert expected  # every move tells somebody
    assert notified(referral, f"referral.{happened(action)}") == expected


# --- the buttons agree with the rules ----------------------------------------------------------

def _moves_that_work(referral, user) -> set[str]:
    """The actions `move` accepts from `user` now, each tried and rolled back."""
    works = set()
    for action in TABLE:
        try:
            with _acting(user):
                services.move(referral, action, user, **REASONS.get(action, {}))
        except (NotAllowed, InvalidMove):
            pass
        else:
            works.add(action)
        db.session.rollback()
    return works


@pytest.mark.parametrize("status", STATUSES)
def test_allowed_moves_are_exactly_the_moves_that_succeed(cast, status):
    referral = cast.referral(status)
    for kind in KINDS:
        user = cast[kind]
        shown = {m.action for m in services.allowed_moves(user, referral)}
        expected = {action for action, (sources, _, who) in TABLE.items()
                    if status in sources and kind in ALLOWED[who]
                    and (action not in EMERGENCY_ONLY or referral.urgency == "emergency")}
        assert shown == expected, kind
        assert _moves_that_work(referral, user) == expected, kind
    db.session.refresh(referral)
    assert referral.status == status
