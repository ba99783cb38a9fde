"""No bed is ever promised twice: many caseworkers submitting to the last free beds at the
same instant, each through a database connection of their own, as on several servers.

Each thread pushes its own application context, so it gets its own session and its own
connection from an engine big enough for all of them; a barrier lets them go together.
"""
import random
import threading
import traceback
from contextlib import contextmanager

from sqlalchemy import func, select

from coordination.accounts.models import User
from coordination import availability
from coordination.beds import operations as beds
from coordination.beds.services import STAFF_COUNTS
from coordination.beds.models import BedPool, BedUpdate
from coordination.errors import Conflict, InvalidInput, NoBedAvailable
from coordination.extensions import db
from coordination.referrals import services
from coordination.referrals.models import Referral

from ..conftest import _acting, make_app

SUBMITTERS = 32
FREE_BEDS = 3
STAFF_THREADS = 4
STAFF_CHANGES = 12  # successful or refused changes each staff thread makes
JOIN_SECONDS = 240


@contextmanager
def servers(database_url):
    """A second app on the test database whose engine lets every thread hold a connection
    at once (the default pool would make them queue for one, not race)."""
    options = {"pool_size": SUBMITTERS + STAFF_THREADS + 4, "max_overflow": 0, "pool_timeout": 60}
    if database_url.startswith("sqlite"):
        options["connect_args"] = {"timeout": 30}
    other = make_app(database_url, SQLALCHEMY_ENGINE_OPTIONS=options)
    try:
        yield other
    finally:
        with other.app_context():
            db.engine.dispose()


class Outcomes:
    """What each thread saw, gathered under a lock."""

    def __init__(self):
        self.lock = threading.Lock()
        self.held = []       # referral ids that got a bed
        self.refused = []    # referral ids that were told no bed is free
        self.failures = []   # anything else: the test fails and shows them
        self.staff_saved = 0
        self.staff_refused = 0

    def add(self, name: str, value) -> None:
        with self.lock:
            getattr(self, name).append(value)


def submit_in_own_session(app, barrier, referral_id: int, user_id: int, outcomes: Outcomes) -> None:
    """One caseworker pressing "Submit" on one server."""
    try:
        with app.app_context():
            # Wait before touching the database: on SQLite the first statement takes the
            # write lock (BEGIN IMMEDIATE), and a thread holding it must not sit at the barrier.
            barrier.wait()
            referral = db.session.get(Referral, referral_id)
            user = db.session.get(User, user_id)
            with _acting(user):
                try:
                    services.move(referral, "submit", user)
                    db.session.commit()
                except NoBedAvailable:
                    db.session.rollback()
                    outcomes.add("refused", referral_id)
                else:
                    outcomes.add("held", referral_id)
            db.session.remove()
    except Exception:  # noqa: BLE001 - every other outcome is a failure the test reports
        outcomes.add("failures", f"referral {referral_id}:\n{traceback.format_exc()}")


def change_counts_in_own_session(app, barrier, pool_id: int, user_id: int, seed: int, outcomes: Outcomes) -> None:
    """A shelter worker editing the pool's counts again and again, each time from the
    version just read, as the page would; a conflict means reading afresh and trying again."""
    chooser = random.Random(seed)
    try:
        with app.app_context():
            barrier.wait()
            user = db.session.get(User, user_id)
            done = 0
            while done < STAFF_CHANGES:
                pool = availability.load_pool(pool_id)
                with _acting(user):
                    try:
                        if chooser.random() < 0.5:
                            field = chooser.choice(STAFF_COUNTS)
                            beds.adjust_count(pool, user, field, chooser.choice((-1, 1)), pool.version)
                        else:
                            beds.set_counts(pool, user, occupied=chooser.randint(0, 3),
                                            out_of_service=chooser.randint(0, 2),
                                            out_of_service_reason="broken frame", expected_version=pool.version)
                        db.session.commit()
                    except Conflict:
                        db.session.rollback()
                        continue  # someone else saved first: read the new version, try again
                    except InvalidInput:
                        db.session.rollback()
                        with outcomes.lock:
                            outcomes.staff_refused += 1
                    else:
                        with outcomes.lock:
                            outcomes.staff_saved += 1
                done += 1
            db.session.remove()
    except Exception:  # noqa: BLE001
        outcomes.add("failures", f"staff {user_id}:\n{traceback.format_exc()}")


def drafts_to_one_pool(make, pool, count: int) -> list[tuple[int, int]]:
    """`count` committed drafts to `pool`, each for a different child of one organization,
    shared among a few of its caseworkers; returns (referral id, caseworker id) pairs."""
    organization = make.organization()
    caseworkers = [make.user("caseworker", organization=organization) for _ in range(4)]
    pairs = []
    for i in range(count):
        caseworker = caseworkers[i % len(caseworkers)]
        referral = make.referral(pool=pool, child=make.child(registered_by=caseworker))
        pairs.append((referral.id, caseworker.id))
    return pairs


def run_all(threads) -> None:
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(JOIN_SECONDS)
    stuck = [t.name for t in threads if t.is_alive()]
    assert not stuck, f"threads still running after {JOIN_SECONDS}s: {stuck}"


def referral_statuses(ids) -> dict[str, int]:
    rows = db.session.execute(select(Referral.status, func.count()).where(Referral.id.in_(ids))
                              .group_by(Referral.status)).all()
    return dict(rows)


def assert_fits(pool: BedPool) -> None:
    assert min(pool.occupied, pool.out_of_service, pool.held) >= 0
    assert pool.occupied + pool.out_of_service + pool.held <= pool.capacity


def test_thirty_two_simultaneous_submissions_to_three_free_beds_hold_exactly_three(app, database_url, make):
    # Three beds free out of five: one is occupied and one is out of service.
    pool = make.pool(capacity=5, occupied=1, out_of_service=1)
    pool_id = pool.id
    drafts = drafts_to_one_pool(make, pool, SUBMITTERS)
    db.session.commit()  # the test's own session holds nothing while the threads run
    outcomes = Outcomes()

    with servers(database_url) as server:
        barrier = threading.Barrier(SUBMITTERS, timeout=60)
        run_all([threading.Thread(target=submit_in_own_session, name=f"submit-{referral_id}",
                                  args=(server, barrier, referral_id, user_id, outcomes))
                 for referral_id, user_id in drafts])

    assert outcomes.failures == [], "\n".join(outcomes.failures)
    assert len(outcomes.held) == FREE_BEDS
    assert len(outcomes.refused) == SUBMITTERS - FREE_BEDS
    db.session.expire_all()
    pool = db.session.get(BedPool, pool_id)
    assert (pool.capacity, pool.occupied, pool.out_of_service, pool.held) == (5, 1, 1, FREE_BEDS)
    assert_fits(pool)
    assert referral_statuses(outcomes.held) == {"submitted": FREE_BEDS}
    assert referral_statuses(outcomes.refused) == {"draft": SUBMITTERS - FREE_BEDS}
    refused = db.session.scalars(select(Referral).where(Referral.id.in_(outcomes.refused))).all()
    assert not any(r.holds_bed or r.submitted_at for r in refused)
    assert services.integrity_problems() == []


def test_submissions_racing_staff_count_edits_never_overfill_the_pool(app, database_url, make):
    pool = make.pool(capacity=5, occupied=1, out_of_service=1)
    pool_id = pool.id
    staff_ids = [make.user("shelter_staff", organization=pool.shelter.organization).id
                 for _ in range(STAFF_THREADS)]
    drafts = drafts_to_one_pool(make, pool, SUBMITTERS)
    db.session.commit()
    outcomes = Outcomes()

    with servers(database_url) as server:
        barrier = threading.Barrier(SUBMITTERS + STAFF_THREADS, timeout=60)
        threads = [threading.Thread(target=submit_in_own_session, name=f"submit-{referral_id}",
                                    args=(server, barrier, referral_id, user_id, outcomes))
                   for referral_id, user_id in drafts]
        threads += [threading.Thread(target=change_counts_in_own_session, name=f"staff-{user_id}",
                                     args=(server, barrier, pool_id, user_id, seed, outcomes))
                    for seed, user_id in enumerate(staff_ids)]
        run_all(threads)

    assert outcomes.failures == [], "\n".join(outcomes.failures)
    assert len(outcomes.held) + len(outcomes.refused) == SUBMITTERS
    assert outcomes.staff_saved + outcomes.staff_refused == STAFF_THREADS * STAFF_CHANGES
    assert outcomes.staff_saved > 0
    db.session.expire_all()
    pool = db.session.get(BedPool, pool_id)
    assert_fits(pool)
    assert pool.held == len(outcomes.held)
    assert referral_statuses(outcomes.held) == ({"submitted": len(outcomes.held)} if outcomes.held else {})
    assert referral_statuses(outcomes.refused) == {"draft": len(outcomes.refused)}
    # Every committed change left its counts in the history: none of them overfilled the pool.
    history = db.session.scalars(select(BedUpdate).where(BedUpdate.pool_id == pool_id)).all()
    assert len(history) == outcomes.staff_saved
    for update in history:
        assert update.occupied + update.out_of_service + update.held <= update.capacity, update
    assert services.integrity_problems() == []
