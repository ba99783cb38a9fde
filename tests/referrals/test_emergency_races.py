"""Emergency placement racing everything else that can happen to a submitted referral at the
same instant, each through a database connection of its own (as on several servers): the
caseworker withdrawing it, the shelter declining it, a colleague placing it too, expire-holds
closing it. Exactly one of them wins each referral; a bed is never occupied twice nor left
held; every winner leaves its timeline step, audit event and notifications, every loser
nothing; and check-integrity finds the pools as the referrals say."""
import threading
import traceback
from collections import Counter
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from coordination import clock
from coordination.accounts.models import User
from coordination.audit.models import AuditEvent
from coordination.beds.models import BedPool
from coordination.errors import Conflict, InvalidMove
from coordination.extensions import db
from coordination.notifications.models import Notification
from coordination.referrals import services
from coordination.referrals.models import Referral, ReferralEvent

from ..conftest import _acting
from .referral_cast import T0, Cast, REASONS
from .test_no_double_booking import run_all, servers

RACES = 6  # referrals raced in each test, all in one pool with a bed for each


class Outcomes:
    def __init__(self):
        self.lock = threading.Lock()
        self.won = Counter()      # action -> referrals it moved
        self.lost = Counter()     # action -> refusals (someone else moved it first)
        self.failures = []

    def add(self, counter: str, action: str) -> None:
        with self.lock:
            getattr(self, counter)[action] += 1


def press(app, barrier, referral_id: int, action: str, user_id: int, outcomes: Outcomes) -> None:
    """One person pressing one button on one server."""
    try:
        with app.app_context():
            barrier.wait()  # before the first statement: on SQLite it takes the write lock
            referral = db.session.get(Referral, referral_id)
            user = db.session.get(User, user_id)
            with _acting(user):
                try:
                    services.move(referral, action, user, **REASONS.get(action, {}))
                    db.session.commit()
                except (Conflict, InvalidMove):  # moved meanwhile, or seen already moved
                    db.session.rollback()
                    outcomes.add("lost", action)
                else:
                    outcomes.add("won", action)
            db.session.remove()
    except Exception:  # noqa: BLE001 - reported by the test
        outcomes.failures.append(f"{action} {referral_id}:\n{traceback.format_exc()}")


def expire_at(app, barrier, at, outcomes: Outcomes) -> None:
    """expire-holds running on another server, as of `at` (past every hold's deadline)."""
    try:
        with app.app_context():
            barrier.wait()
            expired = services.expire_overdue_holds(at=at)
            db.session.commit()
            with outcomes.lock:
                outcomes.won["expire"] += len(expired)
            db.session.remove()
    except Exception:  # noqa: BLE001
        outcomes.failures.append(f"expire:\n{traceback.format_exc()}")


@pytest.fixture
def cast(make):
    clock.freeze(T0)
    return Cast(make, capacity=RACES + 1, occupied=1)


def emergencies(cast) -> list[Referral]:
    referrals = [cast.referral("submitted", urgency="emergency") for _ in range(RACES)]
    db.session.commit()  # the test's session holds no lock while the servers run
    return referrals


def idle() -> None:
    """The test's session lets go of the database while the servers race (on SQLite, reading
    an expired object again would begin a transaction that takes the write lock)."""
    db.session.commit()
    db.session.close()


def statuses(ids) -> Counter:
    return Counter(db.session.get(Referral, i).status for i in ids)


def assert_each_referral_moved_once_and_the_pool_agrees(pool_id, ids, winners: set[str]):
    pool = db.session.get(BedPool, pool_id)
    placed = sum(1 for i in ids if db.session.get(Referral, i).status == "emergency_placed")
    assert (pool.occupied, pool.held) == (1 + placed, 0)  # one bed per child taken in, no hold left
    assert pool.occupied + pool.out_of_service + pool.held <= pool.capacity
    for referral_id in ids:
        referral = db.session.get(Referral, referral_id)
        assert referral.status in winners
        steps = db.session.scalars(select(ReferralEvent.to_status).where(
            ReferralEvent.referral_id == referral.id, ReferralEvent.from_status == "submitted")).all()
        assert steps == [referral.status], referral.id  # one step out of submitted, the winner's
        audits = db.session.scalar(select(func.count()).select_from(AuditEvent).where(
            AuditEvent.object_type == "referral", AuditEvent.object_id == str(referral.id),
            AuditEvent.action == f"referral.{referral.status}"))
        assert audits == 1
        told = db.session.scalar(select(func.count()).select_from(Notification).where(
            Notification.referral_id == referral.id, Notification.text_key == f"referral.{referral.status}"))
        assert told >= 1
    assert services.integrity_problems() == []


@pytest.mark.parametrize("rival, rival_kind", [("withdraw", "referring caseworker"), ("decline", "pool staff")])
def test_place_now_racing_a_withdrawal_or_a_decline_lets_exactly_one_win(app, database_url, cast, rival, rival_kind):
    referrals = emergencies(cast)
    staff = cast["pool staff"] if rival_kind != "pool staff" else cast.make.user(
        "shelter_staff", organization=cast.operator)
    rival_user = cast[rival_kind]
    ids, staff_id, rival_id, pool_id = [r.id for r in referrals], staff.id, rival_user.id, cast.pool.id
    idle()
    outcomes = Outcomes()

    with servers(database_url) as server:
        barrier = threading.Barrier(2 * RACES, timeout=60)
        threads = []
        for referral_id in ids:
            threads.append(threading.Thread(target=press, args=(server, barrier, referral_id, "place_now",
                                                                staff_id, outcomes)))
            threads.append(threading.Thread(target=press, args=(server, barrier, referral_id, rival,
                                                                rival_id, outcomes)))
        run_all(threads)

    assert outcomes.failures == [], "\n".join(outcomes.failures)
    assert sum(outcomes.won.values()) == RACES and sum(outcomes.lost.values()) == RACES
    target = {"withdraw": "withdrawn", "decline": "declined"}[rival]
    assert statuses(ids) == Counter({"emergency_placed": outcomes.won["place_now"],
                                           target: outcomes.won[rival]}) - Counter()
    assert_each_referral_moved_once_and_the_pool_agrees(pool_id, ids, {"emergency_placed", target})


def test_two_staff_placing_the_same_child_at_once_occupy_one_bed(app, database_url, cast):
    referrals = emergencies(cast)
    first, second = cast["pool staff"], cast.make.user("shelter_staff", organization=cast.operator)
    pairs = [(r.id, user.id) for r in referrals for user in (first, second)]
    ids, pool_id = [r.id for r in referrals], cast.pool.id
    idle()
    outcomes = Outcomes()

    with servers(database_url) as server:
        barrier = threading.Barrier(2 * RACES, timeout=60)
        run_all([threading.Thread(target=press, args=(server, barrier, referral_id, "place_now", user_id, outcomes))
                 for referral_id, user_id in pairs])

    assert outcomes.failures == [], "\n".join(outcomes.failures)
    assert (outcomes.won["place_now"], outcomes.lost["place_now"]) == (RACES, RACES)
    assert statuses(ids) == Counter({"emergency_placed": RACES})
    assert_each_referral_moved_once_and_the_pool_agrees(pool_id, ids, {"emergency_placed"})


def test_place_now_racing_expire_holds_places_or_expires_each_referral_never_both(app, database_url, cast):
    referrals = emergencies(cast)
    staff_id = cast["pool staff"].id
    deadline = max(r.hold_until for r in referrals)
    ids, pool_id = [r.id for r in referrals], cast.pool.id
    idle()
    outcomes = Outcomes()
    clock.freeze(deadline - timedelta(minutes=1))  # the staff still see a live hold...

    with servers(database_url) as server:
        barrier = threading.Barrier(RACES + 1, timeout=60)
        threads = [threading.Thread(target=press, args=(server, barrier, referral_id, "place_now", staff_id,
                                                        outcomes)) for referral_id in ids]
        # ...while expire-holds on another server, its clock a little ahead, finds them overdue
        threads.append(threading.Thread(target=expire_at, args=(server, barrier, deadline + timedelta(minutes=1),
                                                                outcomes)))
        run_all(threads)

    assert outcomes.failures == [], "\n".join(outcomes.failures)
    assert outcomes.won["place_now"] + outcomes.won["expire"] == RACES
    assert outcomes.lost["place_now"] == outcomes.won["expire"]
    assert statuses(ids) == Counter({"emergency_placed": outcomes.won["place_now"],
                                           "expired": outcomes.won["expire"]}) - Counter()
    assert_each_referral_moved_once_and_the_pool_agrees(pool_id, ids, {"emergency_placed", "expired"})
