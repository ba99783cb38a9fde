"""One lock order for every transaction (coordination/transactions.py), proven by making
two transactions meet at the worst moment; and the safety net behind it, proven with a
real deadlock on PostgreSQL.

How the meeting is forced: the first transaction runs until just before a chosen
statement and waits there until the second has either finished or is stuck waiting for a
lock the first holds (PostgreSQL's pg_stat_activity tells which). Then the first goes on.
Had the two taken their locks in opposite orders, PostgreSQL would now find a deadlock
and abort one of them; in one order, both commit. On SQLite a transaction takes the
whole database's lock when it begins, so the second simply waits for the first."""
import logging
import os
import threading
import time
import traceback
from contextlib import contextmanager
from datetime import date, timedelta

import pytest
from sqlalchemy import create_engine, event, select, text, update

from coordination import clock
from coordination.accounts.models import User
from coordination.audit.models import AuditEvent
from coordination.audit.services import verify_chain
from coordination import availability
from coordination.beds import operations as beds
from coordination.beds.models import BedPool
from coordination.extensions import db
from coordination.referrals import services
from coordination.referrals.models import Referral, ReferralEvent

from .conftest import _acting, make_app

WAIT_SECONDS = 20


def on_postgresql(url: str) -> bool:
    return url.startswith("postgresql")


@contextmanager
def server(database_url):
    """A second app on the test database, its engine big enough for both transactions."""
    other = make_app(database_url, SQLALCHEMY_ENGINE_OPTIONS={"pool_size": 4, "max_overflow": 0})
    try:
        yield other
    finally:
        with other.app_context():
            db.engine.dispose()


class Meeting:
    """Holds `first` just before its `nth` statement that starts with `statement`, until
    `second` is done or waits for a lock; then lets it go on."""

    def __init__(self, database_url: str, statement: str, nth: int = 1):
        self.url = database_url
        self.statement, self.nth, self.seen = statement.upper(), nth, 0
        self.first_waiting = threading.Event()
        self.second_done = threading.Event()
        self.second_pid = None
        self.failures = []

    def hook(self, conn, cursor, statement, parameters, context, executemany):
        if threading.current_thread().name != "first" or not statement.lstrip().upper().startswith(self.statement):
            return
        self.seen += 1
        if self.seen != self.nth:
            return
        self.first_waiting.set()
        self._until_second_waits_or_is_done()

    def _until_second_waits_or_is_done(self) -> None:
        deadline = time.monotonic() + WAIT_SECONDS
        if not on_postgresql(self.url):
            # SQLite: the second is blocked at its BEGIN IMMEDIATE, which nothing can see.
            self.second_done.wait(0.5)
            return
        watcher = create_engine(self.url)
        try:
            with watcher.connect() as conn:
                while time.monotonic() < deadline and not self.second_done.is_set():
                    if self.second_pid is not None and conn.execute(
                            text("SELECT wait_event_type FROM pg_stat_activity WHERE pid = :pid"),
                            {"pid": self.second_pid}).scalar() == "Lock":
                        return
                    conn.rollback()
                    time.sleep(0.02)
        finally:
            watcher.dispose()

    def run(self, app, first, second) -> None:
        """Run first(), and second() once the first is held; both in sessions of their own."""
        with app.app_context():
            event.listen(db.engine, "before_cursor_execute", self.hook)
        try:
            one = threading.Thread(target=self._in_session, args=(app, first, None), name="first")
            one.start()
            assert self.first_waiting.wait(WAIT_SECONDS), "the first transaction never reached its statement"
            two = threading.Thread(target=self._in_session, args=(app, second, self.second_done), name="second")
            two.start()
            for thread in (one, two):
                thread.join(WAIT_SECONDS * 3)
            assert not one.is_alive() and not two.is_alive(), "a transaction is still running"
        finally:
            with app.app_context():
                event.remove(db.engine, "before_cursor_execute", self.hook)

    def _in_session(self, app, work, done) -> None:
        try:
            with app.app_context():
                if done is not None and on_postgresql(self.url):
                    self.second_pid = db.session.scalar(text("SELECT pg_backend_pid()"))
                work()
                db.session.commit()
                db.session.remove()
        except Exception:  # noqa: BLE001 - the test fails and shows it
            self.failures.append(f"{threading.current_thread().name}:\n{traceback.format_exc()}")
        finally:
            if done is not None:
                done.set()


def acting(user_id: int, step):
    """`step(user)` as that user, reading the user in the transaction's own session."""
    def work():
        user = db.session.get(User, user_id)
        with _acting(user):
            step(user)
    return work


def test_a_draft_sent_to_another_pool_and_a_withdrawal_there_both_go_through(app, database_url, make):
    # Re-pointing records its audit event before the submission holds a bed in the new pool;
    # a withdrawal from that pool releases its bed before recording. Audit appended at commit,
    # after every row lock, keeps the two from waiting on each other.
    pool = make.pool(capacity=5)
    withdrawn = make.referral(pool=pool, status="submitted")
    draft = make.referral(pool=make.pool(capacity=5, shelter=pool.shelter))
    ids = {"pool": pool.id, "draft": draft.id, "withdrawn": withdrawn.id,
           "caseworker": draft.caseworker_id, "other": withdrawn.caseworker_id}
    db.session.commit()

    def repoint_and_submit(user):
        referral = db.session.get(Referral, ids["draft"])
        services.repoint_draft(referral, db.session.get(BedPool, ids["pool"]), user)
        services.move(referral, "submit", user)

    def withdraw(user):
        services.move(db.session.get(Referral, ids["withdrawn"]), "withdraw", user, reason_text="found family")

    meeting = Meeting(database_url, "UPDATE bed_pool")
    with server(database_url) as other:
        meeting.run(other, acting(ids["caseworker"], repoint_and_submit), acting(ids["other"], withdraw))

    assert meeting.failures == [], "\n".join(meeting.failures)
    db.session.expire_all()
    assert db.session.get(Referral, ids["draft"]).status == "submitted"
    assert db.session.get(Referral, ids["withdrawn"]).status == "withdrawn"
    assert db.session.get(BedPool, ids["pool"]).held == 1
    assert services.integrity_problems() == []
    assert verify_chain() == []


def test_expiring_holds_in_two_pools_beside_a_count_change_both_go_through(app, database_url, make):
    # One run of expire-holds closes holds in two pools while staff change the second pool's
    # counts (which first expires that pool's overdue holds itself).
    shelter = make.shelter()
    first_pool, second_pool = make.pool(shelter=shelter), make.pool(shelter=shelter)
    first = make.referral(pool=first_pool, status="submitted")
    second = make.referral(pool=second_pool, status="submitted")
    staff = make.user("shelter_staff", organization=shelter.organization)
    db.session.execute(update(Referral).where(Referral.id.in_((first.id, second.id)))
                       .values(hold_until=clock.now() - timedelta(minutes=1)))
    ids = {"first": first.id, "second": second.id, "pool": second_pool.id, "staff": staff.id,
           "version": second_pool.version}
    db.session.commit()

    def expire_holds():
        services.expire_overdue_holds()

    def one_more_occupied(user):
        pool = availability.load_pool(ids["pool"])
        beds.adjust_count(pool, user, "occupied", 1, ids["version"])

    meeting = Meeting(database_url, "UPDATE referral", nth=2)  # before it closes the second hold
    with server(database_url) as other:
        meeting.run(other, expire_holds, acting(ids["staff"], one_more_occupied))

    assert meeting.failures == [], "\n".join(meeting.failures)
    db.session.expire_all()
    assert {db.session.get(Referral, i).status for i in (ids["first"], ids["second"])} == {"expired"}
    assert db.session.get(BedPool, ids["pool"]).occupied == 1
    # Each hold was closed once, by whichever got there first.
    closings = db.session.scalars(select(ReferralEvent).where(ReferralEvent.to_status == "expired")).all()
    assert sorted(e.referral_id for e in closings) == sorted((ids["first"], ids["second"]))
    assert services.integrity_problems() == []
    assert verify_chain() == []


def test_audit_events_of_a_step_rolled_back_are_never_written(app, make):
    referral = make.referral(status="submitted")
    staff = make.actor_for("accept", referral)
    before = db.session.scalar(select(db.func.count(AuditEvent.id)))
    with _acting(staff):
        services.move(referral, "accept", staff)
        db.session.rollback()
    assert db.session.scalar(select(db.func.count(AuditEvent.id))) == before
    with _acting(staff):
        services.move(db.session.get(Referral, referral.id), "accept", staff)
        db.session.commit()
    assert db.session.scalar(select(db.func.count(AuditEvent.id))) == before + 1
    assert verify_chain() == []


# --- the safety net: a real deadlock, on PostgreSQL ------------------------------------------

postgresql_only = pytest.mark.skipif(
    not os.environ.get("TEST_DATABASE_URL", "").startswith("postgresql"),
    reason="a deadlock needs PostgreSQL; SQLite takes the whole database's lock at BEGIN")


class Deadlock:
    """Another session that meets one request's transaction in a real deadlock: it holds the
    pool's row, waits until the request waits for that row, then asks for the referral's row
    the request already holds. PostgreSQL aborts the request (it has waited longest)."""

    def __init__(self, database_url: str, pool_id: int, referral_id: int):
        self.engine = create_engine(database_url)
        self.pool_id, self.referral_id = pool_id, referral_id

    def __enter__(self):
        self.conn = self.engine.connect()
        self.conn.execute(text("SET deadlock_timeout = '10s'"))  # so the request is the one aborted
        self.conn.execute(text("SELECT id FROM bed_pool WHERE id = :id FOR UPDATE"), {"id": self.pool_id})
        return self

    def close_the_circle(self) -> None:
        deadline = time.monotonic() + WAIT_SECONDS
        while time.monotonic() < deadline:
            waiting = self.conn.execute(text(  # for the row this session holds
                "SELECT count(*) FROM pg_stat_activity WHERE pg_backend_pid() = ANY(pg_blocking_pids(pid))"
            )).scalar()
            if waiting:
                break
            time.sleep(0.02)
        else:
            raise AssertionError("the request never waited for the pool")
        self.conn.execute(text("UPDATE referral SET note = note WHERE id = :id"), {"id": self.referral_id})

    def __exit__(self, *exc):
        self.conn.rollback()
        self.conn.close()
        self.engine.dispose()


def withdraw_in_background(app, client, referral_id: int) -> tuple[threading.Thread, dict]:
    answer = {}

    def withdraw():
        try:
            with app.app_context():
                answer["response"] = client.post(f"/referrals/{referral_id}/withdraw",
                                                 data={"reason_text": "family found"})
        except Exception:  # noqa: BLE001
            answer["error"] = traceback.format_exc()

    thread = threading.Thread(target=withdraw, name="request")
    return thread, answer


@postgresql_only
def test_a_request_aborted_as_a_deadlock_runs_again_whole_and_succeeds(app, database_url, make, login_as, caplog):
    referral = make.referral(status="submitted")
    caseworker = login_as(referral.caseworker)
    pool_id, referral_id = referral.pool_id, referral.id
    caseworker.csrf_token()
    db.session.commit()

    caplog.set_level(logging.WARNING, logger="coordination.transactions")
    with Deadlock(database_url, pool_id, referral_id) as deadlock:
        thread, answer = withdraw_in_background(app, caseworker, referral_id)
        thread.start()
        deadlock.close_the_circle()
    thread.join(WAIT_SECONDS)

    assert "error" not in answer, answer.get("error")
    assert answer["response"].status_code == 303
    assert "(deadlock), attempt 1 of 3" in caplog.text  # it really was aborted once, and ran again
    db.session.expire_all()
    assert db.session.get(Referral, referral_id).status == "withdrawn"
    assert db.session.get(BedPool, pool_id).held == 0
    withdrawals = db.session.scalars(select(AuditEvent).where(
        AuditEvent.action == "referral.withdrawn", AuditEvent.object_id == str(referral_id))).all()
    assert len(withdrawals) == 1  # the first attempt left nothing behind
    assert services.integrity_problems() == []
    assert verify_chain() == []


@postgresql_only
def test_a_request_aborted_every_time_says_try_again_and_changes_nothing(app, database_url, make, login_as,
                                                                        monkeypatch):
    monkeypatch.setitem(app.config, "TRANSACTION_ATTEMPTS", 1)
    referral = make.referral(status="submitted")
    caseworker = login_as(referral.caseworker)
    pool_id, referral_id = referral.pool_id, referral.id
    caseworker.csrf_token()
    db.session.commit()

    with Deadlock(database_url, pool_id, referral_id) as deadlock:
        thread, answer = withdraw_in_background(app, caseworker, referral_id)
        thread.start()
        deadlock.close_the_circle()
    thread.join(WAIT_SECONDS)

    assert "error" not in answer, answer.get("error")
    response = answer["response"]
    assert response.status_code == 409
    assert "try again" in response.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(Referral, referral_id).status == "submitted"
    assert db.session.get(BedPool, pool_id).held == 1


parallel_workers_are_postgresqls = pytest.mark.skipif(
    not os.environ.get("TEST_DATABASE_URL", "").startswith("postgresql"), reason="parallel query workers are PostgreSQL's")


@parallel_workers_are_postgresqls
def test_the_apps_postgresql_connections_start_no_parallel_workers(app):
    """A page's small indexed questions would wait longer for the workers to start than for
    the answer; every connection the app opens says so, a new one as well as the first."""
    assert db.session.execute(text("SHOW max_parallel_workers_per_gather")).scalar() == "0"
    db.session.remove()
    db.engine.dispose()
    assert db.session.execute(text("SHOW max_parallel_workers_per_gather")).scalar() == "0"


@parallel_workers_are_postgresqls
def test_the_reports_may_start_parallel_workers_for_their_own_transaction_only(app, make):
    """A whole country's history is what the workers are for; the next request's pages start none."""
    from coordination.reports.services import Filters, one_report

    server_default = db.session.execute(text("SELECT reset_val FROM pg_settings "
                                             "WHERE name = 'max_parallel_workers_per_gather'")).scalar()
    one_report("referrals", make.user("oversight"), Filters(day_from=date(2026, 1, 1), day_to=date(2026, 12, 31)))
    assert db.session.execute(text("SHOW max_parallel_workers_per_gather")).scalar() == server_default != "0"
    db.session.rollback()
    assert db.session.execute(text("SHOW max_parallel_workers_per_gather")).scalar() == "0"
