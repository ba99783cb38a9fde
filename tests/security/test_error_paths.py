"""When something goes wrong, the answer is still the app's own: its page (or, for htmx, a
small message for the page's message area) with every security header, whatever failed:
a body over the size limit, the database, the view itself."""
from itertools import product

import pytest
from flask import abort

from coordination.errors import Conflict
from coordination.extensions import db
from coordination.security import STRICT_TRANSPORT_SECURITY

from ..conftest import HTMX, Client, make_app
from .checks import is_whole_page, response_problems
from .test_headers_and_csp import addresses
from .world import build_world, signed_in

OVER_THE_LIMIT = {"note": "a" * (1024 * 1024)}  # with the rest of the form, just over MAX_CONTENT_LENGTH
TOO_LARGE = "What you sent is too large; nothing was changed."


@pytest.fixture
def small_world(make):
    return build_world(make, statuses=("draft", "submitted", "accepted"))


def assert_message_for_the_message_area(response, status: int, where: str = ""):
    """An htmx error: the small message fragment, sent to the message area of the page."""
    assert response.status_code == status, (where, response.status_code)
    assert not is_whole_page(response), where
    body = response.get_data(as_text=True)
    assert f'class="refusal" role="alert" data-status="{status}"' in body, (where, body[:300])
    assert response.headers.get("HX-Retarget") == "#messages", where
    assert response.headers.get("HX-Reswap") == "innerHTML", where
    assert response_problems(response) == [], (where, response_problems(response))


# --- a body over the size limit -------------------------------------------------------------

def post_addresses(app, world) -> list[str]:
    """The first address of every POST route of the pages, filled with the world's real ids.
    (The API's routes refuse a session before they read a body: their 413 is a problem
    document, tests/api/test_hostile_json.py.)"""
    result = []
    for rule in sorted(app.url_map.iter_rules(), key=lambda r: r.rule):
        if "POST" in rule.methods and not rule.rule.startswith("/api/"):
            urls = addresses(rule, world)
            assert isinstance(urls, list), urls
            result.append(urls[0])
    return result


def test_an_oversized_post_answers_413_with_the_apps_page_on_every_post_address(app, small_world):
    admin, caseworker = signed_in(app, small_world.users["admin"]), signed_in(app, small_world.users["caseworker"])
    urls = post_addresses(app, small_world)
    assert len(urls) >= 31
    problems = []
    for url, (who, person), htmx in product(urls, (("admin", admin), ("caseworker", caseworker)), (False, True)):
        where = f"POST {url} as {who}{' (htmx)' if htmx else ''}"
        try:
            response = person.post(url, OVER_THE_LIMIT, htmx=htmx)
        except Exception as error:  # the test app passes errors up instead of a 500 page
            problems.append(f"{where}: raised {type(error).__name__}: {str(error)[:200]}")
            continue
        if response.status_code != 413:
            problems.append(f"{where}: status {response.status_code}")
            continue
        if TOO_LARGE not in response.get_data(as_text=True):
            problems.append(f"{where}: not the app's message")
        problems += [f"{where}: {problem}" for problem in response_problems(response)]
        if htmx and (is_whole_page(response) or response.headers.get("HX-Retarget") != "#messages"):
            problems.append(f"{where}: not the message fragment for the message area")
        if not htmx and not is_whole_page(response):
            problems.append(f"{where}: not a page")
    assert not problems, f"{len(problems)} problems:\n" + "\n".join(problems)


# --- the database down -----------------------------------------------------------------------

UNREACHABLE = {
    "postgresql-port-nobody-listens-on": lambda tmp_path: "postgresql+psycopg://postgres@127.0.0.1:1/nothing",
    "sqlite-in-missing-directory": lambda tmp_path: f"sqlite:///{tmp_path / 'no-such-directory' / 'db.sqlite3'}",
}


@pytest.mark.parametrize("production", [False, True], ids=["development", "production"])
@pytest.mark.parametrize("where", UNREACHABLE)
def test_with_the_database_down_a_signed_in_page_is_the_apps_own_in_the_browsers_language(
        app, make, tmp_path, where, production):
    """The session of someone signed in, sent to a server whose database does not answer:
    the app's own page, with every header, in the language the browser asks for (knowing
    the person's own language takes the database)."""
    email = make.user("caseworker", locale="en").email
    person = Client(app)
    assert person.login(email).status_code == 303
    cookie = person.http.get_cookie("session", domain="coordination.test").value
    down = make_app(UNREACHABLE[where](tmp_path), PROPAGATE_EXCEPTIONS=False,
                    COORDINATION_ENV="production" if production else "development")
    browser = down.test_client()
    browser.set_cookie("session", cookie, domain="coordination.test")
    try:
        page = browser.get("/beds", headers={"Accept-Language": "ru"})
        fragment = browser.get("/", headers={"Accept-Language": "ru", **HTMX})
        health = down.test_client().get("/healthz")
    finally:
        with down.app_context():
            db.engine.dispose()

    assert page.status_code == 503
    assert is_whole_page(page)
    body = page.get_data(as_text=True)
    assert '<html lang="ru">' in body and "Произошла ошибка" in body, body
    assert "с базой данных" in body, body
    for response in (page, fragment):
        assert response_problems(response) == [], response_problems(response)
        assert response.headers["X-Frame-Options"] == "DENY"
        assert response.headers.get("Strict-Transport-Security") == (STRICT_TRANSPORT_SECURITY if production else None)
    assert_message_for_the_message_area(fragment, 503)
    assert health.status_code == 503 and health.get_json()["database"].startswith("unavailable")


def test_a_view_that_fails_answers_with_the_apps_page_and_every_header(app, database_url, make):
    email = make.user("caseworker").email
    broken = make_app(database_url, PROPAGATE_EXCEPTIONS=False, COORDINATION_ENV="production")

    @broken.get("/__broken")
    def fails():
        raise RuntimeError("a bug")

    db.session.commit()
    with broken.app_context():
        person = Client(broken)
        assert person.login(email).status_code == 303
        page, fragment = person.get("/__broken"), person.get("/__broken", htmx=True)
    assert page.status_code == 500 and is_whole_page(page)
    assert "Something went wrong on our side" in page.get_data(as_text=True)
    for response in (page, fragment):
        assert response_problems(response) == []
        assert response.headers["Strict-Transport-Security"] == STRICT_TRANSPORT_SECURITY
    assert_message_for_the_message_area(fragment, 500)


# --- errors on htmx requests ------------------------------------------------------------------

def test_every_page_has_the_message_area_htmx_errors_go_to(app, make, login_as, client):
    caseworker = login_as("caseworker")
    for person, url in ((client, "/login"), (caseworker, "/"), (caseworker, "/beds"), (caseworker, "/account")):
        page = person.get(url).get_data(as_text=True)
        assert '<div class="flashes" id="messages" aria-live="polite">' in page, url


def test_htmx_errors_answer_with_the_message_fragment_for_the_message_area(app, database_url, make, login_as):
    caseworker = login_as("caseworker")
    cases = [
        (403, lambda: caseworker.get("/audit", htmx=True)),
        (404, lambda: caseworker.get("/no-such-page", htmx=True)),
        (405, lambda: caseworker.get("/logout", htmx=True)),
        (413, lambda: caseworker.post("/notifications/read", OVER_THE_LIMIT, htmx=True)),
        (422, lambda: caseworker.post("/account/language", {"language": "xx"}, htmx=True)),
        (400, lambda: caseworker.post("/notifications/read", {}, htmx=True, csrf=False)),  # no CSRF token
    ]
    for status, request in cases:
        assert_message_for_the_message_area(request(), status, f"status {status}")
    assert "POST" in caseworker.get("/logout", htmx=True).headers["Allow"]


def test_htmx_conflicts_rate_limits_and_server_errors_answer_for_the_message_area(app, database_url, make):
    email = make.user("caseworker").email
    other = make_app(database_url, PROPAGATE_EXCEPTIONS=False, LOGIN_RATE_LIMIT="1 per minute")

    @other.get("/__conflict")
    def conflict():
        raise Conflict("Someone else changed this meanwhile.")

    @other.get("/__aborts")
    def aborts():
        abort(500)

    db.session.commit()
    with other.app_context():
        person = Client(other)
        assert person.login(email).status_code == 303
        answers = {409: person.get("/__conflict", htmx=True), 500: person.get("/__aborts", htmx=True)}
        anonymous = Client(other)
        for _ in range(2):
            answers[429] = anonymous.post("/login", {"email": email, "password": "wrong"}, htmx=True)
    for status, response in answers.items():
        assert_message_for_the_message_area(response, status, f"status {status}")


def test_a_pool_rows_own_conflict_answer_stays_on_the_row(app, make, login_as):
    """A view that answers its own target (here: the pool row with today's numbers) is not
    sent to the message area."""
    staff = make.user("shelter_staff")
    pool = make.pool(make.shelter(organization=staff.organization), capacity=5)
    person = login_as(staff)
    response = person.post(f"/shelters/{pool.shelter_id}/pools/{pool.id}/adjust",
                           {"version": pool.version + 1, "field": "occupied", "delta": "1"}, htmx=True)
    assert response.status_code == 409
    assert "HX-Retarget" not in response.headers
    assert f'id="pool-{pool.id}"' in response.get_data(as_text=True)


# --- HSTS --------------------------------------------------------------------------------------

def test_production_tells_browsers_to_come_back_over_https_only(database_url, app, make):
    production = make_app(database_url, COORDINATION_ENV="production")
    with production.app_context():
        for url in ("/login", "/no-such-page", "/static/app.css", "/healthz"):
            response = production.test_client().get(url)
            assert response.headers["Strict-Transport-Security"] == "max-age=63072000; includeSubDomains", url


def test_development_does_not_send_hsts(client):
    """A development server answers plain HTTP; HSTS there would lock a browser out of it."""
    for url in ("/login", "/no-such-page", "/static/app.css"):
        assert "Strict-Transport-Security" not in client.get(url).headers, url
