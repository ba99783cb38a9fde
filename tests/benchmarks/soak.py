"""Soak test: many people working at once against two app servers that share one PostgreSQL.

    .venv/bin/python -m tests.benchmarks.soak                      # 16 people, 180 s
    .venv/bin/python -m tests.benchmarks.soak --seconds 30 --people 8 --json soak.json

It needs a PostgreSQL server: `postgresql+psycopg://postgres@127.0.0.1:5432/test` unless
SOAK_DATABASE_URL (or TEST_DATABASE_URL) names another. Like the test suite, it builds its
tables in a schema of its own (made by the real migrations, filled by `seed_demo` plus a few
more colleagues) and drops that schema at the end, so it may share a database with others.

What happens:

1. Two gunicorn servers (two workers each) start on free local ports with the same
   SECRET_KEY and AUDIT_KEY, so a person's signed session works on either and both sign the
   audit trail alike; every request of every person goes to one of the two at random. Holds
   are short (HOLD_HOURS of seconds), so they run out during the run.
2. `--people` threads play caseworkers, shelter staff, guardianship officers and an
   ombudsman monitor, each with a session of their own, using only what the pages offer:
   they register children, refer them (submitting takes a hold), send drafts to another pool
   when no bed was free, withdraw, accept, decline, record arrivals and discharges, approve,
   reject, change bed counts (+1/-1, direct edit, "counts confirmed") on the very pools the
   referrals hold beds in, and watch the bed board. Refusals (403, 409, 422) are normal
   outcomes of people racing each other and are only counted.
3. Every `--expire-every` seconds, `flask expire-holds` runs from both servers at the same
   moment, as two cron jobs would.
4. Afterwards: `flask check-integrity` and `flask verify-audit`, the bed board's free beds
   as each server shows them, and the servers' logs (tracebacks, 5xx, "deadlock").

What it proves, when it passes: under overlapping holds, expiries, placements and count
changes from two servers, no request failed (no 5xx, no traceback, no deadlock, no dropped
connection), every pool's counts still agree with its referrals, the audit trail's hash chain
is unbroken, and both servers show the same free beds. It fails, naming why, if any of that
does not hold, or if the run did too little to prove it (no hold expired, a kind of move
never succeeded, fewer than `--min-changes` state changes). Exit status 0 only on a pass.
The server logs stay in a temporary folder (printed) when the run fails or `--keep-logs`.
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
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from urllib.error import HTTPError, URLError
from urllib.parse import urlencode
from urllib.request import HTTPCookieProcessor, HTTPRedirectHandler, Request, build_opener
from http.cookiejar import CookieJar

from flask_migrate import upgrade
from sqlalchemy import create_engine, select, text
from sqlalchemy.exc import OperationalError
from werkzeug.security import generate_password_hash

from coordination.accounts.models import CASEWORKER, GUARDIANSHIP, OVERSIGHT, SHELTER_STAFF, User
from coordination.beds.models import BedPool, Shelter
from coordination.demo import DEMO_PASSWORD, seed_demo
from coordination.extensions import db
from coordination.referrals.models import DECLINE_CODES

from ..conftest import AUDIT_KEY, CHEAP_HASH_METHOD, _drop_schema, _own_schema, make_app

ROOT = Path(__file__).resolve().parents[2]
BIN = ROOT / ".venv" / "bin"
DEFAULT_DATABASE_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"

REQUEST_TIMEOUT = 60      # seconds; longer than gunicorn's worker timeout, so a hung worker shows
THINK_SECONDS = 0.2       # the most a person pauses between reading a page and acting on it
HTMX_SHARE = 0.5          # how often a person's browser runs the page's htmx (fragment answers)
NO_ANSWER = 0             # the "status" of a request that got no HTTP answer at all

# The demo people, and how many colleagues of each the soak adds to their organizations.
DEMO_CASEWORKER, DEMO_STAFF, DEMO_GUARDIAN = "caseworker@demo.az", "ngo@demo.az", "guardian@demo.az"
DEMO_OMBUDSMAN = "ombudsman@demo.az"
COLLEAGUES = {DEMO_CASEWORKER: 5, DEMO_STAFF: 3, DEMO_GUARDIAN: 1}
# The order in which accounts are handed to people: the mix of roles stays about the same
# for any --people (half caseworkers, a third shelter staff). Beyond the number of accounts,
# people share accounts, as one person signed in on a laptop and a phone would.
CAST = (CASEWORKER, SHELTER_STAFF, CASEWORKER, GUARDIANSHIP, CASEWORKER, SHELTER_STAFF, CASEWORKER,
        SHELTER_STAFF, CASEWORKER, GUARDIANSHIP, CASEWORKER, SHELTER_STAFF, OVERSIGHT)

# Moves that must have succeeded at least once, or the run proved nothing about them.
REQUIRED_MOVES = ("submit", "repoint", "withdraw", "accept", "approve", "place", "discharge", "count change")

GIVEN_NAMES = ("Aysu", "Murad", "Leyla", "Elvin", "Nigar", "Tural", "Sevinj", "Orkhan", "Zahra", "Kamran")
FAMILY_NAMES = ("Aliyeva", "Mammadov", "Hasanova", "Guliyev", "Ismayilova", "Karimov", "Rzayeva")
AGES = (1, 3, 6, 9, 11, 12, 13, 14, 14, 15, 15, 16, 16, 17)  # mostly teenagers, as in the field


# --- reading pages ---------------------------------------------------------------------------

CSRF_INPUT = re.compile(r'name="csrf_token"(?: type="hidden")? value="([^"]+)"')
REFERRAL_LINK = re.compile(r'href="/referrals/(\d+)"')
SHELTER_LINK = re.compile(r'href="/shelters/(\d+)"')
STEP_FORM = re.compile(r'action="/referrals/\d+/(\w+)"')
STATUS = re.compile(r'data-status="(\w+)"')
LOCATION_ID = re.compile(r"/(\d+)(?:[?#].*)?$")
# On /referrals/new?child=N: the pools offered for the child, with their free beds.
POOL_CHOICE = re.compile(r'type="radio" name="pool" value="(\d+)"[^>]*>\s*<strong>[^<]*</strong>\s*'
                         r'<span class="free[^"]*" data-free="(\d+)"')
# On a draft's page: "Refer to this pool instead" buttons, disabled when the pool is full.
REPOINT_CHOICE = re.compile(r'name="pool" value="(\d+)">\s*<button type="submit"( disabled)?>')
POOL_ROW = re.compile(r'<tr id="pool-(\d+)".*?</tr>', re.S)
BOARD_ROW = re.compile(r'<tr id="board-pool-(\d+)"[^>]*>.*?data-free="(\d+)">\d+</strong> / (\d+)', re.S)
QUEUE_SECTION = re.compile(r'<h2 id="queue-(\w+)"(.*?)(?=<h2|\Z)', re.S)
# What a page says when it refuses: a refusal, a field's error, or a flashed error.
REFUSAL = re.compile(r'class="(?:refusal|error|flash flash-error)"[^>]*>([^<]+)<')


def select_options(page_text: str, name: str) -> tuple[list[str], str | None]:
    """The non-empty option values of the <select name=...>, and the selected one."""
    found = re.search(rf'<select[^>]*name="{name}".*?</select>', page_text, re.S)
    if found is None:
        return [], None
    values = [v for v in re.findall(r'value="([^"]*)"', found.group(0)) if v]
    selected = re.search(r'<option selected value="([^"]*)"', found.group(0))
    return values, selected.group(1) if selected else None


@dataclass
class Page:
    """What a request got back."""
    status: int
    text: str
    location: str | None = None

    @property
    def failed(self) -> bool:
        return self.status == NO_ANSWER or self.status >= 500

    def csrf(self) -> str:
        found = CSRF_INPUT.search(self.text)
        return found.group(1) if found else ""

    def refusal(self) -> str:
        found = REFUSAL.search(self.text)
        return html.unescape(found.group(1)).strip()[:110] if found else "(no message)"

    def location_id(self) -> int | None:
        found = LOCATION_ID.search(self.location or "")
        return int(found.group(1)) if found else None

    def queue(self) -> dict[str, list[int]]:
        """The work queue's sections (drafts, to_answer, arrivals, decisions, ...) and their referrals."""
        return {key: [int(i) for i in REFERRAL_LINK.findall(body)] for key, body in QUEUE_SECTION.findall(self.text)}


@dataclass
class PoolRow:
    """One bed pool as its shelter's staff see it on /shelters/<id>."""
    pool_id: int
    version: int
    capacity: int
    occupied: int
    out_of_service: int
    free: int

    @classmethod
    def all_on(cls, page: Page) -> list["PoolRow"]:
        rows = []
        for match in POOL_ROW.finditer(page.text):
            row = match.group(0)
            version = re.search(r'name="version" value="(\d+)"', row)
            if version is None:  # not one of this person's pools: no forms
                continue
            rows.append(cls(
                pool_id=int(match.group(1)), version=int(version.group(1)),
                capacity=int(re.search(r'<td class="num"[^>]*>(\d+)</td>', row).group(1)),
                occupied=int(re.search(r'data-count="occupied">(\d+)<', row).group(1)),
                out_of_service=int(re.search(r'data-count="out_of_service">(\d+)<', row).group(1)),
                free=int(re.search(r'data-free="(\d+)"', row).group(1))))
        return rows


# --- counting what happened ------------------------------------------------------------------

def endpoint_of(method: str, path: str) -> str:
    """'POST /referrals/<id>/accept' for 'POST /referrals/17/accept?x=1'."""
    return f"{method} " + re.sub(r"/\d+", "/<id>", path.split("?")[0])


class Tally:
    """Everything the people did and got back; shared by all their threads."""

    SAMPLES = 10  # failed requests kept whole, to show in the report

    def __init__(self):
        self._lock = threading.Lock()
        self.requests = Counter()   # (endpoint, status)
        self.seconds: dict[str, list[float]] = {}  # endpoint -> how long each answer took
        self.by_server = Counter()  # server name
        self.moves = Counter()      # (move, outcome): outcome "done", "refused 409", "failed 500", ...
        self.refusals = Counter()   # (move, status, what the page said)
        self.failed_samples: list[dict] = []

    def request(self, server: str, method: str, path: str, page: Page, seconds: float) -> None:
        with self._lock:
            self.requests[endpoint_of(method, path), page.status] += 1
            self.seconds.setdefault(endpoint_of(method, path), []).append(seconds)
            self.by_server[server] += 1
            if page.failed and len(self.failed_samples) < self.SAMPLES:
                self.failed_samples.append({"server": server, "request": f"{method} {path}",
                                            "status": page.status, "answer": page.text[:500]})

    def move(self, move: str, outcome: str, refusal: tuple[int, str] | None = None) -> None:
        with self._lock:
            self.moves[move, outcome] += 1
            if refusal is not None:
                self.refusals[(move, *refusal)] += 1

    def answer(self, move: str, answer: Page, htmx: bool = False) -> None:
        """Count the answer to a person's step, and what a refusal said."""
        outcome = outcome_of(answer, htmx)
        self.move(move, outcome, (answer.status, answer.refusal()) if outcome != "done" else None)

    def done(self, move: str) -> int:
        return self.moves[move, "done"]


def outcome_of(answer: Page, htmx: bool) -> str:
    """A step succeeded when it redirects back to its page (plain form), or answers the
    fragment with 200 (htmx); anything else is a refusal (4xx) or a failure."""
    if answer.status == 303 or (htmx and answer.status == 200):
        return "done"
    if answer.failed:
        return f"failed {answer.status}"
    return f"refused {answer.status}"


# --- one person's browser --------------------------------------------------------------------

class _KeepRedirects(HTTPRedirectHandler):
    """Answer a redirect as it is (urllib then raises HTTPError with the 303), so that every
    request is counted once, under its own status, and a person follows only what they mean to."""

    def redirect_request(self, *args, **kwargs):
        return None


class Browser:
    """One person's browser: cookies of its own, and each request to either server."""

    def __init__(self, servers: list["AppServer"], tally: Tally, rng: random.Random):
        self.servers, self.tally, self.rng = servers, tally, rng
        self.opener = build_opener(HTTPCookieProcessor(CookieJar()), _KeepRedirects)

    def get(self, path: str, htmx: bool = False, poll: bool = False, server: "AppServer | None" = None) -> Page:
        return self._send("GET", path, None, htmx, poll, server)

    def post(self, path: str, fields: dict, htmx: bool = False) -> Page:
        return self._send("POST", path, fields, htmx, False, None)

    def _send(self, method, path, fields, htmx, poll, server) -> Page:
        server = server or self.rng.choice(self.servers)
        headers = {}
        if htmx:
            headers["HX-Request"] = "true"
        if poll:  # what the page sends when it refreshes itself
            headers["X-Poll"] = "1"
        data = urlencode(fields).encode() if fields is not None else None
        request = Request(server.url + path, data=data, headers=headers, method=method)
        started = time.monotonic()
        try:
            with self.opener.open(request, timeout=REQUEST_TIMEOUT) as response:
                page = Page(response.status, response.read().decode("utf-8", "replace"))
        except HTTPError as answer:  # every status >= 400, and the redirects (see _KeepRedirects)
            page = Page(answer.code, answer.read().decode("utf-8", "replace"), answer.headers.get("Location"))
        except (URLError, OSError, http.client.HTTPException) as error:
            page = Page(NO_ANSWER, f"{type(error).__name__}: {error}")
        self.tally.request(server.name, method, path, page, time.monotonic() - started)
        return page


# --- the people ------------------------------------------------------------------------------

@dataclass(frozen=True)
class Account:
    email: str
    role: str
    password: str = DEMO_PASSWORD


def sign_in(browser: Browser, account: Account) -> Page:
    form = browser.get("/login")
    return browser.post("/login", {"email": account.email, "password": account.password, "csrf_token": form.csrf()})


@dataclass
class Office:
    """What the people know in common. `favoured_pools`: the pools whose staff and regional
    guardians take part, so referrals there can go all the way to discharge.
    `dead_drafts`: drafts a caseworker found can never be submitted (the child got a live
    referral meanwhile); drafts cannot be deleted, so colleagues tell each other to leave
    them alone."""
    favoured_pools: frozenset[int]
    dead_drafts: set[int] = field(default_factory=set)


class Person:
    """Someone signed in, doing one task after another until the run ends."""

    def __init__(self, account: Account, browser: Browser, tally: Tally, rng: random.Random,
                 stop: threading.Event, office: Office):
        self.account, self.browser, self.tally, self.rng = account, browser, tally, rng
        self.stop, self.office = stop, office
        self.signed_in = False

    def tasks(self) -> dict:
        """What this person does, and how often, relatively."""
        return {self.look_at_board: 1}

    def live(self) -> None:
        self.sign_in()
        tasks = self.tasks()
        while not self.stop.is_set():
            if not self.signed_in:
                self.stop.wait(1)
                self.sign_in()
                continue
            task = self.rng.choices(list(tasks), weights=list(tasks.values()))[0]
            task()
            self.think()

    def sign_in(self) -> None:
        answer = sign_in(self.browser, self.account)
        self.signed_in = answer.status == 303
        self.tally.answer("sign in", answer)

    def think(self) -> None:
        self.stop.wait(self.rng.uniform(0, THINK_SECONDS))

    def htmx(self) -> bool:
        return self.rng.random() < HTMX_SHARE

    def look_at_board(self) -> None:
        """The board as opened, filtered, or refreshing itself (htmx, with the poll header)."""
        query = self.rng.choice(("", "", "?free=1", "?sex=female&age=14", "?sex=male&age=15&free=1"))
        refreshing = self.htmx()
        self.browser.get("/beds" + query, htmx=refreshing, poll=refreshing)

    def take_step(self, referral_id: int, action: str, fields: dict | None = None) -> None:
        """Open the referral and press the button for `action`, if the page offers it. By the
        time the form arrives the page may be out of date, as in real life."""
        page = self.browser.get(f"/referrals/{referral_id}")
        if page.status != 200 or action not in STEP_FORM.findall(page.text):
            return
        self.think()
        htmx = self.htmx()
        answer = self.browser.post(f"/referrals/{referral_id}/{action}",
                                   {**(fields or {}), "csrf_token": page.csrf()}, htmx=htmx)
        self.tally.answer(action, answer, htmx)

    def pick(self, ids: list[int]) -> int | None:
        return self.rng.choice(ids) if ids else None


class Caseworker(Person):
    # What a refused submission says when a colleague referred the same child meanwhile.
    CHILD_ALREADY_REFERRED = "already has a live referral"

    def tasks(self) -> dict:
        return {self.refer_a_child: 5, self.repoint_a_draft: 2, self.withdraw_a_referral: 1,
                self.follow_a_referral: 1, self.look_at_board: 1}

    def register_child(self) -> int | None:
        """Register a child; names repeat on purpose, so the likely-duplicate check answers
        409 now and then and the caseworker confirms it is another child."""
        form = self.browser.get("/children/new")
        if form.status != 200:
            return None
        _, home_region = select_options(form.text, "region")
        fields = {"csrf_token": form.csrf(), "given_name": self.rng.choice(GIVEN_NAMES),
                  "family_name": self.rng.choice(FAMILY_NAMES), "sex": self.rng.choice(("female", "male")),
                  "estimated_age": self.rng.choice(AGES), "region": home_region or "",
                  "consent_given_by": "the child's aunt", "consent_given_at": "",
                  "found_place": self.rng.choice(("border_crossing", "police_station", "street_outreach")),
                  "found_region": home_region or "", "found_at": "2026-03-01T06:00"}
        if self.rng.random() < 0.7:
            fields["child_assent"] = "y"
        answer = self.browser.post("/children/new", fields)
        if answer.status == 409:  # "may be a child already registered": it is not
            answer = self.browser.post("/children/new", {**fields, "csrf_token": answer.csrf(),
                                                         "confirm_not_duplicate": "y"})
        self.tally.answer("register child", answer)
        return answer.location_id() if answer.status == 303 else None

    def refer_a_child(self) -> None:
        """Refer one of the organization's children without a live referral (a new one now and
        then) to a pool the form suggests, and submit, which holds a bed if one is free."""
        form = self.browser.get("/referrals/new")
        children, _ = select_options(form.text, "child")
        child = self.pick(children) if children and self.rng.random() > 0.25 else self.register_child()
        if child is None:
            return
        form = self.browser.get(f"/referrals/new?child={child}")
        pools = [(int(pool), int(free)) for pool, free in POOL_CHOICE.findall(form.text)]
        if form.status != 200 or not pools:
            return
        pool = self.choose_pool(pools)
        then = "draft" if self.rng.random() < 0.1 else "submit"
        self.think()
        answer = self.browser.post("/referrals/new", {
            "csrf_token": form.csrf(), "child": child, "pool": pool, "then": then,
            "urgency": self.rng.choice(("routine", "routine", "urgent", "emergency")), "note": "soak test"})
        self.tally.answer("create referral", answer)
        if answer.status == 303 and then == "submit":
            self.see_whether_submitted(answer.location_id())

    def see_whether_submitted(self, referral_id: int) -> None:
        """A refused submission still saves the draft and shows its page with other pools;
        the caseworker usually picks one of those straight away."""
        page = self.browser.get(f"/referrals/{referral_id}")
        status = STATUS.search(page.text)
        if status is None:
            return
        if status.group(1) != "draft":
            self.tally.move("submit", "done")
            return
        self.tally.move("submit", "refused, still a draft", (200, page.refusal()))
        if self.CHILD_ALREADY_REFERRED in page.refusal():
            self.office.dead_drafts.add(referral_id)
        elif self.rng.random() < 0.7:
            self.repoint(referral_id, page)

    def choose_pool(self, offered: list[tuple[int, int]]) -> int:
        """Mostly a pool with free beds in the shelters whose staff and guardians take part in
        the soak (so referrals go all the way to placement); sometimes any pool offered,
        full or not, since the page's numbers may be out of date anyway."""
        favoured = [pool for pool, free in offered if pool in self.office.favoured_pools and free > 0]
        if favoured and self.rng.random() < 0.75:
            return self.rng.choice(favoured)
        return self.rng.choice(offered)[0]

    def repoint_a_draft(self) -> None:
        drafts = self.browser.get("/").queue().get("drafts", [])
        draft = self.pick([d for d in drafts if d not in self.office.dead_drafts])
        if draft is not None:
            self.repoint(draft, self.browser.get(f"/referrals/{draft}"))

    def repoint(self, referral_id: int, page: Page) -> None:
        """Send the draft to another pool its page offers, which submits it there."""
        # A pool's button is disabled when the page saw no free bed in it.
        offered = [(int(pool), 0 if disabled else 1) for pool, disabled in REPOINT_CHOICE.findall(page.text)]
        if page.status != 200 or not offered:
            return
        self.think()
        htmx = self.htmx()
        answer = self.browser.post(f"/referrals/{referral_id}/repoint",
                                   {"csrf_token": page.csrf(), "pool": self.choose_pool(offered)}, htmx=htmx)
        self.tally.answer("repoint", answer, htmx)
        if self.CHILD_ALREADY_REFERRED in answer.refusal():
            self.office.dead_drafts.add(referral_id)

    def withdraw_a_referral(self) -> None:
        status = self.rng.choice(("submitted", "accepted", "approved"))
        live = REFERRAL_LINK.findall(self.browser.get(f"/referrals?status={status}").text)
        referral = self.pick([int(i) for i in live])
        if referral is not None:
            self.take_step(referral, "withdraw", {"reason_text": "family traced"})

    def follow_a_referral(self) -> None:
        """The referral page's status panel refreshing itself while it waits on others."""
        answers = self.browser.get("/", htmx=True, poll=True).queue().get("answers", [])
        referral = self.pick(answers)
        if referral is not None:
            self.browser.get(f"/referrals/{referral}", htmx=True, poll=True)


class ShelterStaff(Person):
    def tasks(self) -> dict:
        return {self.answer_a_referral: 4, self.record_an_arrival: 3, self.record_a_discharge: 2,
                self.change_counts: 3, self.look_at_board: 1}

    def answer_a_referral(self) -> None:
        referral = self.pick(self.browser.get("/").queue().get("to_answer", []))
        if referral is None:
            return
        if self.rng.random() < 0.8:
            self.take_step(referral, "accept")
        else:
            self.take_step(referral, "decline", {"reason_code": self.rng.choice(DECLINE_CODES),
                                                 "reason_text": "cannot take the child"})

    def record_an_arrival(self) -> None:
        referral = self.pick(self.browser.get("/").queue().get("arrivals", []))
        if referral is not None:
            self.take_step(referral, "place", {"arrived_at": ""})  # empty: arrived now

    def record_a_discharge(self) -> None:
        placed = REFERRAL_LINK.findall(self.browser.get("/referrals?status=placed").text)
        referral = self.pick([int(i) for i in placed])
        if referral is not None:
            self.take_step(referral, "discharge", {"reason_code": "family_reunification",
                                                   "reason_text": "returned to family"})

    def change_counts(self) -> None:
        """Change one of their pools' counts the way the shelter page offers: mostly +1/-1,
        sometimes a direct edit or "counts confirmed". The counts lean towards full, so
        that referrals run out of beds now and then."""
        shelter = self.pick([int(i) for i in SHELTER_LINK.findall(self.browser.get("/").text)])
        if shelter is None:
            return
        page = self.browser.get(f"/shelters/{shelter}")
        rows = PoolRow.all_on(page)
        if not rows:
            return
        row = self.rng.choice(rows)
        action, fields = self.count_change(row)
        self.think()
        htmx = self.htmx()
        answer = self.browser.post(f"/shelters/{shelter}/pools/{row.pool_id}/{action}",
                                   {**fields, "csrf_token": page.csrf(), "version": row.version}, htmx=htmx)
        self.tally.answer("count change", answer, htmx)

    def count_change(self, row: PoolRow) -> tuple[str, dict]:
        """Which form of the pool's row to send (its last part of the URL), and its fields."""
        roll = self.rng.random()
        if roll < 0.15:
            return "confirm", {}
        if roll < 0.3:
            out_of_service = self.rng.choice((0, 0, 1))
            return "counts", {"occupied": max(0, row.occupied + self.rng.choice((-1, 0, 1))),
                              "out_of_service": out_of_service,
                              "out_of_service_reason": "broken window" if out_of_service else ""}
        if roll < 0.4:
            delta = -1 if row.out_of_service else 1
            return "adjust", {"field": "out_of_service", "delta": delta}
        # A walk-in child takes a bed while one is free; otherwise someone leaves.
        delta = 1 if row.free > 0 and self.rng.random() < 0.55 else -1
        return "adjust", {"field": "occupied", "delta": delta}


class GuardianshipOfficer(Person):
    def tasks(self) -> dict:
        return {self.decide_a_placement: 5, self.look_at_board: 1}

    def decide_a_placement(self) -> None:
        referral = self.pick(self.browser.get("/").queue().get("decisions", []))
        if referral is None:
            return
        if self.rng.random() < 0.85:
            self.take_step(referral, "approve")
        else:
            self.take_step(referral, "reject", {"reason_text": "placement not in the child's interest"})


class Monitor(Person):
    """The ombudsman's office: watches the board, changes nothing."""


ROLE_PLAYERS = {CASEWORKER: Caseworker, SHELTER_STAFF: ShelterStaff, GUARDIANSHIP: GuardianshipOfficer,
                OVERSIGHT: Monitor}


def cast(accounts: list[Account], people: int) -> list[Account]:
    """The account of each person: roles in CAST order, each role's accounts in turn, so
    with more people than accounts some accounts are signed in twice."""
    by_role = {role: [a for a in accounts if a.role == role] for role in ROLE_PLAYERS}
    handed_out = Counter()
    order = []
    for n in range(people):
        role = CAST[n % len(CAST)]
        order.append(by_role[role][handed_out[role] % len(by_role[role])])
        handed_out[role] += 1
    return order


# --- the database ----------------------------------------------------------------------------

@dataclass
class World:
    """The schema the soak runs in, who can sign in, and which pools can go the whole way
    from submission to discharge (their staff and the region's guardians take part)."""
    base_url: str
    url: str
    schema: str
    accounts: list[Account]
    favoured_pools: frozenset[int]

    def drop(self) -> None:
        _drop_schema(self.base_url, self.schema)


def build_world(base_url: str) -> World:
    url, schema = _own_schema(base_url)
    if schema is None:
        raise SystemExit(f"The soak test needs PostgreSQL; got {base_url}")
    try:
        app = make_app(url)  # hashes passwords cheaply, so thousands of sign-ins stay cheap
        with app.app_context():
            upgrade()
            seed_demo()
            accounts = _demo_accounts() + _add_colleagues()
            favoured = _pools_run_by_staff_in_guardian_region()
            db.session.commit()
            db.engine.dispose()
    except BaseException:
        _drop_schema(base_url, schema)
        raise
    return World(base_url, url, schema, accounts, favoured)


# The people read the pages in English: the summary quotes what refusals said, and a
# caseworker recognises a draft that can never be submitted by its refusal's words.
LOCALE = "en"


def _demo_accounts() -> list[Account]:
    users = db.session.scalars(select(User).where(
        User.email.in_((DEMO_CASEWORKER, DEMO_STAFF, DEMO_GUARDIAN, DEMO_OMBUDSMAN)))).all()
    for user in users:
        user.locale = LOCALE
    return [Account(u.email, u.role) for u in users]


def _add_colleagues() -> list[Account]:
    """More people in the demo people's organizations, so several of each role race each other."""
    password_hash = generate_password_hash(DEMO_PASSWORD, method=CHEAP_HASH_METHOD)
    accounts = []
    for email, count in COLLEAGUES.items():
        demo = db.session.scalar(select(User).where(User.email == email))
        for n in range(2, count + 2):
            colleague = User(email=f"{demo.role.replace('_', '-')}{n}@soak.test", name=f"{demo.name} {n}",
                             role=demo.role, organization=demo.organization, password_hash=password_hash,
                             locale=LOCALE)
            db.session.add(colleague)
            accounts.append(Account(colleague.email, colleague.role))
    db.session.flush()
    return accounts


def _pools_run_by_staff_in_guardian_region() -> frozenset[int]:
    staff = db.session.scalar(select(User).where(User.email == DEMO_STAFF))
    guardian = db.session.scalar(select(User).where(User.email == DEMO_GUARDIAN))
    return frozenset(db.session.scalars(
        select(BedPool.id).join(BedPool.shelter).where(
            Shelter.organization_id == staff.organization_id,
            Shelter.region_id == guardian.organization.region_id)))


def database_facts(url: str) -> dict:
    """Counted in the database after the run: referrals by status, beds, audit events."""
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            statuses = dict(conn.execute(text("SELECT status, count(*) FROM referral GROUP BY status")).all())
            beds = conn.execute(text(
                "SELECT sum(capacity), sum(occupied), sum(out_of_service), sum(held) FROM bed_pool")).one()
            audit_events = dict(conn.execute(text(
                "SELECT action, count(*) FROM audit_event GROUP BY action ORDER BY count(*) DESC")).all())
            bed_updates = conn.execute(text("SELECT count(*) FROM bed_update")).scalar()
    finally:
        engine.dispose()
    return {"referrals_by_status": dict(sorted(statuses.items())),
            "beds": dict(zip(("capacity", "occupied", "out_of_service", "held"), map(int, beds))),
            "audit_events": sum(audit_events.values()), "audit_events_by_action": audit_events,
            "bed_updates": bed_updates}


# --- the servers and their command line ------------------------------------------------------

def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class AppServer:
    """One gunicorn server of the app, with its logs in `logs`."""

    def __init__(self, name: str, env: dict, logs: Path, workers: int):
        self.name, self.env, self.workers = name, env, workers
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.access_log = logs / f"{name}-access.log"
        self.error_log = logs / f"{name}-error.log"
        self.output_log = logs / f"{name}-output.log"
        self.process: subprocess.Popen | None = None

    def start(self) -> None:
        with open(self.output_log, "wb") as output:
            self.process = subprocess.Popen(
                [str(BIN / "gunicorn"), "app:app", "--workers", str(self.workers),
                 "--bind", f"127.0.0.1:{self.port}", "--access-logfile", str(self.access_log),
                 "--error-logfile", str(self.error_log), "--graceful-timeout", "10"],
                cwd=ROOT, env=self.env, stdout=output, stderr=subprocess.STDOUT,
                start_new_session=True)  # Ctrl-C reaches only the soak, which stops us in order

    def wait_until_healthy(self, seconds: float = 60) -> None:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"server {self.name} exited with {self.process.returncode}:\n{self.log_tail()}")
            try:
                with build_opener().open(self.url + "/healthz", timeout=5) as response:
                    if response.status == 200:
                        return
            except (URLError, OSError, http.client.HTTPException):
                pass
            time.sleep(0.3)
        raise RuntimeError(f"server {self.name} did not answer /healthz within {seconds} s:\n{self.log_tail()}")

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        self.process.terminate()  # gunicorn: graceful shutdown of its workers
        try:
            self.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait()

    def log_tail(self, lines: int = 30) -> str:
        content = "".join(path.read_text(errors="replace") for path in (self.output_log, self.error_log)
                          if path.exists())
        return "\n".join(content.splitlines()[-lines:])

    def logs(self) -> dict[str, str]:
        return {path.name: path.read_text(errors="replace")
                for path in (self.access_log, self.error_log, self.output_log) if path.exists()}


def server_env(database_url: str, secret_key: str, hold_seconds: float) -> dict:
    env = dict(os.environ)
    env.update({
        "DATABASE_URL": database_url,
        "SECRET_KEY": secret_key,
        "AUDIT_KEY": AUDIT_KEY,  # the key build_world signed the first events with (make_app's)
        "COORDINATION_ENV": "development",
        "HOLD_HOURS": f"{hold_seconds / 3600:.6f}",
        "BOARD_REFRESH_SECONDS": "5",
        "LOGIN_RATE_LIMIT": "100000 per minute",  # every person signs in from 127.0.0.1
        "RATELIMIT_STORAGE_URI": "memory://",
        "PYTHONUNBUFFERED": "1",
    })
    return env


@dataclass
class CommandRun:
    server: str
    command: str
    exit_code: int
    output: str
    seconds: float


def flask_commands_together(servers: list[AppServer], command: str, timeout: float = 120) -> list[CommandRun]:
    """`flask --app app <command>` from each server, all started at the same moment."""
    started = time.monotonic()
    processes = [(server, subprocess.Popen([str(BIN / "flask"), "--app", "app", command], cwd=ROOT,
                                           env=server.env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                           text=True))
                 for server in servers]
    runs = []
    for server, process in processes:
        try:
            output, _ = process.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            output, _ = process.communicate()
            output += f"\n(killed after {timeout} s)"
        runs.append(CommandRun(server.name, command, process.returncode, output.strip(),
                               round(time.monotonic() - started, 2)))
    return runs


def flask_command(server: AppServer, command: str) -> CommandRun:
    return flask_commands_together([server], command)[0]


class HoldExpiry(threading.Thread):
    """`flask expire-holds` from both servers at once, every `every` seconds, as two cron jobs."""

    def __init__(self, servers: list[AppServer], every: float, stop: threading.Event):
        super().__init__(name="expire-holds", daemon=True)
        self.servers, self.every, self.stop = servers, every, stop
        self.runs: list[CommandRun] = []
        self.rounds = 0

    def run(self) -> None:
        while not self.stop.wait(self.every):
            self.runs.extend(flask_commands_together(self.servers, "expire-holds"))
            self.rounds += 1

    def expired(self) -> int:
        return sum(int(m) for run in self.runs for m in re.findall(r"Expired (\d+) hold", run.output))


# --- after the run ---------------------------------------------------------------------------

def free_beds_on(browser: Browser, server: AppServer) -> dict[int, tuple[int, int]]:
    """pool id -> (free, capacity), as the bed board of `server` shows them."""
    page = browser.get("/beds", server=server)
    return {int(pool): (int(free), int(capacity)) for pool, free, capacity in BOARD_ROW.findall(page.text)}


def compare_boards(servers: list[AppServer], account: Account, tally: Tally) -> dict:
    """Whether every server shows the same free beds. A hold may run out between two
    requests a few milliseconds apart, so a difference is looked at again, up to 3 times;
    a real disagreement (a stale cache, a different database) does not go away."""
    browser = Browser(servers, tally, random.Random(0))
    sign_in(browser, account)
    differences = []
    for attempt in range(1, 4):
        boards = [free_beds_on(browser, server) for server in servers]
        differences = [f"pool {pool}: " + ", ".join(f"{s.name} {b.get(pool)}" for s, b in zip(servers, boards))
                       for pool in sorted(set().union(*boards)) if len({str(b.get(pool)) for b in boards}) > 1]
        if not differences and boards[0]:
            return {"equal": True, "attempts": attempt, "pools": len(boards[0]),
                    "free_beds": sum(free for free, _ in boards[0].values())}
    return {"equal": False, "attempts": 3, "differences": differences[:20]
            or ["the board showed no pools"]}


def scan_logs(servers: list[AppServer], commands: list[CommandRun]) -> dict:
    """Tracebacks, 5xx answers, deadlocks and killed workers in the servers' logs, and in
    the output of the command-line runs (expire-holds, the final checks)."""
    found = {"tracebacks": 0, "deadlock_lines": 0, "worker_timeouts": 0, "server_errors_logged": 0,
             "first_traceback": None, "deadlock_samples": [], "server_error_samples": []}
    outputs = [(name, content) for server in servers for name, content in server.logs().items()]
    outputs += [(f"{run.server} flask {run.command}", run.output) for run in commands]
    for name, content in outputs:
        found["tracebacks"] += content.count("Traceback (most recent call last)")
        found["worker_timeouts"] += content.count("WORKER TIMEOUT")
        deadlocks = [line for line in content.splitlines() if "deadlock" in line.lower()]
        found["deadlock_lines"] += len(deadlocks)
        found["deadlock_samples"] += [f"{name}: {line[:300]}" for line in deadlocks[:3]]
        if name.endswith("-access.log"):
            errors = [line for line in content.splitlines() if re.search(r'" 5\d\d ', line)]
            found["server_errors_logged"] += len(errors)
            found["server_error_samples"] += [f"{name}: {line[:200]}" for line in errors[:5]]
        if found["first_traceback"] is None and "Traceback (most recent call last)" in content:
            found["first_traceback"] = f"{name}:\n{first_traceback(content)}"
    return found


def first_traceback(log: str, head: int = 10) -> str:
    """The first traceback in a log: the line before it (which request), its first frames,
    and the exception it ended with, with the lines that explain it (PostgreSQL's DETAIL
    names the locks of a deadlock)."""
    lines = log.splitlines()
    start = next(i for i, line in enumerate(lines) if "Traceback (most recent call last)" in line)
    end = start + 1
    while end < len(lines) and lines[end].startswith((" ", "\t")):  # the frames
        end += 1
    frames = lines[start:end]
    if len(frames) > head:
        frames = frames[:head - 3] + ["  ..."] + frames[-2:]
    explanation = []
    for line in lines[end + 1:end + 8]:
        if not line.strip() or line.startswith(("Traceback", "The above exception", "During handling")):
            break
        explanation.append(line)
    return "\n".join(lines[max(0, start - 1):start] + frames + lines[end:end + 1] + explanation
                     + where_in_the_app(lines[start:]))


def where_in_the_app(lines: list[str]) -> list[str]:
    """The app's own frames of one logged failure (all its chained tracebacks), and the SQL
    statement it failed on."""
    found = ["Where in the app:"]
    for line in lines:
        if "ERROR in" in line:  # the next failure's log entry
            break
        if "/coordination/" in line and line.lstrip().startswith("File "):
            found.append(line.replace(str(ROOT) + "/", ""))
        elif line.startswith("[SQL:"):
            found.append(line[:300])
    return found if len(found) > 1 else []


# --- the run ---------------------------------------------------------------------------------

def parse_options(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m tests.benchmarks.soak",
                                     description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, default=180, help="how long the people work (default 180)")
    parser.add_argument("--people", type=int, default=16, help="people working at once (default 16)")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers per server (default 2)")
    parser.add_argument("--expire-every", type=float, default=10,
                        help="seconds between the expire-holds runs (default 10)")
    parser.add_argument("--hold-seconds", type=float, default=None,
                        help="how long a hold lasts (default: a fifth of the run, 8 to 36 s)")
    parser.add_argument("--min-changes", type=int, default=20,
                        help="fewest successful state changes for the run to count (default 20)")
    parser.add_argument("--seed", type=int, default=None, help="seed for the people's choices")
    parser.add_argument("--json", type=Path, help="also write the summary as JSON to this file")
    parser.add_argument("--keep-logs", action="store_true", help="keep the server logs even when the run passes")
    options = parser.parse_args(argv)
    if options.hold_seconds is None:
        options.hold_seconds = min(36.0, max(8.0, options.seconds / 5))
    if options.seed is None:
        options.seed = secrets.randbelow(2**32)
    return options


def run_people(world: World, servers: list[AppServer], options, tally: Tally) -> HoldExpiry:
    """Let the people work for `options.seconds`, with expire-holds running beside them."""
    stop = threading.Event()
    office = Office(world.favoured_pools)
    threads = []
    for n, account in enumerate(cast(world.accounts, options.people)):
        rng = random.Random(options.seed + n)
        person = ROLE_PLAYERS[account.role](account, Browser(servers, tally, rng), tally, rng, stop, office)
        threads.append(threading.Thread(target=person.live, name=f"{account.role}-{n}", daemon=True))
    expiry = HoldExpiry(servers, options.expire_every, stop)
    try:
        for thread in threads:
            thread.start()
        expiry.start()
        stop.wait(options.seconds)
    finally:
        stop.set()  # each person finishes the request under way; nobody starts another
        for thread in threads + [expiry]:
            thread.join(timeout=REQUEST_TIMEOUT + 10)
    return expiry


def summarize(options, world: World, tally: Tally, expiry: HoldExpiry, checks: list[CommandRun],
              boards: dict, facts: dict, logs: dict, elapsed: float) -> dict:
    statuses = Counter()
    endpoints: dict[str, Counter] = {}
    for (endpoint, status), n in tally.requests.items():
        statuses[status] += n
        endpoints.setdefault(endpoint, Counter())[status] += n
    moves: dict[str, dict] = {}
    for (move, outcome), n in sorted(tally.moves.items()):
        moves.setdefault(move, {})[outcome] = n
    state_changes = sum(n for (move, outcome), n in tally.moves.items()
                        if outcome == "done" and move != "sign in")
    total = sum(statuses.values())
    return {
        "settings": {"seconds": options.seconds, "people": options.people, "servers": 2,
                     "workers_per_server": options.workers, "hold_seconds": options.hold_seconds,
                     "expire_every": options.expire_every, "seed": options.seed, "schema": world.schema},
        "requests": {"total": total, "per_second": round(total / elapsed, 1),
                     "by_status": {str(s): n for s, n in sorted(statuses.items())},
                     "by_server": dict(sorted(tally.by_server.items())),
                     "by_endpoint": {e: {str(s): n for s, n in sorted(c.items())}
                                     for e, c in sorted(endpoints.items(), key=lambda e_c: -sum(e_c[1].values()))},
                     "milliseconds_by_endpoint": {e: milliseconds(tally.seconds[e]) for e in endpoints},
                     "server_errors": sum(n for s, n in statuses.items() if s >= 500),
                     "no_answer": statuses[NO_ANSWER],
                     "failed_samples": tally.failed_samples},
        "state_changes": state_changes,
        "moves": moves,
        "refusals": [{"move": move, "status": status, "said": said, "times": n}
                     for (move, status, said), n in tally.refusals.most_common()],
        "expiry": {"expired_referrals": facts["referrals_by_status"].get("expired", 0),
                   "expired_by_expire_holds": expiry.expired(), "expire_holds_runs": len(expiry.runs),
                   "expire_holds_rounds": expiry.rounds,
                   "expire_holds_failures": [vars(r) for r in expiry.runs if r.exit_code != 0],
                   "expire_holds_run_log": [vars(r) for r in expiry.runs]},
        "database": facts,
        "checks": {run.command: {"exit_code": run.exit_code, "output": run.output} for run in checks},
        "boards": boards,
        "logs": logs,
    }


def milliseconds(seconds: list[float]) -> dict:
    """Median, 95th percentile and slowest, in milliseconds."""
    ordered = sorted(seconds)
    def at(fraction: float) -> int:
        return round(ordered[min(len(ordered) - 1, int(len(ordered) * fraction))] * 1000)

    return {"median": at(0.5), "p95": at(0.95), "max": at(1.0)}


def verdict(summary: dict, tally: Tally, min_changes: int) -> list[str]:
    """Why the run fails; empty when it passes."""
    reasons = []
    requests, logs, expiry = summary["requests"], summary["logs"], summary["expiry"]
    if requests["server_errors"] or logs["server_errors_logged"]:
        reasons.append(f"{requests['server_errors']} answers with status 5xx "
                       f"({logs['server_errors_logged']} in the access logs)")
    if requests["no_answer"]:
        reasons.append(f"{requests['no_answer']} requests got no answer")
    if logs["tracebacks"]:
        reasons.append(f"{logs['tracebacks']} tracebacks in the logs")
    if logs["deadlock_lines"]:
        reasons.append(f"{logs['deadlock_lines']} log lines mention a deadlock")
    if logs["worker_timeouts"]:
        reasons.append(f"{logs['worker_timeouts']} gunicorn workers timed out")
    for command, check in summary["checks"].items():
        if check["exit_code"] != 0:
            reasons.append(f"{command} exited with {check['exit_code']}")
    if not summary["boards"]["equal"]:
        reasons.append("the servers show different free beds")
    if expiry["expire_holds_failures"]:
        reasons.append(f"{len(expiry['expire_holds_failures'])} expire-holds runs failed")
    # Too little happened to prove anything:
    if not expiry["expire_holds_runs"]:
        reasons.append("expire-holds never ran (run longer than --expire-every)")
    if not expiry["expired_referrals"]:
        reasons.append("no hold expired (run longer, or shorten --hold-seconds)")
    if summary["state_changes"] < min_changes:
        reasons.append(f"only {summary['state_changes']} state changes (fewer than {min_changes})")
    never = [move for move in REQUIRED_MOVES if not tally.done(move)]
    if never:
        reasons.append("never succeeded: " + ", ".join(never))
    return reasons


def print_summary(summary: dict, reasons: list[str], log_dir: Path | None) -> None:
    settings, requests, expiry, facts = (summary["settings"], summary["requests"], summary["expiry"],
                                         summary["database"])
    print(f"\nSoak: {settings['people']} people for {settings['seconds']:g} s against 2 gunicorn servers × "
          f"{settings['workers_per_server']} workers; holds last {settings['hold_seconds']:g} s; expire-holds "
          f"every {settings['expire_every']:g} s (seed {settings['seed']}, schema {settings['schema']})")
    print(f"\nRequests: {requests['total']} ({requests['per_second']}/s); by server: "
          + ", ".join(f"{name} {n}" for name, n in requests["by_server"].items()))
    print("  by status: " + ", ".join(f"{status} × {n}" for status, n in requests["by_status"].items()))
    print(f"  by endpoint:{'':<34}ms: median   p95   max")
    for endpoint, statuses in requests["by_endpoint"].items():
        ms = requests["milliseconds_by_endpoint"][endpoint]
        print(f"    {endpoint:<42} {ms['median']:>6} {ms['p95']:>5} {ms['max']:>5}   "
              + ", ".join(f"{status} × {n}" for status, n in statuses.items()))
    print(f"\nState changes (successful POSTs, sign-ins aside): {summary['state_changes']}")
    for move, outcomes in summary["moves"].items():
        print(f"    {move:<16} " + ", ".join(f"{outcome} {n}" for outcome, n in outcomes.items()))
    print("  what the refusals said (most frequent first):")
    for refusal in summary["refusals"][:12]:
        print(f"    {refusal['times']:>5} × {refusal['move']} {refusal['status']}: {refusal['said']}")
    print(f"\nExpiry: {expiry['expired_referrals']} referrals expired. expire-holds ran in "
          f"{expiry['expire_holds_rounds']} rounds, from both servers at once ({expiry['expire_holds_runs']} runs, "
          f"{len(expiry['expire_holds_failures'])} failed), and expired {expiry['expired_by_expire_holds']} of them; "
          "requests expire the overdue holds of a pool they touch, too")
    for failure in expiry["expire_holds_failures"][:3]:
        print(f"  {failure['server']} exit {failure['exit_code']}: {last_lines(failure['output'])}")
    print("Referrals by status: "
          + ", ".join(f"{status} {n}" for status, n in facts["referrals_by_status"].items()))
    print(f"Beds at the end: {facts['beds']}; {facts['bed_updates']} bed updates")
    print(f"Audit events: {facts['audit_events']}, most of them "
          + ", ".join(f"{action} {n}" for action, n in list(facts["audit_events_by_action"].items())[:4]))
    for command, check in summary["checks"].items():
        print(f"{command}: exit {check['exit_code']}: {last_lines(check['output'], 5)}")
    boards = summary["boards"]
    if boards["equal"]:
        print(f"Free beds on the board: the same on both servers ({boards['free_beds']} free in "
              f"{boards['pools']} pools; attempt {boards['attempts']})")
    else:
        print("Free beds on the board DIFFER: " + "; ".join(boards["differences"]))
    logs = summary["logs"]
    print(f"Server logs: {requests['server_errors']} 5xx answers seen by the people, "
          f"{logs['server_errors_logged']} in the access logs, {requests['no_answer']} without answer, "
          f"{logs['tracebacks']} tracebacks, "
          f"{logs['deadlock_lines']} lines mentioning a deadlock, {logs['worker_timeouts']} worker timeouts")
    for line in logs["server_error_samples"][:5] + logs["deadlock_samples"][:3]:
        print(f"  {line}")
    for sample in requests["failed_samples"][:3]:
        print(f"  {sample['server']} {sample['request']} -> {sample['status']}")
    if logs["first_traceback"]:
        print("First traceback:\n  " + logs["first_traceback"].replace("\n", "\n  "))
    if log_dir is not None:
        print(f"Server logs kept in {log_dir}")
    print("\nPASS" if not reasons else "\nFAIL:\n  " + "\n  ".join(reasons))


def last_lines(output: str, count: int = 2) -> str:
    return "\n    ".join([line for line in output.splitlines() if line.strip()][-count:])


def main(argv=None) -> int:
    options = parse_options(argv)
    # Ctrl-C and `kill` unwind through the `finally`s, so the servers stop and the schema goes.
    # (SIGINT explicitly: a shell starts background jobs with it ignored.)
    signal.signal(signal.SIGINT, signal.default_int_handler)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    base_url = os.environ.get("SOAK_DATABASE_URL") or os.environ.get("TEST_DATABASE_URL") or DEFAULT_DATABASE_URL
    print(f"Building a schema on {base_url} ...", flush=True)
    try:
        world = build_world(base_url)
    except OperationalError as error:
        print(f"Cannot use PostgreSQL at {base_url}: {error.orig}", file=sys.stderr)
        return 2
    log_dir = Path(tempfile.mkdtemp(prefix="soak-logs-"))
    servers: list[AppServer] = []
    try:
        env = server_env(world.url, secrets.token_hex(32), options.hold_seconds)
        servers = [AppServer(name, env, log_dir, options.workers) for name in ("server-a", "server-b")]
        for server in servers:
            server.start()
        for server in servers:
            server.wait_until_healthy()
        print(f"Servers up at {', '.join(s.url for s in servers)}; {options.people} people start now "
              f"for {options.seconds:g} s.", flush=True)

        tally = Tally()
        started = time.monotonic()
        expiry = run_people(world, servers, options, tally)
        elapsed = time.monotonic() - started
        print("Load stopped; checking.", flush=True)

        checks = [flask_command(servers[0], command) for command in ("check-integrity", "verify-audit")]
        monitor = next(a for a in world.accounts if a.role == OVERSIGHT)
        boards = compare_boards(servers, monitor, Tally())
        facts = database_facts(world.url)
    except BaseException:
        print(f"Stopped early; server logs are in {log_dir}", file=sys.stderr)
        raise
    finally:
        for server in servers:
            server.stop()
        world.drop()
    logs = scan_logs(servers, expiry.runs + checks)
    summary = summarize(options, world, tally, expiry, checks, boards, facts, logs, elapsed)
    reasons = verdict(summary, tally, options.min_changes)
    summary["passed"], summary["reasons"] = not reasons, reasons
    keep_logs = bool(reasons) or options.keep_logs
    if keep_logs:
        summary["log_dir"] = str(log_dir)
    else:
        shutil.rmtree(log_dir, ignore_errors=True)
    print_summary(summary, reasons, log_dir if keep_logs else None)
    if options.json:
        options.json.write_text(json.dumps(summary, indent=2, default=str))
    return 0 if not reasons else 1


if __name__ == "__main__":
    try:
        sys.exit(main())
    except KeyboardInterrupt:  # already cleaned up; the message said where the logs are
        sys.exit(130)
