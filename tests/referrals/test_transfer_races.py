"""Transfers racing what else may happen to the child at the same instant, each side through
a database connection of its own, as on two servers (see test_no_double_booking.py): the
old shelter discharging the child while the new one records the arrival, and several
caseworkers starting a transfer of the same child at once. Whoever loses is told why,
nothing of theirs is kept, and no bed is ever counted twice."""
import threading
import traceback

from sqlalchemy import select

from coordination import clock
from coordination.accounts.models import User
from coordination.beds.models import BedPool
from coordination.errors import DomainError
from coordination.extensions import db
from coordination.referrals import services, transfers
from coordination.referrals.models import Referral

from ..conftest import _acting
from .referral_cast import T0, Cast, person
from .test_after_placement import Elsewhere, start
from .test_no_double_booking import Outcomes, run_all, servers

ROUNDS = 4
TRANSFERRERS = 6


def in_own_session(app, barrier, name: str, outcomes: Outcomes, act) -> None:
    """Wait for the others, then `act()` and commit; a refusal is rolled back and noted."""
    try:
        with app.app_context():
            barrier.wait()  # before the first statement: on SQLite it takes the write lock
            try:
                act()
                db.session.commit()
            except DomainError as refusal:
                db.session.rollback()
                outcomes.add("refused", (name, refusal.message))
            else:
                outcomes.add("held", name)
            db.session.remove()
    except Exception:  # noqa: BLE001 - every other outcome is a failure the test reports
        outcomes.add("failures", f"{name}:\n{traceback.format_exc()}")


def as_user(user_id: int, do):
    """What one person does, in the session of the thread that runs it."""
    def act():
        user = db.session.get(User, user_id)
        with _acting(user):
            do(user)
    return act


def counts(pool_id: int) -> tuple[int, int]:
    pool = db.session.get(BedPool, pool_id, populate_existing=True)
    return pool.held, pool.occupied


def test_a_discharge_and_the_transfers_arrival_at_the_same_instant_never_both_win(app, database_url, make):
    clock.freeze(T0)
    cast = Cast(make, capacity=ROUNDS)
    elsewhere = Elsewhere(make, capacity=ROUNDS)
    old_staff = cast["pool staff"]
    pairs = []
    for _ in range(ROUNDS):
        placement = cast.referral("placed")
        transfer = elsewhere.take(start(cast, placement, elsewhere.pool), "accept", "approve")
        pairs.append((placement.id, transfer.id))
    old_staff_id, new_staff_id, old_pool_id, new_pool_id = old_staff.id, elsewhere.staff.id, cast.pool.id, \
        elsewhere.pool.id
    db.session.commit()  # the test's own session holds nothing (no lock) while the threads run
    outcomes = Outcomes()

    with servers(database_url) as server:
        for placement_id, transfer_id in pairs:
            barrier = threading.Barrier(2, timeout=60)
            discharge = as_user(old_staff_id, lambda user, i=placement_id: services.move(
                db.session.get(Referral, i), "discharge", user, reason_code="missing", reason_text="Gone at night."))
            arrive = as_user(new_staff_id, lambda user, i=transfer_id: services.move(
                db.session.get(Referral, i), "place", user))
            run_all([threading.Thread(target=in_own_session, args=(server, barrier, name, outcomes, act))
                     for name, act in ((f"discharge-{placement_id}", discharge), (f"arrive-{transfer_id}", arrive))])

    assert outcomes.failures == [], "\n".join(outcomes.failures)
    assert len(outcomes.held) == ROUNDS and len(outcomes.refused) == ROUNDS  # one winner a round
    db.session.expire_all()
    arrivals = 0
    for placement_id, transfer_id in pairs:
        placement, transfer = db.session.get(Referral, placement_id), db.session.get(Referral, transfer_id)
        assert placement.status == "discharged"
        if f"arrive-{transfer_id}" in outcomes.held:
            arrivals += 1
            assert (placement.reason_code, transfer.status, transfer.holds_bed) == ("transferred", "placed", False)
        else:
            # the discharge won: the transfer in progress was withdrawn with it, its bed freed
            assert (placement.reason_code, transfer.status, transfer.holds_bed) == ("missing", "withdrawn", False)
    assert counts(old_pool_id) == (0, 0)  # every old bed freed once, whoever won
    assert counts(new_pool_id) == (0, arrivals)
    assert services.integrity_problems() == []


def test_several_transfers_of_one_child_at_once_hold_exactly_one_bed(app, database_url, make):
    clock.freeze(T0)
    cast = Cast(make)
    placement = cast.referral("placed")
    caseworker_ids = [cast.caseworker.id] + [person("caseworker", cast.referring_org).id
                                             for _ in range(TRANSFERRERS - 1)]
    pools = [Elsewhere(make).pool.id for _ in range(TRANSFERRERS)]
    placement_id, old_pool_id = placement.id, cast.pool.id
    db.session.commit()  # the test's own session holds nothing (no lock) while the threads run
    outcomes = Outcomes()

    with servers(database_url) as server:
        barrier = threading.Barrier(TRANSFERRERS, timeout=60)
        threads = []
        for caseworker_id, pool_id in zip(caseworker_ids, pools):
            act = as_user(caseworker_id, lambda user, p=pool_id: transfers.start_transfer(
                user, db.session.get(Referral, placement_id), db.session.get(BedPool, p), "urgent", ""))
            threads.append(threading.Thread(target=in_own_session,
                                            args=(server, barrier, f"transfer-to-{pool_id}", outcomes, act)))
        run_all(threads)

    assert outcomes.failures == [], "\n".join(outcomes.failures)
    assert len(outcomes.held) == 1 and len(outcomes.refused) == TRANSFERRERS - 1
    assert all("already" in message for _name, message in outcomes.refused), outcomes.refused
    db.session.expire_all()
    live = db.session.scalars(select(Referral).where(Referral.transfer_of_id == placement_id)).all()
    assert [(t.status, t.holds_bed) for t in live] == [("submitted", True)]
    assert sum(counts(pool_id)[0] for pool_id in pools) == 1
    assert db.session.get(Referral, placement_id).status == "placed"
    assert counts(old_pool_id) == (0, 1)
    assert services.integrity_problems() == []

