"""Bed holds and their deadlines, with the clock stopped: how long a hold lasts, that each
decision renews it, that an overdue hold stops counting at once (on the board, for a new
referral, for the shelter's own count edits) even before `expire-holds` runs, that
nothing moves an overdue referral, and that expiry happens exactly once however many
servers run it."""
import re
from datetime import timedelta

import pytest
from sqlalchemy import select

from coordination import clock
from coordination.beds import operations as beds
from coordination.errors import InvalidInput, InvalidMove, NoBedAvailable
from coordination.extensions import db
from coordination.referrals import services
from coordination.referrals.models import Referral, ReferralEvent

from ..at_once import on_servers_at_once
from ..conftest import Client, _acting
from .referral_cast import (
    HOLD, HOLDING, KINDS, REASONS, T0, TABLE, Cast, assert_refused, count, move_as, notified, pool_counts, snapshot,
)


@pytest.fixture
def cast(make):
    clock.freeze(T0)
    cast = Cast(make, capacity=1)
    cast["pool staff"]  # there before any hold runs out, to be told of it
    return cast


def expiry_events(referral: Referral) -> list[ReferralEvent]:
    return list(db.session.scalars(select(ReferralEvent).where(
        ReferralEvent.referral_id == referral.id, ReferralEvent.to_status == "expired")))


def assert_expired_by_the_system(referral: Referral, cast: Cast) -> None:
    db.session.refresh(referral)
    assert (referral.status, referral.holds_bed, referral.hold_until) == ("expired", False, None)
    [event] = expiry_events(referral)
    assert event.user_id is None
    assert notified(referral, "referral.expired") == {cast.caseworker.id, cast["pool staff"].id}


# --- how long a hold lasts -------------------------------------------------------------------

def test_a_hold_lasts_hold_hours_from_submission(cast):
    referral = cast.referral("draft")
    clock.freeze(T0 + timedelta(minutes=40))
    move_as(referral, "submit", cast.caseworker)
    assert referral.hold_until == T0 + timedelta(minutes=40) + HOLD


def test_the_hold_length_comes_from_the_hold_hours_setting(cast, app, monkeypatch):
    monkeypatch.setitem(app.config, "HOLD_HOURS", 6)
    referral = cast.referral("submitted")
    assert referral.hold_until == T0 + timedelta(hours=6)
    clock.freeze(T0 + timedelta(hours=5))
    move_as(referral, "accept", cast["pool staff"])
    assert referral.hold_until == T0 + timedelta(hours=11)


def test_each_decision_renews_the_hold_from_its_own_time(cast):
    referral = cast.referral("submitted")
    assert referral.hold_until == T0 + HOLD

    clock.freeze(T0 + timedelta(hours=47))  # just in time
    move_as(referral, "accept", cast["pool staff"])
    assert referral.hold_until == T0 + timedelta(hours=47) + HOLD

    clock.freeze(T0 + timedelta(hours=90))
    move_as(referral, "approve", cast["regional guardian"])
    assert referral.hold_until == T0 + timedelta(hours=90) + HOLD
    assert pool_counts(cast.pool) == (1, 0, 0)


# --- an overdue hold stops counting at once ----------------------------------------------------

BOARD_ROW = r'<tr id="board-pool-{id}"[^>]*>(.*?)</tr>'


def free_on_board(app, user, pool) -> int:
    """The free beds the board shows for `pool` to `user`, signed in afresh (the clock
    may have jumped past the session's idle timeout)."""
    browser = Client(app)
    assert browser.login(user.email).status_code == 303
    page = browser.get("/beds")
    assert page.status_code == 200
    row = re.search(BOARD_ROW.format(id=pool.id), page.get_data(as_text=True), re.S).group(1)
    return int(re.search(r'data-free="(\d+)"', row).group(1))


def test_an_overdue_hold_frees_its_bed_on_the_board_before_expire_holds_runs(cast, app):
    referral = cast.referral("submitted")
    viewer = cast["caseworker of another org"]
    clock.freeze(referral.hold_until - timedelta(minutes=1))
    assert free_on_board(app, viewer, cast.pool) == 0

    clock.freeze(referral.hold_until)
    assert free_on_board(app, viewer, cast.pool) == 1

    db.session.refresh(referral)
    assert (referral.status, referral.holds_bed) == ("submitted", True)  # nobody expired it yet
    assert pool_counts(cast.pool) == (1, 0, 0)


@pytest.mark.parametrize("status", HOLDING)
def test_a_new_referral_takes_the_bed_of_an_overdue_hold(cast, status):
    old = cast.referral(status)
    newcomer = cast.referral("draft")
    before = snapshot()
    with _acting(cast.caseworker), pytest.raises(NoBedAvailable):
        services.move(newcomer, "submit", cast.caseworker)  # while the old hold is live
    db.session.rollback()  # as the route does
    assert snapshot() == before

    clock.freeze(old.hold_until + timedelta(seconds=1))
    move_as(newcomer, "submit", cast.caseworker)

    assert (newcomer.status, newcomer.holds_bed) == ("submitted", True)
    assert pool_counts(cast.pool) == (1, 0, 0)
    assert_expired_by_the_system(old, cast)
    assert services.integrity_problems() == []


@pytest.mark.parametrize("status", HOLDING)
def test_nothing_moves_an_overdue_referral(cast, status):
    referral = cast.referral(status)
    clock.freeze(referral.hold_until)
    for kind in KINDS:
        assert services.allowed_moves(cast[kind], referral) == [], kind
    for action, (sources, _, _) in TABLE.items():
        if status in sources:
            assert_refused(InvalidMove, referral, action, cast.rightful(action), **REASONS.get(action, {}))
    assert (referral.status, referral.holds_bed) == (status, True)


def test_a_hold_is_live_until_its_deadline(cast):
    referral = cast.referral("submitted")
    clock.freeze(referral.hold_until - timedelta(seconds=1))
    assert {m.action for m in services.allowed_moves(cast["pool staff"], referral)} == {"accept", "decline"}
    move_as(referral, "accept", cast["pool staff"])
    assert referral.status == "accepted"


def test_staff_count_edit_is_not_blocked_by_an_overdue_hold(cast):
    referral = cast.referral("submitted")  # the pool's only bed is held
    staff = cast["pool staff"]
    with _acting(staff), pytest.raises(InvalidInput):
        beds.set_counts(cast.pool, staff, occupied=1, out_of_service=0, out_of_service_reason="",
                        expected_version=cast.pool.version)
    db.session.rollback()

    clock.freeze(referral.hold_until + timedelta(minutes=5))
    with _acting(staff):
        beds.set_counts(cast.pool, staff, occupied=1, out_of_service=0, out_of_service_reason="",
                        expected_version=cast.pool.version)
    db.session.commit()

    assert pool_counts(cast.pool) == (0, 1, 0)
    assert_expired_by_the_system(referral, cast)


def test_staff_one_step_count_change_is_not_blocked_by_an_overdue_hold(cast):
    referral = cast.referral("approved")
    staff = cast["pool staff"]
    clock.freeze(referral.hold_until)
    with _acting(staff):
        beds.adjust_count(cast.pool, staff, "out_of_service", 1, expected_version=cast.pool.version)
    db.session.commit()
    assert pool_counts(cast.pool) == (0, 0, 1)
    assert_expired_by_the_system(referral, cast)


# --- expire-holds ------------------------------------------------------------------------------

def expire_holds(app):
    db.session.commit()
    result = app.test_cli_runner().invoke(args=["expire-holds"])
    db.session.expire_all()
    return result


def test_expire_holds_expires_exactly_the_overdue_holds_and_frees_their_beds(make, app):
    clock.freeze(T0)
    cast = Cast(make, capacity=10)
    overdue = [cast.referral(status) for status in HOLDING]
    clock.freeze(T0 + timedelta(hours=30))
    live = [cast.referral(status) for status in HOLDING]  # deadlines 30 hours later
    draft, placed = cast.referral("draft"), cast.referral("placed")
    assert pool_counts(cast.pool) == (6, 1, 0)

    clock.freeze(T0 + HOLD + timedelta(minutes=1))
    result = expire_holds(app)

    assert result.exit_code == 0, result.output
    assert "Expired 3 hold(s)." in result.output
    for referral in overdue:
        assert f"referral {referral.id} ({referral.child.case_reference})" in result.output
        assert_expired_by_the_system(referral, cast)
    for referral, status in zip(live + [draft, placed], HOLDING + ("draft", "placed")):
        db.session.refresh(referral)
        assert referral.status == status
        assert expiry_events(referral) == []
    assert pool_counts(cast.pool) == (3, 1, 0)
    assert services.integrity_problems() == []


def test_expire_holds_twice_expires_nothing_more(make, app):
    clock.freeze(T0)
    cast = Cast(make, capacity=3)
    referrals = [cast.referral("submitted"), cast.referral("accepted")]
    clock.freeze(T0 + HOLD + timedelta(hours=1))
    assert "Expired 2 hold(s)." in expire_holds(app).output
    before = (count(ReferralEvent), pool_counts(cast.pool))

    again = expire_holds(app)

    assert again.exit_code == 0, again.output
    assert "Expired 0 hold(s)." in again.output
    assert (count(ReferralEvent), pool_counts(cast.pool)) == before
    for referral in referrals:
        assert len(expiry_events(referral)) == 1


def test_expiries_racing_on_two_servers_expire_each_referral_once(make, app):
    clock.freeze(T0)
    cast = Cast(make, capacity=6)
    second_pool = make.pool(cast.shelter, capacity=4)
    referrals = [cast.referral(status) for status in HOLDING + HOLDING]
    referrals += [cast.referral("submitted", pool=second_pool) for _ in range(3)]
    clock.freeze(T0 + timedelta(hours=1))
    still_live = cast.referral("submitted", pool=second_pool)
    assert (pool_counts(cast.pool)[0], pool_counts(second_pool)[0]) == (6, 4)
    db.session.commit()  # the test's session holds no lock while the servers run

    clock.freeze(T0 + HOLD + timedelta(minutes=30))
    expired_by = on_servers_at_once(app, lambda: [r.id for r in services.expire_overdue_holds()])

    assert sorted(expired_by[0] + expired_by[1]) == sorted(r.id for r in referrals)
    for referral in referrals:
        assert len(expiry_events(referral)) == 1, referral.id
        assert len(notified(referral, "referral.expired")) == 2
    db.session.refresh(still_live)
    assert still_live.status == "submitted"
    assert pool_counts(cast.pool)[0] == 0
    assert pool_counts(second_pool)[0] == 1
    assert services.integrity_problems() == []
