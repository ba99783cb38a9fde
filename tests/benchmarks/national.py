"""National-scale load: the app under gunicorn beside a bare Flask app (the floor), driven by
wrk on loopback. Prints numbers and how they compare with the floor; asserts nothing.

    .venv/bin/python -m tests.benchmarks.national                   # PostgreSQL, then SQLite
    .venv/bin/python -m tests.benchmarks.national --postgresql --seconds 10 --json national.json
    .venv/bin/python -m tests.benchmarks.national --sqlite

PostgreSQL (at 127.0.0.1:5432/test unless NATIONAL_DATABASE_URL or TEST_DATABASE_URL names
another), in a schema of its own that is dropped at the end. Seeded with bulk COPY in about a
minute: 120 regions (one region has 51 pools), 2,000 shelters with 6,000 pools, 422
organizations (200 run shelters, 100 refer children, a guardianship body in each region, the
ministry and the ombudsman's office) with people of every role, 50,000 children with 200,000
referrals in every state (each child at most one live referral, every pool's held and
occupied consistent with its referrals: `flask check-integrity` passes), their 816,000
referral events and 1,000,000 bed updates. Then two gunicorn servers start with the app's
gunicorn.conf.py and 2 workers each, in production mode (sessions, sign-in limits in Redis at
127.0.0.1:6379): the app, and the floor (tests/benchmarks/floor.py, one route answering "ok").

Each endpoint gets `--seconds` of wrk (Debian's /usr/bin/wrk) from a process of its own, with
a session cookie got by signing in over HTTP once per person, right after `--floor-seconds`
of wrk on the floor with as many connections (the machine is shared: what else runs on it
changes from one minute to the next, so each ratio compares numbers taken together):

- /healthz;
- the least a signed-in page costs here: the header's unread badge (/notifications/count,
  as its own refresh asks for it), the session, the person and one tiny count;
- a caseworker's bed board for one region (about 50 pools): the page, the same as the
  board's htmx poll (HX-Request: true, X-Poll: 1), and the poll again as a browser that has
  seen it sends it: with X-Board-Version, the version of the page it shows (the status codes
  it got are counted: 204 when nothing changed);
- the board of all regions (its first page of 100 pools), /referrals, /children and the
  work queue (/) of a caseworker, 8 connections each;
- a bed-count change: 32 shelter staff at once (wrk -t32 -c32, one connection per thread),
  each on a pool of their own, POST /shelters/<id>/pools/<id>/adjust as the +1/-1 buttons
  send it (htmx, with the CSRF token and the pool's version, read again from each answer),
  +1 and -1 on occupied in turn so counts stay in range. `check-integrity` and
  `verify-audit` run after it.

For each: requests per second, p50/p95/p99 in ms, answers that were not 2xx (and which), the
floor's requests per second and p99 beside it, and the ratio of the throughput to the floor's
and of the p99 to the floor's p99. The targets of issue 12 are shown as met or missed.

SQLite (`--sqlite`): the same places and people and referrals with 100,000 bed updates in a
file, the app with 2 workers; /healthz is timed by wrk over one connection while nothing else
runs, then while another request renders the first page of all regions' board over and over,
then while it renders /reports for an admin (the target: /healthz under 100 ms while another worker
renders the largest page).

Everything is bounded in time (the whole run takes a few minutes); servers, schema and files
go away at the end, also on Ctrl-C or an error. The servers' logs are kept (and their path
printed) when a server logged a traceback or answered 5xx, or with --keep-logs.
"""
import argparse
import html
import http.client
import json
import os
import random
import re
import secrets
import shutil
import signal
import socket
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from urllib.parse import quote, urlencode

from flask_migrate import upgrade
from sqlalchemy import text
from werkzeug.security import generate_password_hash

from coordination.extensions import db
from coordination.referrals.names import name_key

from ..conftest import AUDIT_KEY, CHEAP_HASH_METHOD, PASSWORD, _drop_schema, _own_schema, make_app

ROOT = Path(__file__).resolve().parents[2]
BIN = ROOT / ".venv" / "bin"
WRK = shutil.which("wrk") or "/usr/bin/wrk"
DEFAULT_DATABASE_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
DEFAULT_REDIS = "redis://127.0.0.1:6379"

# The country.
REGIONS, SHELTERS, SHELTER_ORGS, REFERRING_ORGS = 120, 2_000, 200, 100
CHILDREN, REFERRALS_PER_CHILD = 50_000, 4  # 200,000 referrals
BED_UPDATES, SQLITE_BED_UPDATES = 1_000_000, 100_000
HISTORY_DAYS = 3 * 365
# Each shelter's three pools: label, whom they admit, ages, and how many beds (range).
POOL_KINDS = (("Girls", "female", 6, 17, (6, 20)), ("Boys", "male", 6, 17, (6, 20)),
              ("Young children", "any", 0, 5, (3, 8)))
AGES = (1, 3, 6, 9, 11, 12, 13, 14, 14, 15, 15, 16, 16, 17)  # mostly teenagers, as in the field
# How a child's earlier referrals ended, and where the latest one stands (weights).
EARLIER = {"discharged": 35, "declined": 25, "withdrawn": 15, "expired": 15, "rejected": 7, "draft": 3}
LATEST = {"placed": 30, "submitted": 6, "accepted": 4, "approved": 3, "draft": 4, "discharged": 20,
          "declined": 12, "withdrawn": 8, "expired": 8, "rejected": 5}
HOLDING = ("submitted", "accepted", "approved")
# The path each status went along, from the draft.
PATHS = {
    "draft": ["draft"], "submitted": ["draft", "submitted"], "accepted": ["draft", "submitted", "accepted"],
    "approved": ["draft", "submitted", "accepted", "approved"],
    "placed": ["draft", "submitted", "accepted", "approved", "placed"],
    "discharged": ["draft", "submitted", "accepted", "approved", "placed", "discharged"],
    "declined": ["draft", "submitted", "declined"], "rejected": ["draft", "submitted", "accepted", "rejected"],
    "withdrawn": ["draft", "submitted", "withdrawn"], "expired": ["draft", "submitted", "expired"],
}
DECLINE_CODES = ("no_capacity", "not_eligible", "needs_not_met", "other")

# The load.
WRITERS = 32            # shelter staff changing counts at once, each on a pool of their own
READ_THREADS, READ_CONNECTIONS = 2, 8
WRK_TIMEOUT = "30s"     # gunicorn's worker timeout: a slower answer is a failure, not a sample
WARM_UP = 3             # requests to each endpoint before it is timed (and to check what it answers)
# Targets of issue 12, as ratios to the floor in the same run.
BOARD_THROUGHPUT_RATIO = 0.25
CHANGE_P99_RATIO, CHANGE_THROUGHPUT_RATIO = 10.0, 0.1
SQLITE_HEALTHZ_MS = 100.0


# --- the country, as rows --------------------------------------------------------------------

@dataclass
class Country:
    """Every row to insert (the big tables as generators), and who and what the load uses."""
    tables: list[tuple[str, list[str], object]] = field(default_factory=list)
    board_region: int = 0          # region with the most pools
    board_region_pools: int = 0
    caseworker: str = ""
    admin: str = ""
    writers: list[tuple[str, int, int]] = field(default_factory=list)  # (email, shelter id, pool id)
    counts: dict = field(default_factory=dict)
    referrals_by_status: dict = field(default_factory=dict)


def build_country(now: datetime, bed_updates: int, password_hash: str, seed: int = 2026) -> Country:
    """Rows for a whole country. `now` is naive UTC, as the database stores it."""
    rng = random.Random(seed)
    country = Country()
    start = now - timedelta(days=HISTORY_DAYS)
    add = lambda table, columns, rows: country.tables.append((table, columns, rows))  # noqa: E731

    add("region", ["id", "code", "name", "name_ru", "name_en"],
        [(r, f"NR{r:03d}", f"Milli region {r:03d}", f"Национальный регион {r:03d}", f"National region {r:03d}")
         for r in range(1, REGIONS + 1)])
    # Organizations: those running shelters, those referring children, a guardianship body in
    # every region, the ministry (admin) and the ombudsman's office (oversight).
    orgs = [(i, f"Shelter NGO {i:03d}", "ngo", (i - 1) % REGIONS + 1, True) for i in range(1, SHELTER_ORGS + 1)]
    referring = range(SHELTER_ORGS + 1, SHELTER_ORGS + REFERRING_ORGS + 1)
    orgs += [(i, f"Referring NGO {i:03d}", "ngo", (i - 1) % REGIONS + 1, True) for i in referring]
    guardian_org = {r: SHELTER_ORGS + REFERRING_ORGS + r for r in range(1, REGIONS + 1)}
    orgs += [(o, f"Guardianship body {r:03d}", "state", r, True) for r, o in guardian_org.items()]
    ministry, ombudsman = len(orgs) + 1, len(orgs) + 2
    orgs += [(ministry, "State Migration Service", "state", 1, True),
             (ombudsman, "Ombudsman's Office", "state", 1, True)]
    add("organization", ["id", "name", "kind", "region_id", "active", "changed_at"], [o + (start,) for o in orgs])

    users = []

    def user(email: str, name: str, role: str, org: int) -> int:
        users.append((len(users) + 1, email, name, role, org, password_hash, "en", True, start, False, 1))
        return len(users)

    staff_of = {o: user(f"staff{o:03d}@national.bench", f"Staff {o:03d}", "shelter_staff", o)
                for o in range(1, SHELTER_ORGS + 1)}
    caseworkers = {o: [user(f"caseworker{o:03d}-{k}@national.bench", f"Caseworker {o:03d}-{k}", "caseworker", o)
                       for k in (1, 2)] for o in referring}
    guardian_of = {r: user(f"guardian{r:03d}@national.bench", f"Guardian {r:03d}", "guardianship", o)
                   for r, o in guardian_org.items()}
    user("ombudsman@national.bench", "Ombudsman", "oversight", ombudsman)
    user("admin@national.bench", "Admin", "admin", ministry)
    add("user", ["id", "email", "name", "role", "organization_id", "password_hash", "locale", "active",
                 "created_at", "must_change_password", "session_version"], users)
    country.caseworker = f"caseworker{SHELTER_ORGS + 1:03d}-1@national.bench"
    country.admin = "admin@national.bench"

    shelters, pools = [], []
    capacity, region_of_pool, org_of_pool = {}, {}, {}
    for s in range(SHELTERS):
        shelter_id, org, region = s + 1, s % SHELTER_ORGS + 1, s % REGIONS + 1
        shelters.append((shelter_id, org, region, f"National shelter {shelter_id:04d}", f"{shelter_id} Bench Street",
                         f"+994 12 555 {shelter_id:04d}", "open", '["az", "ru"]', "[]", "[]", "", start))
        for k, (label, sex, low, high, beds) in enumerate(POOL_KINDS):
            pool_id = s * len(POOL_KINDS) + k + 1
            capacity[pool_id], region_of_pool[pool_id], org_of_pool[pool_id] = rng.randint(*beds), region, org
            pools.append([pool_id, shelter_id, label, sex, low, high])
    add("shelter", ["id", "organization_id", "region_id", "name", "address", "phone", "status", "languages",
                    "languages_unmapped", "services", "accessibility", "changed_at"], shelters)

    def pool_for(kind: int) -> int:
        return rng.randrange(SHELTERS) * len(POOL_KINDS) + kind + 1

    # Children, and their referrals: the earlier ones ended (or drafts left behind), the latest
    # in any state; a live one only where its pool still has a bed, so every count adds up.
    children, referrals = [], []
    placed, held, in_use = {}, {}, {}
    span = (HISTORY_DAYS - 20) * 86400
    for c in range(CHILDREN):
        child_id = c + 1
        org = SHELTER_ORGS + 1 + c % REFERRING_ORGS
        caseworker = caseworkers[org][(c // REFERRING_ORGS) % 2]
        age = rng.choice(AGES)
        sex = "female" if c % 2 == 0 else "male"
        kind = 2 if age <= 5 else (0 if sex == "female" else 1)
        created = start + timedelta(seconds=span * c / CHILDREN)
        given, family = f"Given{child_id}", f"Family{child_id}"
        children.append((child_id, f"UC-N-{child_id:06d}", org, caseworker, given, family, name_key(given, family),
                         sex, (now - timedelta(days=365 * age + rng.randrange(365))).date(), "", '["az"]', "[]",
                         "[]", c % REGIONS + 1, "Legal guardian", created, True, created))
        for j in range(REFERRALS_PER_CHILD):
            latest = j == REFERRALS_PER_CHILD - 1
            weights = LATEST if latest else EARLIER
            status = rng.choices(list(weights), list(weights.values()))[0]
            pool = pool_for(kind)
            if status in HOLDING or status == "placed":
                for _ in range(30):  # a pool with a bed left for it
                    if in_use.get(pool, 0) < capacity[pool]:
                        break
                    pool = pool_for(kind)
                else:
                    status = "withdrawn"
            if status in HOLDING or status == "placed":
                in_use[pool] = in_use.get(pool, 0) + 1
                (held if status in HOLDING else placed)[pool] = (held if status in HOLDING else placed).get(pool, 0) + 1
            if status in HOLDING:  # held now: sent in the last day or two, the hold still running
                at = now - timedelta(hours=rng.uniform(2, 40))
                hold_until = now + timedelta(hours=rng.uniform(8, 46))
            else:
                at = created + timedelta(days=3 * j, hours=rng.uniform(0, 48))
                hold_until = None
            referrals.append((len(referrals) + 1, child_id, pool, org, caseworker, status, at, hold_until,
                              rng.choice(("routine", "routine", "urgent", "emergency"))))

    def step_times(at: datetime, status: str, rid: int) -> dict[str, datetime]:
        """When each step of the referral's path happened."""
        times, t = {}, at
        for step, gap in zip(PATHS[status], (0, 1, 2 + rid % 30, 2 + rid % 50, 1 + rid % 40, 24 * (5 + rid % 200))):
            t = t + timedelta(hours=gap)
            times[step] = min(t, now - timedelta(minutes=1))
        return times

    def referral_rows():
        for rid, child_id, pool, org, caseworker, status, at, hold_until, urgency in referrals:
            times = step_times(at, status, rid)
            ended = times[status] if status in ("discharged", "declined", "rejected", "withdrawn", "expired") else None
            yield (rid, child_id, pool, org, caseworker, status, urgency if status in HOLDING + ("placed", "draft")
                   else "routine", "", status in HOLDING, hold_until, at, times[status], times.get("submitted"),
                   times.get("accepted"), times.get("approved"), times.get("placed"), ended,
                   DECLINE_CODES[rid % 4] if status == "declined" else "", "")

    def event_rows():
        eid = 0
        for rid, _child, pool, _org, caseworker, status, at, _hold, _urgency in referrals:
            previous = None
            for step, when in step_times(at, status, rid).items():
                eid += 1
                who = (caseworker if step in ("draft", "submitted", "withdrawn") else None if step == "expired"
                       else guardian_of[region_of_pool[pool]] if step in ("approved", "rejected")
                       else staff_of[org_of_pool[pool]])
                yield (eid, rid, previous, step, who, when, DECLINE_CODES[rid % 4] if step == "declined" else "", "")
                previous = step

    # The pools' counts: occupied is at least the children placed there, held exactly the
    # holds; a few beds occupied without a referral (placed before the system) or out of service.
    confirmed = {}
    for row in pools:
        pool_id = row[0]
        room = capacity[pool_id] - in_use.get(pool_id, 0)
        extra = min(room, rng.randint(0, 2))
        out = 1 if room - extra >= 1 and rng.random() < 0.1 else 0
        confirmed[pool_id] = now - timedelta(hours=rng.choice((1, 3, 6, 10, 20, 30, 60, 100)) * rng.random())
        row += [capacity[pool_id], placed.get(pool_id, 0) + extra, out, "Repairs" if out else "",
                held.get(pool_id, 0), confirmed[pool_id], 1 + rng.randrange(40), confirmed[pool_id]]
    add("bed_pool", ["id", "shelter_id", "label", "admits_sex", "min_age", "max_age", "capacity", "occupied",
                     "out_of_service", "out_of_service_reason", "held", "last_confirmed_at", "version", "changed_at"],
        pools)
    # Then what refers to the pools.
    add("child", ["id", "case_reference", "organization_id", "registered_by_id", "given_name", "family_name",
                  "name_key", "sex", "birth_date", "nationality", "languages", "languages_unmapped", "needs",
                  "region_id", "consent_given_by", "consent_given_at", "child_assent", "created_at"], children)
    add("referral", ["id", "child_id", "pool_id", "referring_organization_id", "caseworker_id", "status", "urgency",
                     "note", "holds_bed", "hold_until", "created_at", "status_changed_at", "submitted_at",
                     "accepted_at", "approved_at", "arrived_at", "ended_at", "reason_code", "reason_text"],
        referral_rows())
    add("referral_event", ["id", "referral_id", "from_status", "to_status", "user_id", "created_at", "reason_code",
                           "reason_text"], event_rows())

    def bed_update_rows():
        history = bed_updates - len(pools)
        for i in range(history):
            pool_id = rng.randrange(len(pools)) + 1
            beds = capacity[pool_id]
            occupied = rng.randint(0, beds)
            yield (i + 1, pool_id, staff_of[org_of_pool[pool_id]], start + timedelta(seconds=span * i / history),
                   beds, occupied, min(beds - occupied, rng.randrange(2)), 0, "")
        for k, row in enumerate(pools):  # each pool's last update: its counts now
            yield (history + k + 1, row[0], staff_of[org_of_pool[row[0]]], confirmed[row[0]], row[6], row[7], row[8],
                   row[10], "")
    add("bed_update", ["id", "pool_id", "user_id", "created_at", "capacity", "occupied", "out_of_service", "held",
                       "reason"], bed_update_rows())

    pools_in_region = {}
    for pool_id, region in region_of_pool.items():
        pools_in_region[region] = pools_in_region.get(region, 0) + 1
    country.board_region, country.board_region_pools = max(pools_in_region.items(), key=lambda kv: (kv[1], -kv[0]))
    # The writers: the staff of the first organizations, each on the pool of theirs with the
    # most free beds (so +1 always fits).
    for o in range(1, WRITERS + 1):
        theirs = [row for row in pools if org_of_pool[row[0]] == o]
        best = max(theirs, key=lambda row: row[6] - row[7] - row[8] - row[10])
        country.writers.append((f"staff{o:03d}@national.bench", best[1], best[0]))
    country.counts = {"regions": REGIONS, "organizations": len(orgs), "users": len(users), "shelters": SHELTERS,
                      "pools": len(pools), "children": CHILDREN, "referrals": len(referrals),
                      "bed_updates": bed_updates}
    by_status = {}
    for referral in referrals:
        by_status[referral[5]] = by_status.get(referral[5], 0) + 1
    country.referrals_by_status = dict(sorted(by_status.items(), key=lambda kv: -kv[1]))
    return country


# --- writing the rows ------------------------------------------------------------------------

# Each child's first bed, from the arrivals of their referrals (as the migration that added it).
FIRST_BEDS = ("UPDATE child SET reached_bed_at = (SELECT min(referral.arrived_at) FROM referral "
              "WHERE referral.child_id = child.id AND referral.arrived_at IS NOT NULL)")


def copy_into_postgresql(connection, country: Country) -> None:
    """COPY every table (the fastest way into PostgreSQL), then move the id sequences on."""
    raw = connection.connection.driver_connection
    with raw.cursor() as cursor:
        for table, columns, rows in country.tables:
            started, n = time.perf_counter(), 0
            names = ", ".join(f'"{c}"' for c in columns)
            with cursor.copy(f'COPY "{table}" ({names}) FROM STDIN') as copy:
                for row in rows:
                    copy.write_row(row)
                    n += 1
            cursor.execute(f"SELECT setval(pg_get_serial_sequence('\"{table}\"', 'id'), max(id)) FROM \"{table}\"")
            print(f"  {table:<15} {n:>9,} rows in {time.perf_counter() - started:5.1f} s", flush=True)
        cursor.execute(FIRST_BEDS)
        cursor.execute("ANALYZE")
    raw.commit()


def _sqlite_value(value):
    """What SQLAlchemy itself stores in SQLite for these types."""
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M:%S.%f")
    if isinstance(value, date):
        return value.isoformat()
    return value


def insert_into_sqlite(path: Path, country: Country) -> None:
    connection = sqlite3.connect(path)
    try:
        for table, columns, rows in country.tables:
            started, n = time.perf_counter(), 0
            names = ", ".join(f'"{c}"' for c in columns)
            statement = f'INSERT INTO "{table}" ({names}) VALUES ({", ".join("?" * len(columns))})'
            batch = []
            for row in rows:
                batch.append(tuple(_sqlite_value(v) for v in row))
                if len(batch) == 20_000:
                    connection.executemany(statement, batch)
                    n, batch = n + len(batch), []
            connection.executemany(statement, batch)
            n += len(batch)
            connection.commit()
            print(f"  {table:<15} {n:>9,} rows in {time.perf_counter() - started:5.1f} s", flush=True)
        connection.execute(FIRST_BEDS)
        connection.commit()
    finally:
        connection.close()


# --- servers ---------------------------------------------------------------------------------

def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    """gunicorn with the app's gunicorn.conf.py, 2 workers, on a free port of loopback."""

    def __init__(self, name: str, target: str, env: dict, log_dir: Path, workers: int = 2):
        self.name, self.target = name, target
        self.port = free_port()
        self.env = dict(env, BIND=f"127.0.0.1:{self.port}", WEB_CONCURRENCY=str(workers))
        self.log = log_dir / f"{name}.log"
        self.process: subprocess.Popen | None = None

    def start(self) -> None:
        with open(self.log, "wb") as output:
            self.process = subprocess.Popen([str(BIN / "gunicorn"), "-c", str(ROOT / "gunicorn.conf.py"), self.target],
                                            cwd=ROOT, env=self.env, stdout=output, stderr=subprocess.STDOUT,
                                            start_new_session=True)

    def wait_until_up(self, path: str, seconds: float = 60) -> None:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"{self.name} exited with {self.process.returncode}:\n{self.log_tail()}")
            try:
                if Browser(self.port).get(path).status == 200:
                    return
            except OSError:
                pass
            time.sleep(0.3)
        raise RuntimeError(f"{self.name} did not answer {path} within {seconds} s:\n{self.log_tail()}")

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        self.process.terminate()
        try:
            self.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait()

    def log_text(self) -> str:
        return self.log.read_text(errors="replace") if self.log.exists() else ""

    def log_tail(self, lines: int = 30) -> str:
        return "\n".join(self.log_text().splitlines()[-lines:])

    def trouble(self) -> dict:
        """Tracebacks, 5xx answers and killed workers in the log."""
        content = self.log_text()
        errors = [line for line in content.splitlines() if re.search(r'" 5\d\d ', line)]
        return {"tracebacks": content.count("Traceback (most recent call last)"),
                "worker_timeouts": content.count("WORKER TIMEOUT"), "server_errors_logged": len(errors),
                "samples": errors[:3]}


def server_env(database_url: str) -> dict:
    env = dict(os.environ)
    env.update({
        "DATABASE_URL": database_url,
        "SECRET_KEY": secrets.token_hex(32),
        "AUDIT_KEY": AUDIT_KEY,
        "COORDINATION_ENV": "production",
        # Every sign-in comes from 127.0.0.1; the limiter counts them in Redis, as in production.
        "LOGIN_RATE_LIMIT": "100000 per minute",
        "RATELIMIT_STORAGE_URI": os.environ.get("NATIONAL_REDIS_URL", DEFAULT_REDIS),
        "RATELIMIT_KEY_PREFIX": f"national-bench-{secrets.token_hex(4)}",
        "PYTHONUNBUFFERED": "1",
    })
    return env


def flask_command(env: dict, command: str, timeout: float = 300) -> tuple[int, str]:
    try:
        done = subprocess.run([str(BIN / "flask"), "--app", "app", command], cwd=ROOT, env=env, text=True,
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=timeout)
    except subprocess.TimeoutExpired:
        return -1, f"(killed after {timeout} s)"
    return done.returncode, done.stdout.strip().splitlines()[-1] if done.stdout.strip() else ""


# --- one person's HTTP, for signing in and looking ------------------------------------------

CSRF_INPUT = re.compile(r'name="csrf_token"(?: type="hidden")? value="([^"]+)"')


@dataclass
class Answer:
    status: int
    headers: http.client.HTTPMessage
    body: str
    seconds: float

    def csrf(self) -> str:
        found = CSRF_INPUT.search(self.body)
        return html.unescape(found.group(1)) if found else ""


class Browser:
    """Cookies kept by hand: in production the session cookie is Secure, which a cookie jar
    would not send over plain HTTP (there is no TLS on loopback)."""

    def __init__(self, port: int):
        self.port = port
        self.cookies: dict[str, str] = {}

    def cookie_header(self) -> str:
        return "; ".join(f"{name}={value}" for name, value in self.cookies.items())

    def request(self, method: str, path: str, fields: dict | None = None, headers: dict | None = None,
                timeout: float = 60) -> Answer:
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout)
        headers = dict(headers or {})
        if self.cookies:
            headers["Cookie"] = self.cookie_header()
        body = None
        if fields is not None:
            body = urlencode(fields)
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        started = time.perf_counter()
        try:
            connection.request(method, path, body=body, headers=headers)
            response = connection.getresponse()
            content = response.read().decode("utf-8", "replace")
        finally:
            connection.close()
        seconds = time.perf_counter() - started
        for cookie in response.headers.get_all("Set-Cookie") or []:
            name, _, rest = cookie.partition("=")
            value = rest.split(";", 1)[0]
            if value and "max-age=0" not in cookie.lower():
                self.cookies[name.strip()] = value
            else:
                self.cookies.pop(name.strip(), None)
        return Answer(response.status, response.headers, content, seconds)

    def get(self, path: str, headers: dict | None = None) -> Answer:
        return self.request("GET", path, headers=headers)

    def post(self, path: str, fields: dict, headers: dict | None = None) -> Answer:
        return self.request("POST", path, fields, headers)


def sign_in(port: int, email: str) -> Browser:
    browser = Browser(port)
    form = browser.get("/login")
    answer = browser.post("/login", {"email": email, "password": PASSWORD, "csrf_token": form.csrf(), "next": ""})
    location = answer.headers.get("Location", "")
    if answer.status not in (302, 303) or "/login" in location:
        raise RuntimeError(f"signing in {email} answered {answer.status} {location}: {answer.body[:300]}")
    return browser


# --- wrk ---------------------------------------------------------------------------------------

LUA_COUNT = """
local threads = {}
function setup(thread)
  table.insert(threads, thread)
  if setup_writer then setup_writer(thread, #threads) end
end
function init(args) statuses = {} end
function count(status) statuses[status] = (statuses[status] or 0) + 1 end
"""
LUA_GET_RESPONSE = "function response(status, headers, body) count(status) end\n"
LUA_DONE = """
function done(summary, latency, requests)
  local merged = {}
  for _, t in ipairs(threads) do
    for status, n in pairs(t:get("statuses")) do merged[status] = (merged[status] or 0) + n end
  end
  local parts = {}
  for status, n in pairs(merged) do table.insert(parts, string.format('"%d": %d', status, n)) end
  local e = summary.errors
  io.write(string.format('\\nBENCH-JSON {"requests": %d, "duration_us": %d, "statuses": {%s}, ' ..
    '"errors": {"connect": %d, "read": %d, "write": %d, "timeout": %d}, ' ..
    '"latency_us": {"p50": %d, "p95": %d, "p99": %d, "max": %d, "mean": %.1f}}\\n',
    summary.requests, summary.duration, table.concat(parts, ", "), e.connect, e.read, e.write, e.timeout,
    latency:percentile(50), latency:percentile(95), latency:percentile(99), latency.max, latency.mean))
end
"""
# The +1/-1 buttons: each thread (one connection) is one staff member on their own pool,
# sending what the row's form sends, and taking the pool's version from each answer.
LUA_WRITERS = """
function setup_writer(thread, n)
  local w = writers[n]
  thread:set("path", w.path)
  thread:set("cookie", w.cookie)
  thread:set("csrf", w.csrf)
  thread:set("version", w.version)
end
delta = 1
function request()
  local body = "csrf_token=" .. csrf .. "&version=" .. version .. "&field=occupied&delta=" .. delta
  return wrk.format("POST", path, {["Cookie"] = cookie, ["HX-Request"] = "true",
    ["Content-Type"] = "application/x-www-form-urlencoded"}, body)
end
function response(status, headers, body)
  count(status)
  local v = body:match('name="version" value="(%d+)"')
  if v then version = v end
  if status == 200 or status == 422 then delta = -delta end
end
"""


def lua_string(value: str) -> str:
    return json.dumps(value)  # a JSON string of ASCII is a Lua string literal too


def write_script(directory: Path, name: str, body: str) -> Path:
    path = directory / f"{name}.lua"
    path.write_text(LUA_COUNT + body + LUA_DONE)
    return path


def run_wrk(url: str, seconds: float, threads: int, connections: int, script: Path,
            headers: list[str] = ()) -> dict:
    command = [WRK, f"-t{threads}", f"-c{connections}", f"-d{seconds:g}s", "--timeout", WRK_TIMEOUT, "-s", str(script)]
    for header in headers:
        command += ["-H", header]
    done = subprocess.run(command + [url], capture_output=True, text=True, timeout=seconds + 90)
    found = re.search(r"^BENCH-JSON (.*)$", done.stdout, re.M)
    if done.returncode != 0 or found is None:
        raise RuntimeError(f"wrk failed ({done.returncode}): {done.stdout[-500:]} {done.stderr[-500:]}")
    raw = json.loads(found.group(1))
    statuses = {int(s): n for s, n in raw["statuses"].items()}
    seconds_run = raw["duration_us"] / 1e6
    # No answer came back in time: there are no latencies to tell (wrk would say 0).
    ms = {key: raw["latency_us"][key] / 1000 if raw["requests"] else None for key in ("p50", "p95", "p99", "max")}
    return {
        "connections": connections, "threads": threads, "seconds": round(seconds_run, 2),
        "requests": raw["requests"], "requests_per_second": round(raw["requests"] / seconds_run, 1),
        "p50_ms": ms["p50"], "p95_ms": ms["p95"], "p99_ms": ms["p99"], "max_ms": ms["max"],
        "statuses": {str(s): n for s, n in sorted(statuses.items())},
        "non_2xx": sum(n for s, n in statuses.items() if not 200 <= s < 300),
        "socket_errors": raw["errors"],
    }


# --- the PostgreSQL run ------------------------------------------------------------------------

@dataclass
class Endpoint:
    name: str
    method: str
    path: str
    who: str                  # whose session ("" for none)
    headers: dict = field(default_factory=dict)
    connections: int = READ_CONNECTIONS
    threads: int = READ_THREADS


def board_rows(body: str) -> int:
    return len(re.findall(r'<tr id="board-pool-\d+"', body))


def run_postgresql(options, work: Path) -> dict:
    base = os.environ.get("NATIONAL_DATABASE_URL") or os.environ.get("TEST_DATABASE_URL") or DEFAULT_DATABASE_URL
    if not base.startswith("postgresql"):
        raise SystemExit(f"The PostgreSQL part needs a PostgreSQL URL; got {base}")
    url, schema = _own_schema(base)
    servers: list[Server] = []
    try:
        print(f"\nPostgreSQL: schema {schema} on {base}; seeding ...", flush=True)
        started = time.perf_counter()
        app = make_app(url)
        with app.app_context():
            upgrade()
            country = build_country(datetime.now(timezone.utc).replace(tzinfo=None), BED_UPDATES,
                                    generate_password_hash(PASSWORD, method=CHEAP_HASH_METHOD))
            with db.engine.connect() as connection:
                copy_into_postgresql(connection, country)
            db.session.remove()
            db.engine.dispose()
        seeded = round(time.perf_counter() - started, 1)
        print(f"  seeded in {seeded} s", flush=True)
        env = server_env(url)
        integrity_before = flask_command(env, "check-integrity")
        print(f"  check-integrity: exit {integrity_before[0]}: {integrity_before[1]}", flush=True)

        app_server = Server("app", "app:app", env, work)
        floor_server = Server("floor", "tests.benchmarks.floor:app", env, work)
        servers = [app_server, floor_server]
        for server in servers:
            server.start()
        app_server.wait_until_up("/healthz")
        floor_server.wait_until_up("/")
        print(f"  app on :{app_server.port}, floor on :{floor_server.port}; signing in ...", flush=True)
        results = measure_postgresql(options, work, country, app_server, floor_server)
        integrity_after = flask_command(env, "check-integrity")
        audit_after = flask_command(env, "verify-audit")
        return {"database": "postgresql", "seconds_to_seed": seeded, "country": country.counts,
                "referrals_by_status": country.referrals_by_status,
                "board_region": {"id": country.board_region, "pools": country.board_region_pools},
                "check_integrity_before": integrity_before, "check_integrity_after": integrity_after,
                "verify_audit_after": audit_after, **results,
                "server_logs": {s.name: s.trouble() for s in servers}}
    finally:
        for server in servers:
            server.stop()
        if schema:
            _drop_schema(base, schema)


def measure_postgresql(options, work: Path, country: Country, app_server: Server, floor_server: Server) -> dict:
    """Each endpoint for `options.seconds`, each right after the floor with as many
    connections for `options.floor_seconds`: the machine is shared, and what else runs on it
    changes from one minute to the next, so each ratio compares numbers taken together."""
    people = {"caseworker": sign_in(app_server.port, country.caseworker)}
    region = f"/beds?region={country.board_region}"
    poll = {"HX-Request": "true", "X-Poll": "1"}
    endpoints = [
        Endpoint("/healthz", "GET", "/healthz", ""),
        # The least a signed-in page can cost here: the session, the person, one tiny count.
        Endpoint("unread badge (signed in, least)", "GET", "/notifications/count", "caseworker", poll),
        Endpoint("board, one region (page)", "GET", region, "caseworker"),
        Endpoint("board, one region (poll)", "GET", region, "caseworker", poll),
        Endpoint("board, one region (poll, unchanged)", "GET", region, "caseworker", poll),
        Endpoint("board, all regions (first page)", "GET", "/beds?region=", "caseworker"),
        Endpoint("/referrals (caseworker)", "GET", "/referrals", "caseworker"),
        Endpoint("/children (caseworker)", "GET", "/children", "caseworker"),
        Endpoint("/ work queue (caseworker)", "GET", "/", "caseworker"),
        Endpoint("bed-count change, 32 staff", "POST", "/shelters/<id>/pools/<id>/adjust", "staff",
                 connections=WRITERS, threads=WRITERS),
    ]
    get_script = write_script(work, "get", LUA_GET_RESPONSE)
    for _ in range(WARM_UP):
        Browser(floor_server.port).get("/")
    rows = []
    for endpoint in endpoints:
        browser = people.get(endpoint.who)
        headers = dict(endpoint.headers)
        if endpoint.method == "POST":
            script, looked = writers_script(work, app_server, country)
        else:
            script, looked = get_script, look_at(browser or Browser(app_server.port), endpoint, headers)
            if browser is not None:
                headers["Cookie"] = browser.cookie_header()
        print(f"  {endpoint.name}: floor ... ", end="", flush=True)
        floor = run_wrk(f"http://127.0.0.1:{floor_server.port}/", options.floor_seconds, endpoint.threads,
                        endpoint.connections, get_script)
        print(f"{floor['requests_per_second']} req/s, p99 {floor['p99_ms']} ms; app ... ", end="", flush=True)
        result = run_wrk(f"http://127.0.0.1:{app_server.port}{endpoint.path if endpoint.method == 'GET' else '/'}",
                         options.seconds, endpoint.threads, endpoint.connections, script,
                         [f"{name}: {value}" for name, value in headers.items()])
        print(f"{result['requests_per_second']} req/s, p99 {result['p99_ms']} ms, statuses {result['statuses']}",
              flush=True)
        rows.append({"name": endpoint.name, "method": endpoint.method, "path": endpoint.path,
                     "who": endpoint.who or None, "headers": sorted(h for h in headers if h != "Cookie"),
                     **result, "floor": floor, **ratios(result, floor), "looked": looked})
    return {"endpoints": rows, "targets": postgresql_targets(rows)}


def look_at(browser: Browser, endpoint: Endpoint, headers: dict) -> dict:
    """A few requests before the load (what a first visit costs, and what the answer is);
    for the unchanged poll, the version the last answer named goes into `headers`."""
    look = [browser.get(endpoint.path, headers) for _ in range(WARM_UP)]
    last = look[-1]
    note = {"status": last.status, "bytes": len(last.body.encode()),
            "ms_alone": round(statistics.median(a.seconds for a in look) * 1000, 1)}
    if "board" in endpoint.name:
        note["pools_shown"] = board_rows(last.body)
    # The board's poll names the version of the page it shows (X-Board-Version, carried in the
    # page's hx-headers); an unchanged page answers 204.
    version = re.search(r'"X-Board-Version": "([0-9a-f]+)"', last.body)
    if endpoint.name.endswith("(poll)"):
        note["version"] = version.group(1) if version else None
    if endpoint.name.endswith("(poll, unchanged)"):
        if version:
            headers["X-Board-Version"] = version.group(1)
            note["sent"] = f"X-Board-Version: {version.group(1)}"
            note["status_when_unchanged"] = browser.get(endpoint.path, headers).status
        else:
            note["sent"] = "no X-Board-Version: the poll's answer named none"
    return note


def writers_script(work: Path, app_server: Server, country: Country) -> tuple[Path, dict]:
    """Sign the 32 staff in; read each one's pool row (its version) and CSRF token."""
    writers, pools = [], []
    for email, shelter_id, pool_id in country.writers:
        browser = sign_in(app_server.port, email)
        page = browser.get(f"/shelters/{shelter_id}")
        row = re.search(rf'<tr id="pool-{pool_id}".*?</tr>', page.body, re.S)
        version = re.search(r'name="version" value="(\d+)"', row.group(0)) if row else None
        if page.status != 200 or version is None:
            raise RuntimeError(f"{email} cannot change pool {pool_id} on /shelters/{shelter_id}: {page.status}")
        writers.append("{path = %s, cookie = %s, csrf = %s, version = %s}" % (
            lua_string(f"/shelters/{shelter_id}/pools/{pool_id}/adjust"), lua_string(browser.cookie_header()),
            lua_string(quote(page.csrf(), safe="")), lua_string(version.group(1))))
        pools.append(pool_id)
    body = "writers = {\n  " + ",\n  ".join(writers) + "\n}\n" + LUA_WRITERS
    return write_script(work, "writers", body), {"pools": pools}


def ratios(result: dict, floor: dict) -> dict:
    throughput = (round(result["requests_per_second"] / floor["requests_per_second"], 3)
                  if floor["requests_per_second"] else None)
    p99 = round(result["p99_ms"] / floor["p99_ms"], 2) if result["p99_ms"] and floor["p99_ms"] else None
    return {"throughput_ratio": throughput, "p99_ratio": p99}


def postgresql_targets(rows: list[dict]) -> list[dict]:
    by_name = {row["name"]: row for row in rows}
    targets = []

    def target(what: str, row_name: str, key: str, limit: float, at_least: bool) -> None:
        value = by_name[row_name][key]
        met = value is not None and (value >= limit if at_least else value <= limit)
        targets.append({"target": what, "endpoint": row_name, "measured": value,
                        "limit": f"{'>=' if at_least else '<='} {limit:g}", "met": met})

    for kind in ("page", "poll"):
        target(f"board {kind} throughput / floor", f"board, one region ({kind})", "throughput_ratio",
               BOARD_THROUGHPUT_RATIO, True)
    target("bed-count change p99 / floor p99", "bed-count change, 32 staff", "p99_ratio", CHANGE_P99_RATIO, False)
    target("bed-count change throughput / floor", "bed-count change, 32 staff", "throughput_ratio",
           CHANGE_THROUGHPUT_RATIO, True)
    return targets


# --- the SQLite run ----------------------------------------------------------------------------

class Busy(threading.Thread):
    """One person asking for a big page again and again, one request at a time (so one
    worker at a time renders it), until told to stop."""

    def __init__(self, browser: Browser, path: str):
        super().__init__(daemon=True)
        self.browser, self.path = browser, path
        self.stop = threading.Event()
        self.timings: list[float] = []
        self.statuses: dict[int, int] = {}

    def run(self) -> None:
        while not self.stop.is_set():
            answer = self.browser.get(self.path)
            self.timings.append(answer.seconds)
            self.statuses[answer.status] = self.statuses.get(answer.status, 0) + 1


def run_sqlite(options, work: Path) -> dict:
    path = work / "national.sqlite3"
    url = f"sqlite:///{path}"
    server = None
    print(f"\nSQLite: {path}; seeding ...", flush=True)
    started = time.perf_counter()
    app = make_app(url)
    with app.app_context():
        upgrade()
        db.session.remove()
        db.engine.dispose()
    country = build_country(datetime.now(timezone.utc).replace(tzinfo=None), SQLITE_BED_UPDATES,
                            generate_password_hash(PASSWORD, method=CHEAP_HASH_METHOD))
    insert_into_sqlite(path, country)
    seeded = round(time.perf_counter() - started, 1)
    print(f"  seeded in {seeded} s ({path.stat().st_size / 1e6:.0f} MB)", flush=True)
    env = server_env(url)
    integrity = flask_command(env, "check-integrity")
    print(f"  check-integrity: exit {integrity[0]}: {integrity[1]}", flush=True)
    try:
        server = Server("app-sqlite", "app:app", env, work)
        server.start()
        server.wait_until_up("/healthz")
        script = write_script(work, "healthz", LUA_GET_RESPONSE)
        phases = [("nothing else", None, None), ("all regions' board", country.caseworker, "/beds?region="),
                  ("/reports (admin)", country.admin, "/reports")]
        rows = []
        for name, email, busy_path in phases:
            busy = None
            if busy_path:
                busy = Busy(sign_in(server.port, email), busy_path)
                busy.start()
                time.sleep(min(3.0, options.seconds / 3))  # the big page is under way
            print(f"  /healthz while {name} ... ", end="", flush=True)
            try:
                result = run_wrk(f"http://127.0.0.1:{server.port}/healthz", options.seconds, 1, 1, script)
            finally:
                if busy:
                    busy.stop.set()
                    busy.join(timeout=60)
            row = {"name": f"/healthz while {name}", **result}
            if busy:
                row["busy"] = {"path": busy_path, "requests": len(busy.timings),
                               "statuses": {str(s): n for s, n in busy.statuses.items()},
                               "median_ms": round(statistics.median(busy.timings) * 1000, 1) if busy.timings else None,
                               "max_ms": round(max(busy.timings) * 1000, 1) if busy.timings else None}
            print(f"p50 {result['p50_ms']} ms, p99 {result['p99_ms']} ms"
                  + (f"; {busy_path} took {row['busy']['median_ms']} ms (median of {len(busy.timings)})"
                     if busy else ""), flush=True)
            rows.append(row)
        busiest = max(rows[1:], key=lambda r: r["p99_ms"] or float("inf"))  # None: no answer at all
        targets = [{"target": "/healthz p99 while another worker renders the largest page",
                    "endpoint": busiest["name"], "measured": busiest["p99_ms"], "limit": f"< {SQLITE_HEALTHZ_MS:g} ms",
                    "met": busiest["p99_ms"] is not None and busiest["p99_ms"] < SQLITE_HEALTHZ_MS}]
        return {"database": "sqlite", "seconds_to_seed": seeded, "country": country.counts,
                "referrals_by_status": country.referrals_by_status,
                "check_integrity": integrity, "endpoints": rows, "targets": targets,
                "server_logs": {server.name: server.trouble()}}
    finally:
        if server:
            server.stop()


# --- printing ------------------------------------------------------------------------------------

def print_run(run: dict) -> None:
    print(f"\n{run['database']}: {', '.join(f'{v:,} {k}' for k, v in run['country'].items())}; "
          f"seeded in {run['seconds_to_seed']} s")
    print("referrals: " + ", ".join(f"{n:,} {status}" for status, n in run["referrals_by_status"].items()))
    if "board_region" in run:
        print(f"board region {run['board_region']['id']}: {run['board_region']['pools']} pools")
    print(f"\n{'endpoint':<37} {'conns':>5} {'req/s':>7} {'p50 ms':>7} {'p95 ms':>7} {'p99 ms':>7} {'non-2xx':>7} "
          f"| {'floor req/s':>11} {'p99 ms':>7} | {'x floor':>7} {'p99 x floor':>11}")
    def number(value, width: int, places: int = 1) -> str:
        return f"{'-' if value is None else f'{value:.{places}f}':>{width}}"

    for row in run["endpoints"]:
        floor = row.get("floor") or {}
        print(f"{row['name']:<37} {row['connections']:>5} {number(row['requests_per_second'], 7)} "
              f"{number(row['p50_ms'], 7)} {number(row['p95_ms'], 7)} {number(row['p99_ms'], 7)} {row['non_2xx']:>7} "
              f"| {number(floor.get('requests_per_second'), 11)} {number(floor.get('p99_ms'), 7)} "
              f"| {number(row.get('throughput_ratio'), 7, 3)} {number(row.get('p99_ratio'), 11, 2)}")
    print()
    for row in run["endpoints"]:
        errors = {k: v for k, v in row["socket_errors"].items() if v}
        extra = []
        if set(row["statuses"]) - {"200"} or (row.get("floor") and set(row["floor"]["statuses"]) - {"200"}):
            extra.append(f"statuses {row['statuses']}" + (f", the floor's {row['floor']['statuses']}"
                                                           if row.get("floor") else ""))
        if errors:
            extra.append(f"socket errors {errors}")
        if row.get("looked"):
            extra.append(f"alone: {row['looked']}")
        if row.get("busy"):
            extra.append(f"beside it: {row['busy']}")
        if extra:
            print(f"  {row['name']}: " + "; ".join(extra))
    print("\nTargets (issue 12):")
    for t in run["targets"]:
        print(f"  {'met   ' if t['met'] else 'MISSED'} {t['target']}: {t['measured']} ({t['limit']})")
    for key in ("check_integrity_before", "check_integrity_after", "verify_audit_after", "check_integrity"):
        if key in run:
            print(f"{key.replace('_', ' ')}: exit {run[key][0]}: {run[key][1]}")
    for name, trouble in run["server_logs"].items():
        print(f"server {name}: {trouble['tracebacks']} tracebacks, {trouble['server_errors_logged']} 5xx logged, "
              f"{trouble['worker_timeouts']} worker timeouts" + "".join(f"\n    {s}" for s in trouble["samples"]))


def in_trouble(run: dict) -> bool:
    return any(t["tracebacks"] or t["server_errors_logged"] or t["worker_timeouts"]
               for t in run["server_logs"].values())


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.benchmarks.national",
                                     description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, default=10, help="wrk's time per endpoint (default 10)")
    parser.add_argument("--floor-seconds", type=float, default=5,
                        help="wrk's time on the floor just before each endpoint (default 5)")
    parser.add_argument("--postgresql", action="store_true", help="only the PostgreSQL part")
    parser.add_argument("--sqlite", action="store_true", help="only the SQLite part")
    parser.add_argument("--json", type=Path, help="also write the numbers as JSON to this file")
    parser.add_argument("--keep-logs", action="store_true", help="keep the servers' logs")
    options = parser.parse_args(argv)
    if not Path(WRK).exists():
        print(f"wrk not found ({WRK}): apt-get install wrk", file=sys.stderr)
        return 2
    signal.signal(signal.SIGINT, signal.default_int_handler)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    both = not options.postgresql and not options.sqlite
    work = Path(tempfile.mkdtemp(prefix="national-bench-"))
    runs, keep = [], options.keep_logs
    try:
        if options.postgresql or both:
            runs.append(run_postgresql(options, work))
        if options.sqlite or both:
            runs.append(run_sqlite(options, work))
    except BaseException:
        keep = True
        print(f"Stopped early; the servers' logs are in {work}", file=sys.stderr)
        raise
    finally:
        keep = keep or any(in_trouble(run) for run in runs)
        for leftover in work.glob("national.sqlite3*"):
            leftover.unlink()
        if not keep:
            shutil.rmtree(work, ignore_errors=True)
    for run in runs:
        print_run(run)
    if keep:
        print(f"\nServer logs kept in {work}")
    if options.json:
        options.json.write_text(json.dumps({"seconds_per_endpoint": options.seconds,
                                            "floor_seconds": options.floor_seconds, "runs": runs},
                                           indent=2, default=str))
        print(f"JSON written to {options.json}")
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except KeyboardInterrupt:
        sys.exit(130)
