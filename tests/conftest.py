"""Fixtures: a real database built by the real migrations, and helpers that make what a
test needs. The suite runs on SQLite by default and on PostgreSQL when
TEST_DATABASE_URL is set; every test starts from empty tables."""
from datetime import timedelta
import functools
import os
import re
import time
import uuid
from pathlib import Path

import pytest
from flask_migrate import upgrade
from sqlalchemy import create_engine, text
from sqlalchemy.exc import DBAPIError

from coordination import clock, create_app
from coordination.accounts.models import Organization, Region, User
from coordination.audit import services as audit
from coordination.beds.models import BedPool, Shelter
from coordination.extensions import db
from coordination.referrals import services as referral_services
from coordination.referrals.models import Child, Referral
from coordination.transactions import retryable_reason

PASSWORD = "correct horse battery staple"
# Tests that are not about hashing hash with one round of PBKDF2: a real scrypt hash costs a
# tenth of a second or more per sign-in. Tests about hashing ask for `real_password_hashing`.
CHEAP_HASH_METHOD = "pbkdf2:sha256:1"
# The key that signs the audit trail in every test app (never the one in instance/).
AUDIT_KEY = "test-audit-key-0123456789abcdef0123456789abcdef"


def _database_url(tmp_root: Path) -> str:
    url = os.environ.get("TEST_DATABASE_URL")
    if url:
        return url
    return f"sqlite:///{tmp_root / 'test.sqlite3'}"


def _own_schema(url: str) -> tuple[str, str | None]:
    """On PostgreSQL, a schema of this test run's own, so that runs sharing the server
    (two developers, CI) never see each other's tables. Returns the URL that uses it."""
    if not url.startswith("postgresql"):
        return url, None
    schema = f"test_{os.getpid()}_{uuid.uuid4().hex[:8]}"
    engine = create_engine(url, isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    engine.dispose()
    separator = "&" if "?" in url else "?"
    return f"{url}{separator}options=-csearch_path%3D{schema}", schema


def _drop_schema(url: str, schema: str) -> None:
    engine = create_engine(url, isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
    engine.dispose()


def make_app(database_url: str, **overrides):
    config = {
        "TESTING": True,
        "SQLALCHEMY_DATABASE_URI": database_url,
        "SECRET_KEY": "test-secret-key",
        "AUDIT_KEY": AUDIT_KEY,
        "AUDIT_PREVIOUS_KEYS": (),
        "SERVER_NAME": "coordination.test",
        # Every test client shares one address; the limit has a test of its own. (The
        # limiter is one object for all apps, so the limit is set per app, not switched off.)
        "LOGIN_RATE_LIMIT": "100000 per minute",
        "PASSWORD_HASH_METHOD": CHEAP_HASH_METHOD,
    }
    config.update(overrides)
    return create_app(config)


@pytest.fixture(scope="session")
def database_url(tmp_path_factory):
    base_url = _database_url(tmp_path_factory.mktemp("db"))
    url, schema = _own_schema(base_url)
    app = make_app(url)
    with app.app_context():
        upgrade()  # the schema comes from the migrations, exactly as in production
        db.engine.dispose()
    yield url
    if schema is not None:
        _drop_schema(base_url, schema)


@pytest.fixture(scope="session")
def _session_app(database_url):
    return make_app(database_url)


@pytest.fixture
def app(_session_app):
    """The app, with an application context pushed and the tables emptied afterwards."""
    with _session_app.app_context():
        yield _session_app
        db.session.remove()
        _empty_tables()
    clock.freeze(None)


@pytest.fixture
def real_password_hashing(app):
    """For tests about hashing itself: passwords are hashed as in production (scrypt)."""
    app.config["PASSWORD_HASH_METHOD"] = "scrypt"
    yield
    app.config["PASSWORD_HASH_METHOD"] = CHEAP_HASH_METHOD


def _empty_tables(attempts: int = 5) -> None:
    """Empty every table. On PostgreSQL, TRUNCATE locks the tables one after another, so a
    request still in flight at the live server (a page's last poll, as a browser test ends)
    can meet it in a deadlock; the database then aborts one of the two, and when that is the
    TRUNCATE it runs again, rather than leave this test's rows to the next one."""
    tables = list(reversed(db.metadata.sorted_tables))
    for attempt in range(1, attempts + 1):
        try:
            with db.engine.begin() as conn:
                if conn.dialect.name == "postgresql":
                    names = ", ".join(f'"{t.name}"' for t in tables)
                    conn.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
                else:
                    for table in tables:
                        conn.execute(table.delete())
            return
        except DBAPIError as error:
            if retryable_reason(error) is None or attempt == attempts:
                raise
            time.sleep(0.1 * attempt)


# --- making things ------------------------------------------------------------------------

class _acting:
    """Attribute audit events to `user` while a test calls services directly."""

    def __init__(self, user: User):
        self.actor = audit.Actor(user_id=user.id, organization_id=user.organization_id, client_address="test")

    def __enter__(self):
        self.token = audit.act_as(self.actor)

    def __exit__(self, *exc):
        audit.reset(self.token)


@functools.lru_cache(maxsize=1)
def password_hash() -> str:
    """The suite's PASSWORD, hashed once per run (cheaply: see CHEAP_HASH_METHOD)."""
    from werkzeug.security import generate_password_hash

    return generate_password_hash(PASSWORD, method=CHEAP_HASH_METHOD)


class Factory:
    """Makes committed records with sensible defaults; every name is unique per test."""

    def __init__(self):
        self.n = 0

    def _next(self) -> int:
        self.n += 1
        return self.n

    def region(self, name: str | None = None) -> Region:
        i = self._next()
        region = Region(code=f"R{i}", name=name or f"Region {i}")
        return self._save(region)

    def organization(self, kind: str = "ngo", region: Region | None = None, name: str | None = None) -> Organization:
        i = self._next()
        org = Organization(name=name or f"Organization {i}", kind=kind, region=region or self.region())
        return self._save(org)

    def user(self, role: str, organization: Organization | None = None, email: str | None = None,
             password: str = PASSWORD, locale: str = "en") -> User:
        """A user who reads the app in English, as the tests do (unless `locale` says otherwise)."""
        i = self._next()
        user = User(email=email or f"{role}{i}@example.org", name=f"{role.title()} {i}", role=role,
                    organization=organization or self.organization(), locale=locale)
        if password == PASSWORD:
            user.password_hash = password_hash()
        else:
            user.set_password(password)
        return self._save(user)

    def shelter(self, organization: Organization | None = None, region: Region | None = None,
                **values) -> Shelter:
        i = self._next()
        organization = organization or self.organization()
        values.setdefault("name", f"Shelter {i}")
        values.setdefault("address", f"{i} Test Street")
        values.setdefault("languages", ["az"])
        values.setdefault("services", [])
        shelter = Shelter(organization=organization, region=region or organization.region, **values)
        return self._save(shelter)

    def pool(self, shelter: Shelter | None = None, capacity: int = 5, occupied: int = 0,
             out_of_service: int = 0, **values) -> BedPool:
        i = self._next()
        values.setdefault("label", f"Pool {i}")
        values.setdefault("last_confirmed_at", clock.now())
        pool = BedPool(shelter=shelter or self.shelter(), capacity=capacity, occupied=occupied,
                       out_of_service=out_of_service, held=0, version=1, **values)
        return self._save(pool)

    def child(self, organization: Organization | None = None, registered_by: User | None = None,
              consent: bool = True, **values) -> Child:
        """A child registered through the service, as a caseworker would."""
        caseworker = registered_by or self.user("caseworker", organization=organization)
        values.setdefault("given_name", "Child")
        values.setdefault("family_name", f"Number {self._next()}")
        values.setdefault("sex", "female")
        values.setdefault("birth_date", None)
        values.setdefault("estimated_age", 14)
        values.setdefault("nationality", "")
        values.setdefault("languages", [])
        values.setdefault("needs", [])
        values.setdefault("region_id", caseworker.organization.region_id)
        values.setdefault("consent_given_by", "the child's aunt" if consent else "")
        values.setdefault("consent_given_at", clock.now() if consent else None)
        values.setdefault("child_assent", True)
        # Found an hour ago at a border crossing, in the caseworker's region: not a place that alerts.
        values.setdefault("found_place", "border_crossing")
        values.setdefault("found_region_id", caseworker.organization.region_id)
        values.setdefault("found_at", clock.now() - timedelta(hours=1))
        with _acting(caseworker):
            child = referral_services.register_child(caseworker, **values)
        db.session.commit()
        return child

    def referral(self, pool: BedPool | None = None, child: Child | None = None, status: str = "draft",
                 urgency: str = "routine", caseworker: User | None = None) -> Referral:
        """A referral taken to `status` through the real moves, by the people who make them."""
        pool = pool or self.pool()
        if child is None:
            child = self.child(registered_by=caseworker)
        caseworker = caseworker or child.registered_by
        with _acting(caseworker):
            referral = referral_services.create_referral(caseworker, child, pool, urgency, "")
        db.session.commit()
        path = {"draft": [], "submitted": ["submit"], "accepted": ["submit", "accept"],
                "approved": ["submit", "accept", "approve"], "placed": ["submit", "accept", "approve", "place"],
                "declined": ["submit", "decline"], "rejected": ["submit", "accept", "reject"],
                "withdrawn": ["submit", "withdraw"], "discharged": ["submit", "accept", "approve", "place", "discharge"],
                # an emergency referral (urgency="emergency") taken in before the guardianship decision
                "emergency_placed": ["submit", "place_now"], "moving_out": ["submit", "place_now", "reject_emergency"]}
        for action in path[status]:
            actor = self.actor_for(action, referral)
            with _acting(actor):
                referral_services.move(referral, action, actor, reason_code="other", reason_text="test reason")
            db.session.commit()
        return referral

    def actor_for(self, action: str, referral: Referral) -> User:
        """Someone who may make `action` on this referral (made on first need)."""
        part = referral_services.MOVES[action].part
        shelter = referral.pool.shelter
        if part == referral_services.REFERRING_CASEWORKER:
            return referral.caseworker
        if part == referral_services.POOL_STAFF:
            return self.user("shelter_staff", organization=shelter.organization)
        guardian_org = self.organization(kind="state", region=shelter.region)
        return self.user("guardianship", organization=guardian_org)

    @staticmethod
    def _save(obj):
        db.session.add(obj)
        db.session.commit()
        return obj


@pytest.fixture
def make(app) -> Factory:
    return Factory()


# --- a signed-in browser, without the browser -------------------------------------------

CSRF_INPUT = re.compile(r'name="csrf_token"(?: type="hidden")? value="([^"]+)"')
HTMX = {"HX-Request": "true", "HX-Request-Type": "partial"}


class Client:
    """The Flask test client plus what a person's browser would do: sign in, carry the
    CSRF token of the page it is on, and send htmx's headers when asked to.

    Each request runs in an application context of its own, as on a real server: it gets
    its own `g` and its own database session, never the test's. The test's session is
    committed first (so it holds no lock and the request sees what the test made) and
    reads afresh afterwards."""

    def __init__(self, app):
        self.app = app
        self.http = app.test_client()
        self._token = None

    def _open(self, method: str, url: str, **kwargs):
        kwargs["headers"] = {"Accept-Language": "en", **kwargs.get("headers", {})}  # as the tests read
        db.session.commit()
        with self.app.app_context():
            response = self.http.open(url, method=method, **kwargs)
        db.session.expire_all()
        return response

    def csrf_token(self) -> str:
        if self._token is None:
            page = self._open("GET", "/login" if not self._signed_in else "/")
            self._token = CSRF_INPUT.search(page.get_data(as_text=True)).group(1)
        return self._token

    _signed_in = False

    def login(self, email: str, password: str = PASSWORD, next: str | None = None):
        self._signed_in = False
        self._token = None
        data = {"email": email, "password": password, "csrf_token": self.csrf_token()}
        if next is not None:
            data["next"] = next
        response = self._open("POST", "/login", data=data)
        self._signed_in = response.status_code == 303
        self._token = None
        return response

    def get(self, url: str, htmx: bool = False, **kwargs):
        headers = dict(HTMX) if htmx else {}
        headers.update(kwargs.pop("headers", {}))
        return self._open("GET", url, headers=headers, **kwargs)

    def post(self, url: str, data: dict | None = None, htmx: bool = False, csrf: bool = True, **kwargs):
        data = dict(data or {})
        if csrf and "csrf_token" not in data:
            data["csrf_token"] = self.csrf_token()
        headers = dict(HTMX) if htmx else {}
        headers.update(kwargs.pop("headers", {}))
        return self._open("POST", url, data=data, headers=headers, **kwargs)


def at_address(app, address: str) -> Client:
    """A browser whose requests come from this client address (the others come from 127.0.0.1)."""
    client = Client(app)
    client.http.environ_base["REMOTE_ADDR"] = address
    return client


def owing_a_code(app, user: User) -> Client:
    """A browser that gave this person's password and owes the second factor (or, with no
    key yet, must set one up): a pending sign-in on the server, its token in the session."""
    from coordination.accounts.routes import PENDING_KEY
    from coordination.accounts.services import start_pending_sign_in

    token = start_pending_sign_in(user, "127.0.0.1")
    db.session.commit()
    client = Client(app)
    with client.http.session_transaction() as session:
        session[PENDING_KEY] = token
    return client


@pytest.fixture
def client(app) -> Client:
    return Client(app)


@pytest.fixture
def login_as(app, make):
    """login_as(role) or login_as(user): a signed-in Client for that person."""

    def sign_in(who, **user_values) -> Client:
        user = make.user(who, **user_values) if isinstance(who, str) else who
        signed_in = Client(app)
        response = signed_in.login(user.email)
        assert response.status_code == 303, response.get_data(as_text=True)
        signed_in.user = user
        return signed_in

    return sign_in


# --- a real browser (live_server, browser, new_page): see tests/browser_fixtures.py -------

from .browser_fixtures import browser, live_server, new_page  # noqa: E402,F401
