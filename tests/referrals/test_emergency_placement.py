"""Urgency and emergency placement, at the service level: each urgency holds a bed for its
own length; an emergency referral is taken in at once by the shelter (the held bed becomes
occupied, the name visible) and the guardianship decision follows, by a deadline; a
rejection after placement starts a move out, and the bed is freed only when the child
leaves. The moves' table, actors and notifications are proven with the others in
test_moves.py; here, what only these moves do."""
from datetime import timedelta

import pytest
from flask import current_app
from sqlalchemy import select

from coordination import clock
from coordination.audit.models import AuditEvent
from coordination.beds import operations as bed_operations
from coordination.beds.models import BedUpdate
from coordination.errors import InvalidInput, InvalidMove
from coordination.extensions import db
from coordination.i18n import when
from coordination.notifications.services import text_of
from coordination.notifications.models import Notification
from coordination.referrals import services, urgency
from coordination.words import timeline_step

from ..conftest import _acting
from .referral_cast import T0, Cast, assert_refused, count, move_as, notified, pool_counts

DECISION = timedelta(hours=72)  # EMERGENCY_DECISION_HOURS's default


@pytest.fixture
def cast(make):
    clock.freeze(T0)
    return Cast(make)


# --- the hold's length follows the urgency ------------------------------------------------------

@pytest.mark.parametrize("level, hours", [("routine", 48), ("urgent", 24), ("emergency", 6)])
def test_submit_holds_the_bed_for_the_length_of_the_referrals_urgency(cast, level, hours):
    referral = cast.referral("draft", urgency=level)

    move_as(referral, "submit", cast.caseworker)

    assert referral.hold_until == T0 + timedelta(hours=hours)
    assert pool_counts(cast.pool) == (1, 0, 0)


@pytest.mark.parametrize("level, hours", [("routine", 48), ("urgent", 24), ("emergency", 6)])
def test_each_renewal_holds_the_bed_again_for_the_length_of_the_urgency(cast, level, hours):
    referral = cast.referral("submitted", urgency=level)
    clock.freeze(T0 + timedelta(hours=2))
    move_as(referral, "accept", cast["pool staff"])
    assert referral.hold_until == T0 + timedelta(hours=2 + hours)

    clock.freeze(T0 + timedelta(hours=4))
    move_as(referral, "approve", cast["regional guardian"])
    assert referral.hold_until == T0 + timedelta(hours=4 + hours)


@pytest.mark.parametrize("setting, level", [
    ("HOLD_HOURS", "routine"), ("HOLD_HOURS_URGENT", "urgent"), ("HOLD_HOURS_EMERGENCY", "emergency")])
def test_each_urgencys_hold_length_comes_from_its_own_setting(cast, setting, level, monkeypatch):
    monkeypatch.setitem(current_app.config, setting, 0.5)
    referral = cast.referral("draft", urgency=level)

    move_as(referral, "submit", cast.caseworker)

    assert referral.hold_until == T0 + timedelta(minutes=30)


def test_an_emergency_hold_runs_out_first_and_frees_the_bed(cast):
    emergency = cast.referral("submitted", urgency="emergency")
    routine = cast.referral("submitted", urgency="routine")
    clock.freeze(T0 + timedelta(hours=6, minutes=1))

    expired = services.expire_overdue_holds()
    db.session.commit()

    assert [r.id for r in expired] == [emergency.id]
    db.session.refresh(routine)
    assert routine.status == "submitted"
    assert pool_counts(cast.pool) == (1, 0, 0)


# --- placing at once ----------------------------------------------------------------------------

def test_place_now_takes_the_child_in_and_occupies_the_held_bed_in_one_step(cast):
    referral = cast.referral("submitted", urgency="emergency")
    staff = cast["pool staff"]
    assert not services.can_see_child_name(staff, referral)
    version, updates = cast.pool.version, count(BedUpdate)
    clock.freeze(T0 + timedelta(minutes=20))

    move_as(referral, "place_now", staff)

    assert referral.status == "emergency_placed"
    assert pool_counts(cast.pool) == (0, 1, 0)
    assert (referral.holds_bed, referral.hold_until) == (False, None)
    assert referral.arrived_at == referral.accepted_at == T0 + timedelta(minutes=20)
    assert referral.approved_at is None
    assert referral.decision_due_at == T0 + timedelta(minutes=20) + DECISION
    assert cast.pool.version == version + 1 and count(BedUpdate) == updates + 1
    assert services.can_see_child_name(staff, referral)  # as after accepting
    assert services.integrity_problems() == []


def test_place_now_counts_the_decision_deadline_from_the_arrival_given(cast, monkeypatch):
    monkeypatch.setitem(current_app.config, "EMERGENCY_DECISION_HOURS", 24)
    referral = cast.referral("submitted", urgency="emergency")
    clock.freeze(T0 + timedelta(hours=3))

    move_as(referral, "place_now", cast["pool staff"], arrived_at=T0 + timedelta(hours=1))

    assert referral.arrived_at == T0 + timedelta(hours=1)
    assert referral.decision_due_at == T0 + timedelta(hours=25)


def test_place_now_refuses_an_arrival_in_the_future(cast):
    referral = cast.referral("submitted", urgency="emergency")
    assert_refused(InvalidInput, referral, "place_now", cast["pool staff"], arrived_at=T0 + timedelta(hours=2))
    assert pool_counts(cast.pool) == (1, 0, 0)


@pytest.mark.parametrize("level", ["routine", "urgent"])
def test_a_referral_that_is_not_an_emergency_cannot_be_placed_before_the_decision(cast, level):
    referral = cast.referral("submitted", urgency=level)
    staff = cast["pool staff"]
    assert "place_now" not in {m.action for m in services.allowed_moves(staff, referral)}

    refusal = assert_refused(InvalidMove, referral, "place_now", staff)

    assert "emergency" in refusal.message
    assert (referral.status, pool_counts(cast.pool)) == ("submitted", (1, 0, 0))


def test_pool_staff_see_place_now_beside_accept_only_for_an_emergency(cast):
    referral = cast.referral("submitted", urgency="emergency")
    assert {m.action for m in services.allowed_moves(cast["pool staff"], referral)} == {
        "accept", "decline", "place_now"}
    assert services.allowed_moves(cast["shelter staff of another org"], referral) == []


def test_place_now_is_refused_once_the_hold_ran_out(cast):
    referral = cast.referral("submitted", urgency="emergency")
    clock.freeze(referral.hold_until + timedelta(seconds=1))
    assert_refused(InvalidMove, referral, "place_now", cast["pool staff"])


def test_the_guardian_and_caseworker_are_told_a_decision_is_due_and_by_when_without_the_childs_name(cast):
    referral = cast.referral("submitted", urgency="emergency")
    guardian = cast["regional guardian"]

    move_as(referral, "place_now", cast["pool staff"])

    assert notified(referral, "referral.emergency_placed") == {guardian.id, cast.caseworker.id}
    notice = db.session.scalars(select(Notification).where(
        Notification.user_id == guardian.id, Notification.text_key == "referral.emergency_placed")).one()
    with current_app.test_request_context():
        text, deadline = text_of(notice), when(referral.decision_due_at)
    assert referral.child.case_reference in text
    assert deadline in text  # in the reader's zone
    assert referral.child.given_name not in text and referral.child.family_name not in text


# --- the decision that follows ---------------------------------------------------------------

def test_approval_after_an_emergency_placement_makes_it_an_ordinary_placement(cast):
    referral = cast.referral("emergency_placed")
    clock.freeze(T0 + timedelta(hours=10))

    move_as(referral, "approve_emergency", cast["regional guardian"])

    assert (referral.status, referral.approved_at) == ("placed", T0 + timedelta(hours=10))
    assert pool_counts(cast.pool) == (0, 1, 0)
    assert notified(referral, "referral.emergency_approved") == {cast["pool staff"].id, cast.caseworker.id}
    assert notified(referral, "referral.placed") == set()  # not told again that the child arrived
    assert timeline_step("placed", "G", before="emergency_placed") == "Emergency placement approved by G"
    move_as(referral, "discharge", cast["pool staff"])  # normal from then on
    assert pool_counts(cast.pool) == (0, 0, 0)


def test_rejection_after_placement_starts_a_move_out_and_the_child_keeps_the_bed(cast):
    referral = cast.referral("emergency_placed")

    move_as(referral, "reject_emergency", cast["regional guardian"])

    assert referral.status == "moving_out"
    assert referral.reason_text == "Her grandmother in Sumgait can take her."
    assert referral.ended_at is None
    assert pool_counts(cast.pool) == (0, 1, 0)  # nobody is put out on the street
    assert notified(referral, "referral.moving_out") == {cast.caseworker.id, cast["pool staff"].id}
    assert {m.action for m in services.allowed_moves(cast["pool staff"], referral)} == {"discharge"}
    assert services.allowed_moves(cast["regional guardian"], referral) == []
    assert services.integrity_problems() == []


def test_reject_after_placement_needs_a_reason(cast):
    referral = cast.referral("emergency_placed")
    assert_refused(InvalidInput, referral, "reject_emergency", cast["regional guardian"], reason_text="  ")


def test_the_bed_is_freed_when_the_child_moving_out_leaves(cast):
    referral = cast.referral("moving_out")
    clock.freeze(T0 + timedelta(days=2))

    move_as(referral, "discharge", cast["pool staff"], reason_text="Moved to her grandmother.")

    assert (referral.status, referral.ended_at) == ("discharged", T0 + timedelta(days=2))
    assert pool_counts(cast.pool) == (0, 0, 0)
    assert services.integrity_problems() == []


def test_a_child_who_leaves_before_the_decision_is_discharged_the_bed_freed_and_guardianship_told(cast):
    referral = cast.referral("emergency_placed")
    cast["regional guardian"]  # there to be told
    move_as(referral, "discharge", cast["pool staff"], reason_text="Left with an uncle the police found.")
    assert pool_counts(cast.pool) == (0, 0, 0)
    # the decision they owed is moot: the region's guardianship body hears of it, as the caseworker does
    assert notified(referral, "referral.discharged") == {cast["regional guardian"].id, cast.caseworker.id}


@pytest.mark.parametrize("status", ["emergency_placed", "moving_out"])
def test_a_child_in_an_emergency_placement_or_moving_out_has_a_live_referral(cast, make, status):
    child = cast.child()
    cast.referral(status, child=child)
    second = cast.referral("draft", child=child, pool=make.pool(cast.shelter))

    assert_refused(InvalidMove, second, "submit", cast.caseworker)
    assert child not in services.children_to_refer(cast.caseworker, limit=100)


@pytest.mark.parametrize("status", ["emergency_placed", "moving_out"])
def test_a_child_in_an_emergency_placement_or_moving_out_counts_as_placed(cast, status):
    referral = cast.referral(status)
    assert services.placed_in(cast.pool.id) == 1
    assert services.overdue_and_placed(cast.pool.id, clock.now()) == (0, 1)
    page = services.children_of(cast.caseworker, placement="placed", per_page=10)
    assert [c.id for c in page.items] == [referral.child_id]
    # staff cannot lower the count below the children placed through referrals
    pool = cast.pool
    with _acting(cast["pool staff"]), pytest.raises(InvalidInput):
        bed_operations.set_counts(pool, cast["pool staff"], occupied=0, out_of_service=0,
                                  out_of_service_reason="", expected_version=pool.version)
    db.session.rollback()


def test_check_integrity_names_a_pool_whose_occupied_count_misses_an_emergency_placement(cast):
    cast.referral("emergency_placed")
    db.session.execute(db.text("UPDATE bed_pool SET occupied = 0 WHERE id = :id"), {"id": cast.pool.id})
    db.session.commit()
    assert any("occupied is 0 but 1 children are placed" in p for p in services.integrity_problems())


def test_expiry_never_touches_an_emergency_placement(cast):
    referral = cast.referral("emergency_placed")
    clock.freeze(T0 + timedelta(days=30))
    assert services.expire_overdue_holds() == []
    db.session.commit()
    db.session.refresh(referral)
    assert referral.status == "emergency_placed"


# --- decisions overdue, for escalation --------------------------------------------------------------

def test_decisions_overdue_are_the_emergency_placements_past_their_deadline_longest_overdue_first(cast):
    first = cast.referral("emergency_placed")
    clock.freeze(T0 + timedelta(hours=1))
    second = cast.referral("emergency_placed")
    decided = cast.referral("emergency_placed")
    move_as(decided, "approve_emergency", cast["regional guardian"])
    rejected = cast.referral("moving_out")
    cast.referral("submitted", urgency="emergency")

    assert urgency.decisions_overdue(T0 + DECISION - timedelta(seconds=1)) == []
    assert urgency.decisions_overdue(T0 + DECISION) == [first]
    assert urgency.decisions_overdue(T0 + DECISION + timedelta(hours=2)) == [first, second]
    assert rejected not in urgency.decisions_overdue(T0 + timedelta(days=10))


def test_every_new_move_is_in_the_audit_trail_under_its_own_name(cast):
    referral = cast.referral("moving_out")
    other = cast.referral("emergency_placed")
    move_as(other, "approve_emergency", cast["regional guardian"])
    actions = set(db.session.scalars(select(AuditEvent.action).where(
        AuditEvent.object_type == "referral", AuditEvent.object_id.in_([str(referral.id), str(other.id)]))))
    assert {"referral.emergency_placed", "referral.moving_out", "referral.emergency_approved"} <= actions
