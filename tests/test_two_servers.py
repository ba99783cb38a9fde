"""Several servers, one truth: two app servers (gunicorn, as deployed, two workers each) on
two loopback ports, against the suite's one database (PostgreSQL in CI's second run). A bed
change made through one is seen through the other on the next request; 32 submissions spread
over both hold exactly the free beds; expire-holds run from both at once expires each hold
once."""
import re
import subprocess
import threading
from datetime import timedelta
from urllib.parse import urlencode

import pytest
from sqlalchemy import func, select, update

from coordination import clock
from coordination.audit.models import AuditEvent
from coordination.beds.models import BedPool
from coordination.extensions import db
from coordination.referrals.models import Referral, ReferralEvent

from .conftest import AUDIT_KEY, PASSWORD
from .test_serving import BIN, ROOT, _environment, _free_port, _gunicorn, _request, _wait_until_up

CSRF = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')


class Browser:
    """One person's browser on one server: a session cookie and the form token."""

    def __init__(self, port: int):
        self.port, self.cookie, self.token = port, "", ""

    def _headers(self, extra: dict | None = None) -> dict:
        return {"Cookie": self.cookie, "Accept-Language": "en", **(extra or {})}

    def get(self, path: str) -> tuple[int, str]:
        status, cookie, page = _request(self.port, "GET", path, headers=self._headers())
        self._remember(cookie, page)
        return status, page

    def post(self, path: str, fields: dict) -> tuple[int, str]:
        status, cookie, page = _request(self.port, "POST", path, urlencode({**fields, "csrf_token": self.token}),
                                        self._headers({"Content-Type": "application/x-www-form-urlencoded"}))
        self._remember(cookie, page)
        return status, page

    def _remember(self, cookie: str, page: str) -> None:
        if cookie:
            self.cookie = cookie.split(";")[0]
        token = CSRF.search(page)
        if token:
            self.token = token.group(1)

    def sign_in(self, email: str) -> "Browser":
        self.get("/login")
        status, _ = self.post("/login", {"email": email, "password": PASSWORD})
        assert status == 303, f"{email} could not sign in ({status})"
        self.get("/")  # a page of the signed-in session, for its form token
        return self


@pytest.fixture(scope="module")
def servers(database_url, tmp_path_factory):
    """Two servers on the test database, for this module's tests (between requests they hold
    no transaction, so each test's tables are emptied as usual)."""
    env = _environment(tmp_path_factory.mktemp("servers"), DATABASE_URL=database_url, AUDIT_KEY=AUDIT_KEY, LOGIN_RATE_LIMIT="1000 per minute")
    ports = [_free_port(), _free_port()]
    running = [_gunicorn(env, port, workers=2) for port in ports]
    try:
        for server, port in zip(running, ports):
            _wait_until_up(server, port)
        yield ports, env
    finally:
        for server in running:
            server.terminate()
        for server in running:
            server.communicate(timeout=30)


def let_go() -> None:
    """Commit, and hold no transaction (on SQLite, no write lock) while the servers work: the
    test reads nothing more until they are done."""
    db.session.commit()
    db.session.close()


def free_on_board(browser: Browser, pool_id: int) -> int:
    status, page = browser.get("/beds?region=")  # all regions
    assert status == 200
    row = re.search(rf'<tr id="board-pool-{pool_id}".*?data-free="(\d+)"', page, re.S)
    return int(row.group(1))


def test_a_bed_change_through_one_server_is_seen_through_the_other(make, servers):
    (first, second), _ = servers
    pool = make.pool(capacity=6, occupied=1)
    staff = make.user("shelter_staff", organization=pool.shelter.organization)
    caseworker = make.user("caseworker")
    pool_id, shelter_id, staff_email, caseworker_email = pool.id, pool.shelter_id, staff.email, caseworker.email
    let_go()
    watcher = Browser(second).sign_in(caseworker_email)
    assert free_on_board(watcher, pool_id) == 5

    keeper = Browser(first).sign_in(staff_email)
    status, page = keeper.get(f"/shelters/{shelter_id}")
    version = re.search(rf'pools/{pool_id}/adjust".*?name="version" value="(\d+)"', page, re.S).group(1)
    status, _ = keeper.post(f"/shelters/{shelter_id}/pools/{pool_id}/adjust",
                            {"field": "occupied", "delta": "1", "version": version})
    assert status in (200, 303)

    assert free_on_board(watcher, pool_id) == 4


def test_32_submissions_spread_over_two_servers_hold_exactly_the_free_beds(make, servers):
    (first, second), _ = servers
    pool = make.pool(capacity=7, occupied=2)  # five free beds
    caseworker = make.user("caseworker")
    drafts = [make.referral(pool=pool, child=make.child(registered_by=caseworker), caseworker=caseworker).id
              for _ in range(32)]
    pool_id, email = pool.id, caseworker.email
    let_go()
    browsers = [Browser(first).sign_in(email), Browser(second).sign_in(email)]
    answers: dict[int, int] = {}
    start = threading.Barrier(len(drafts))

    def submit(index: int, referral_id: int) -> None:
        browser = browsers[index % 2]
        start.wait()
        answers[referral_id] = browser.post(f"/referrals/{referral_id}/submit", {})[0]

    threads = [threading.Thread(target=submit, args=pair) for pair in enumerate(drafts)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)

    assert len(answers) == 32 and set(answers.values()) <= {303, 409}, answers  # a bed, or a clear refusal
    db.session.expire_all()
    holding = db.session.scalars(select(Referral.id).where(Referral.holds_bed.is_(True))).all()
    assert len(holding) == 5 and db.session.get(BedPool, pool_id).held == 5
    assert sum(status == 303 for status in answers.values()) == 5  # the five who got a bed were told so


def test_expire_holds_from_both_servers_at_once_expires_each_hold_once(make, servers):
    _, env = servers
    pool = make.pool(capacity=10)
    caseworker = make.user("caseworker")
    held = [make.referral(pool=pool, child=make.child(registered_by=caseworker), caseworker=caseworker,
                          status="submitted").id for _ in range(6)]
    pool_id = pool.id
    db.session.execute(update(Referral).where(Referral.id.in_(held))
                       .values(hold_until=clock.now() - timedelta(minutes=5)))
    let_go()

    runs = [subprocess.Popen([str(BIN / "flask"), "--app", "app", "expire-holds"], cwd=ROOT, env=env,
                             stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True) for _ in range(2)]
    outputs = [run.communicate(timeout=120)[0] for run in runs]
    assert [run.returncode for run in runs] == [0, 0], outputs

    db.session.expire_all()
    expired_events = db.session.execute(
        select(ReferralEvent.referral_id, func.count()).where(ReferralEvent.to_status == "expired")
        .group_by(ReferralEvent.referral_id)).all()
    assert dict(expired_events) == {referral_id: 1 for referral_id in held}
    assert db.session.scalar(select(func.count()).select_from(AuditEvent)
                             .where(AuditEvent.action == "referral.expired")) == 6
    assert db.session.get(BedPool, pool_id).held == 0
