"""Fixtures for whole flows in a real browser: Debian's Chromium, driven by Playwright,
against the app served over HTTP by a thread of the test process.

    def test_something(make, new_page, live_server):
        staff = make.user("shelter_staff", organization=...)
        caseworker = make.user("caseworker")
        ...                        # read every id you need from your records now
        staff_page = new_page(staff)
        board_page = new_page(caseworker)
        board_page.goto("/beds")   # relative to live_server.url

`new_page(user)` gives each person a browser context of their own (own cookies, so a
session of their own), signed in through the real /login page. Any number of people may
take part in one test.

The live server works on the same database as the test, through connections of its
own. SQLite takes its write lock when a transaction begins (BEGIN IMMEDIATE, see
coordination/__init__.py), so while the browser drives the server the test's own
`db.session` must hold no transaction: `new_page` commits it, and a test that reads a
record while pages are open reads what it needs first, or commits again right after
(`db.session.expire_all()`, read, `db.session.commit()`). Merely touching an attribute
of a committed record starts a transaction.

Chromium is /usr/bin/chromium (Debian's package `chromium`; never a browser downloaded by
Playwright). Without it these tests are skipped on a developer's machine, and fail when
CI=true, because there .ci/run installs it and its absence is a broken CI run.
"""
import os
import threading
from dataclasses import dataclass

import pytest
from flask import Flask

from coordination.extensions import db

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    # This machine has no network but loopback: keep Chromium from calling home.
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]
# How long a browser step may take before the test fails (milliseconds). Generous: a
# slow CI machine must not fail a correct app, and a broken one fails just the same.
STEP_TIMEOUT_MS = 15_000
# The bed board polls this often in the live app; tests wait a few periods at most.
BOARD_REFRESH_SECONDS = 2


@dataclass(frozen=True)
class LiveServer:
    url: str
    app: Flask


@pytest.fixture(scope="session")
def live_server(database_url):
    """The app on http://127.0.0.1:<free port>, on the test database, until the session ends."""
    from werkzeug.serving import make_server

    from .conftest import make_app

    app = make_app(database_url, BOARD_REFRESH_SECONDS=BOARD_REFRESH_SECONDS, SERVER_NAME=None)
    server = make_server("127.0.0.1", 0, app, threaded=True)  # port 0: the system picks a free one
    thread = threading.Thread(target=server.serve_forever, name="live-server", daemon=True)
    thread.start()
    try:
        yield LiveServer(url=f"http://127.0.0.1:{server.server_port}", app=app)
    finally:
        server.shutdown()
        thread.join(timeout=10)
        server.server_close()
        with app.app_context():
            db.engine.dispose()


def _require_chromium() -> None:
    if os.path.exists(CHROMIUM):
        return
    if os.environ.get("CI") == "true":
        pytest.fail(f"{CHROMIUM} is missing: CI must run browser tests (.ci/run installs "
                    "Debian's chromium package).", pytrace=False)
    pytest.skip(f"{CHROMIUM} is missing; `apt-get install chromium` to run browser tests")


@pytest.fixture(scope="session")
def browser():
    """One headless Chromium for the whole session; each person gets a context of it."""
    _require_chromium()
    from playwright.sync_api import expect, sync_playwright

    expect.set_options(timeout=STEP_TIMEOUT_MS)  # expect() waits as long as an action may
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS,
                                              headless=True)
        try:
            yield chromium
        finally:
            chromium.close()


@pytest.fixture
def new_page(app, browser, live_server):
    """new_page(user): a page signed in as `user` through the real login form, in a
    browser context of its own, with relative URLs resolved against the live server.

    Each page collects uncaught script errors in `page.script_errors` (a CSP violation or
    a broken htmx attribute shows up there), for tests to assert it stays empty."""
    from playwright.sync_api import expect

    from .conftest import PASSWORD

    contexts = []

    def open_page_as(user, password: str = PASSWORD, language: str = "en"):
        """... with a browser that asks for `language` (the sign-in page speaks it)."""
        from flask_babel import force_locale, gettext

        email = user.email
        db.session.commit()  # hold no transaction (and so no SQLite lock) while the server works
        context = browser.new_context(base_url=live_server.url, locale=language)
        context.set_default_timeout(STEP_TIMEOUT_MS)
        contexts.append(context)
        page = context.new_page()
        page.script_errors = []
        page.on("pageerror", lambda error: page.script_errors.append(str(error)))
        page.goto("/login")
        with force_locale(language):
            email_label, password_label, sign_in = gettext("Email"), gettext("Password"), gettext("Sign in")
        page.get_by_label(email_label, exact=True).fill(email)
        page.get_by_label(password_label, exact=True).fill(password)
        with page.expect_navigation():
            page.get_by_role("button", name=sign_in).click()
        expect(page, f"{email} could not sign in").to_have_url(live_server.url + "/")
        return page

    yield open_page_as
    for context in contexts:
        context.close()
