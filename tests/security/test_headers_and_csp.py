"""Every response carries a strict Content-Security-Policy, nosniff and a same-origin
referrer policy; every page (it may show a child's data) says no-store; and no page or
fragment carries inline script, inline style, `hx-on` or `js:` values, so the policy holds.

The pages come from the app's own URL map: a route added later is rendered here without
anyone remembering to list it, and a route whose address this world cannot fill fails,
naming the rule, instead of being skipped."""
from itertools import product

import pyotp
import pytest
from flask import abort
from werkzeug.wrappers import Response

from coordination.extensions import db
from coordination.referrals.services import MOVES
from coordination.security import csp_header

from ..conftest import HTMX, Client, make_app, owing_a_code
from .checks import csp_problems, header_problems, inline_code, is_whole_page, parse_csp, response_problems
from .world import ROLES, build_world, signed_in

# --- the checks themselves find what they look for (the control for everything below) ------

@pytest.mark.parametrize("markup, expected", [
    ("<script>alert(1)</script>", "a <script> without src"),
    ('<script src="/static/htmx.min.js">alert(1)</script>', "an inline script"),
    ('<script type="application/json">{"a": 1}</script>', "a <script> without src"),
    ("<p>text<script>", "a <script> without src"),
    ('<p style="color: red">x</p>', 'style="color: red"'),
    ("<style>p { color: red }</style>", "a <style> element"),
    ('<button hx-on:click="go()">x</button>', "hx-on:click"),
    ('<button hx-on::after-request="go()">x</button>', "hx-on::after-request"),
    ('<button hx-on="click: go()">x</button>', "hx-on on <button>"),
    ('<button data-hx-on:click="go()">x</button>', "data-hx-on:click"),
    ('<div hx-vals=\'js:{"a": b}\'>x</div>', "a js: value"),
    ('<div hx-vals=" JS:{a: 1}">x</div>', "a js: value"),
    ('<img src=x onerror=alert(1)>', "inline event handler onerror"),
    ('<a href="javascript:alert(1)">x</a>', "a javascript: URL"),
])
def test_the_page_checker_finds_inline_code(markup, expected):
    problems = inline_code(f"<!doctype html><html><body>{markup}</body></html>")
    assert any(expected in problem for problem in problems), problems


def test_typed_text_is_not_code_outside_the_strict_check():
    """What a person typed, shown back in a text box, is text; in a link or an htmx attribute
    it would run."""
    typed = '<input name="q" value="javascript:alert(1)"><input name="r" value="js:alert(1)">'
    assert inline_code(typed, strict=False) == []
    assert len(inline_code(typed)) == 2
    for active in ('<a href=" javascript:alert(1)">x</a>', '<div hx-vals="js:{a: 1}">x</div>',
                   '<form action="javascript:alert(1)"></form>', '<div hx-get="javascript:alert(1)"></div>'):
        assert inline_code(active, strict=False), active


def test_the_page_checker_passes_clean_markup():
    markup = ('<!doctype html><html><head><script src="/static/htmx.min.js" defer></script>'
              '<link rel="stylesheet" href="/static/app.css"></head><body hx-headers:inherited=\'{"X": "1"}\'>'
              '<p class="styled">&lt;script&gt;alert(1)&lt;/script&gt; js: in text is fine</p>'
              '<form hx-post="/x" hx-target="#y" hx-vals=\'{"a": "js:b"}\'><input name="on"></form></body></html>')
    assert inline_code(markup) == []


@pytest.mark.parametrize("policy, expected", [
    ("default-src 'self'; script-src 'self' 'unsafe-inline'; style-src 'self'; frame-ancestors 'none'; "
     "form-action 'self'; base-uri 'self'", "script-src allows 'unsafe-inline'"),
    ("default-src 'self'; script-src 'self' 'unsafe-eval'; style-src 'self'; frame-ancestors 'none'; "
     "form-action 'self'; base-uri 'self'", "script-src allows 'unsafe-eval'"),
    ("default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; frame-ancestors 'none'; "
     "form-action 'self'; base-uri 'self'", "style-src allows 'unsafe-inline'"),
    ("default-src 'self' 'unsafe-inline'; frame-ancestors 'none'; form-action 'self'; base-uri 'self'",
     "script-src allows 'unsafe-inline'"),
    ("default-src 'self'; script-src *; style-src 'self'; frame-ancestors 'none'; form-action 'self'; "
     "base-uri 'self'", "script-src allows *"),
    ("default-src *; script-src 'self'; style-src 'self'; frame-ancestors 'none'; form-action 'self'; "
     "base-uri 'self'", "default-src must be 'self'"),
    ("default-src 'self'; script-src 'self'; style-src 'self'; form-action 'self'; base-uri 'self'",
     "frame-ancestors must be 'none'"),
    ("default-src 'self'; script-src 'self'; style-src 'self'; frame-ancestors 'none'; base-uri 'self'",
     "form-action must be 'self'"),
    ("default-src 'self'; script-src 'self'; style-src 'self'; frame-ancestors 'none'; form-action 'self'",
     "base-uri must be 'self'"),
    ("default-src 'self'; script-src 'self'; script-src 'unsafe-inline'; style-src 'self'; "
     "frame-ancestors 'none'; form-action 'self'; base-uri 'self'", "script-src is given twice"),
])
def test_the_policy_checker_finds_weak_policies(policy, expected):
    assert any(expected in problem for problem in csp_problems(policy)), csp_problems(policy)


def test_the_header_checker_finds_missing_and_weak_headers():
    good = {"Content-Security-Policy": csp_header(), "X-Content-Type-Options": "nosniff",
            "Referrer-Policy": "same-origin", "Cache-Control": "no-store"}
    assert header_problems(Response(headers=good)) == []
    for name, value, expected in [
        ("X-Content-Type-Options", None, "X-Content-Type-Options"), ("Referrer-Policy", "origin", "Referrer-Policy"),
        ("Cache-Control", "private, max-age=60", "without no-store"), ("Cache-Control", None, "without no-store"),
        ("Content-Security-Policy", None, "0 Content-Security-Policy headers"),
        ("Content-Security-Policy", csp_header().replace("'none'", "*"), "frame-ancestors must be 'none'"),
    ]:
        headers = {**good, name: value} if value else {k: v for k, v in good.items() if k != name}
        assert any(expected in problem for problem in header_problems(Response(headers=headers))), (name, value)
    twice = Response(headers=[*good.items(), ("Content-Security-Policy", "default-src *")])
    assert any("2 Content-Security-Policy headers" in problem for problem in header_problems(twice))
    static = {k: v for k, v in good.items() if k != "Cache-Control"}
    assert header_problems(Response(headers=static), page=False) == []


def test_the_apps_policy_table_is_strict():
    directives, _ = parse_csp(csp_header())
    assert csp_problems(csp_header()) == []
    assert directives["script-src"] == ["'self'"] and directives["style-src"] == ["'self'"]


# --- the world, and everyone who looks at it ----------------------------------------------------

SIGN_IN_ENDPOINTS = {"accounts.login", "accounts.second_factor"}

# URL arguments that are not ids, and what to fill them with (an action: POST routes only,
# for tests/security/test_error_paths.py).
WORDS = {"role": list(ROLES), "action": sorted(MOVES)}


@pytest.fixture
def world(make):
    """The whole world: a referral in every status."""
    return build_world(make)


@pytest.fixture
def small_world(make):
    """Enough for error pages and static files: records of every kind, a few referrals."""
    return build_world(make, statuses=("draft", "submitted", "accepted"))


def everyone(app, world) -> dict[str, Client]:
    """Everyone who may look at a page: a person of every role, someone of another
    organization, and nobody."""
    people = {role: signed_in(app, world.users[role]) for role in ROLES}
    people["caseworker of another organization"] = signed_in(app, world.users["rival_caseworker"])
    people["anonymous"] = Client(app)
    return people


class TokenHolder(Client):
    """Another system calling the API with its token (and no session)."""

    def __init__(self, app, secret: str):
        super().__init__(app)
        self.secret = secret

    def _open(self, method: str, url: str, **kwargs):
        kwargs["headers"] = {"Authorization": f"Bearer {self.secret}", **kwargs.get("headers", {})}
        return super()._open(method, url, **kwargs)


def token_holders(app, world) -> dict[str, Client]:
    """The world's API tokens, each held by its system: the only ones the API answers with a 200."""
    return {f"{role} API token": TokenHolder(app, secret) for role, (_token, secret) in world.api_tokens.items()}


def half_signed_in(app, world) -> dict[str, Client]:
    """Two people half-way through a two-factor sign-in: the only ones who see its page."""
    people = {}
    for name, secret in (("signing in, setting up two-factor", None),
                         ("signing in, owing a two-factor code", pyotp.random_base32())):
        user = world.person("guardianship", world.organizations[2], totp_secret=secret)
        people[name] = owing_a_code(app, user)
    return people


@pytest.fixture
def viewers(app, world) -> dict[str, Client]:
    return everyone(app, world)


def get_rules(app):
    """Every GET rule but static files. The sign-in pages come last, so that one which ended
    a visitor's session could not hide the rest of the sweep from them."""
    rules = [rule for rule in app.url_map.iter_rules() if "GET" in rule.methods and rule.endpoint != "static"]
    return sorted(rules, key=lambda r: (r.endpoint in SIGN_IN_ENDPOINTS, r.rule))


def addresses(rule, world) -> list[str] | str:
    """Every address of `rule` this world can fill (one per record it names), or a message
    saying why it cannot be filled."""
    ids, records = world.ids(), world.consistent_records()
    int_args = sorted(a for a in rule.arguments if type(rule._converters[a]).__name__ == "IntegerConverter")
    other_args = sorted(a for a in rule.arguments if a not in int_args)
    unknown = [a for a in int_args if a not in ids] + [a for a in other_args if a not in WORDS]
    if unknown:
        return (f"{rule.rule} (endpoint {rule.endpoint}) has {', '.join(unknown)}, which the security "
                f"tests' world cannot fill: teach tests/security/world.py (World.ids, World.consistent_records) "
                f"or WORDS in {__name__} what to put there")
    if len(int_args) <= 1:
        id_sets = [{a: v for a in int_args} for v in (ids[int_args[0]] if int_args else [None])]
    else:
        id_sets = [{a: record[a] for a in int_args} for record in records if all(a in record for a in int_args)]
        id_sets = [dict(t) for t in {tuple(sorted(s.items())) for s in id_sets}]
        if not id_sets:
            return (f"{rule.rule} (endpoint {rule.endpoint}) names {', '.join(int_args)} together, and no "
                    f"record of the world holds them all: add one to World.consistent_records")
    word_sets = [dict(zip(other_args, values)) for values in product(*(WORDS[a] for a in other_args))]
    result = []
    for id_set, word_set in product(id_sets, word_sets):
        built = rule.build({**id_set, **word_set}, append_unknown=False)
        if built is None:
            return f"{rule.rule} (endpoint {rule.endpoint}) could not be built from {id_set | word_set}"
        result.append(built[1])
    return sorted(set(result))


def test_every_page_address_can_be_filled_from_the_world(app, small_world):
    """A new route with an argument nobody taught the world fails here, by name."""
    unfillable = [problem for problem in (addresses(rule, small_world) for rule in get_rules(app))
                  if isinstance(problem, str)]
    assert not unfillable, "\n".join(unfillable)


def test_a_route_the_world_cannot_fill_fails_by_name(database_url, small_world):
    """The control for the test above: a route added tomorrow with an argument nobody taught
    the world is named, with what to do, rather than skipped."""
    tomorrow = make_app(database_url)
    tomorrow.add_url_rule("/admin/widgets/<int:widget_id>", "admin.widget", lambda widget_id: "")
    tomorrow.add_url_rule("/admin/shelters/<int:shelter_id>/users/<int:user_id>", "admin.shelter_user",
                          lambda shelter_id, user_id: "")
    rules = {rule.endpoint: rule for rule in get_rules(tomorrow)}
    assert "/admin/widgets/<int:widget_id>" in addresses(rules["admin.widget"], small_world)
    assert "widget_id" in addresses(rules["admin.widget"], small_world)
    assert "no record of the world holds them all" in addresses(rules["admin.shelter_user"], small_world)
    assert isinstance(addresses(rules["beds.shelter"], small_world), list)


def test_every_page_as_everyone_carries_the_headers_and_no_inline_code(app, world, viewers):
    """Every GET route, every address the world fills, as every viewer: the headers hold and
    the markup carries no inline code. Whatever a viewer may see is asked for again as the
    fragment htmx would ask for, and checked too. And somebody sees each page for real
    (a 200), or the sweep would prove nothing about it."""
    problems = []
    signing_in = half_signed_in(app, world)
    systems = token_holders(app, world)
    for rule in get_rules(app):
        urls = addresses(rule, world)
        if isinstance(urls, str):
            problems.append(urls)
            continue
        lookers = {**viewers, **signing_in} if rule.endpoint in SIGN_IN_ENDPOINTS else viewers
        if rule.rule.startswith("/api/"):
            lookers = {**viewers, **systems}
        statuses = set()
        for url, (who, client) in product(urls, lookers.items()):
            for htmx in (False, True):
                where = f"GET {url} as {who}{' (htmx)' if htmx else ''}"
                try:
                    response = client.get(url, htmx=htmx)
                except Exception as error:  # the test app passes errors up instead of a 500 page
                    problems.append(f"{where}: raised {type(error).__name__}: {str(error)[:200]}")
                    break
                statuses.add(response.status_code)
                if response.status_code >= 500:
                    problems.append(f"{where}: status {response.status_code}")
                problems += [f"{where}: {problem}" for problem in response_problems(response)]
                if response.status_code != 200 and who != "anonymous":
                    break  # a refusal's fragment is checked with the error pages
        if 200 not in statuses:
            problems.append(f"{rule.rule}: nobody got a 200 (statuses {sorted(statuses)}); "
                            f"teach the world to show it")
    assert not problems, f"{len(problems)} problems:\n" + "\n".join(sorted(set(problems))[:80])


# --- pages with a child's data ------------------------------------------------------------------

def test_pages_with_a_childs_data_are_never_stored(app, small_world):
    world = small_world
    viewers = everyone(app, world)
    caseworker, guardian, staff = viewers["caseworker"], viewers["guardianship"], viewers["shelter_staff"]
    child = world.referrals["accepted"].child
    referral = world.referrals["accepted"]
    for client, url in [(caseworker, f"/children/{child.id}"), (caseworker, f"/children/{child.id}/print"),
                        (caseworker, f"/referrals/{referral.id}"), (guardian, f"/referrals/{referral.id}"),
                        (staff, f"/referrals/{referral.id}"), (caseworker, "/children"),
                        (staff, f"/children/{child.id}/notes"), (guardian, f"/search?q={child.given_name}"),
                        (caseworker, f"/referrals/new?child={world.child_unreferred.id}")]:
        for htmx in (False, True):
            response = client.get(url, htmx=htmx)
            assert response.status_code == 200, (url, htmx, response.status_code)
            if not htmx and "/referrals/new" not in url and url != "/children":
                assert child.given_name in response.get_data(as_text=True), url  # the child's data is there
            assert "no-store" in response.headers["Cache-Control"], (url, response.headers.get("Cache-Control"))
            assert response_problems(response) == [], url


# --- the fragments htmx swaps -------------------------------------------------------------------

FRAGMENTS = ["/beds", "/", "/referrals", "/children", "/referrals/{referral}"]


def test_htmx_fragments_carry_the_headers_and_no_inline_code(app, small_world):
    world, problems = small_world, []
    viewers = everyone(app, world)
    for address in FRAGMENTS:
        seen = 0
        urls = [address.format(referral=r.id) for r in world.all_referrals()] if "{" in address else [address]
        for url, (who, client) in product(urls, viewers.items()):
            response = client.get(url, headers=HTMX)
            where = f"GET {url} as {who} (htmx)"
            if response.status_code >= 500:
                problems.append(f"{where}: status {response.status_code}")
            problems += [f"{where}: {problem}" for problem in response_problems(response)]
            if response.status_code == 200:
                seen += 1
                if is_whole_page(response):
                    problems.append(f"{where}: a whole page, not the fragment")
                if "HX-Request" not in response.headers.get("Vary", ""):
                    problems.append(f"{where}: no Vary: HX-Request")
        if not seen:
            problems.append(f"{address}: nobody got the fragment")
    assert not problems, "\n".join(problems)


# --- error pages --------------------------------------------------------------------------------

ERRORS = [
    # who, method, url, status
    ("caseworker", "GET", "/no-such-page", 404),
    ("caseworker", "GET", "/children/{rival_child}", 404),
    ("caseworker", "GET", "/referrals/{rival_referral}", 404),
    ("shelter_staff", "GET", "/referrals/{draft}", 404),
    ("caseworker", "GET", "/shelters/99999999999999999999", 404),
    ("caseworker", "GET", "/children/99999999999999999999", 404),
    ("caseworker", "GET", "/children/99999999999999999999/print", 404),
    ("caseworker", "GET", "/referrals/99999999999999999999", 404),
    ("caseworker", "GET", "/audit", 403),
    ("caseworker", "GET", "/admin/", 403),
    ("shelter_staff", "GET", "/children", 403),
    ("oversight", "GET", "/children/new", 403),
    ("caseworker", "GET", "/beds?age=abc", 400),
    ("caseworker", "GET", "/beds?region=<script>alert(1)</script>", 400),
    ("caseworker", "GET", "/referrals?status=bogus", 400),
    ("caseworker", "GET", "/children?before=-4", 400),
    ("admin", "GET", "/audit?date_from=yesterday", 400),
    ("caseworker", "POST", "/notifications/read", 400),  # without its CSRF token
    ("caseworker", "GET", "/logout", 405),
    ("caseworker", "GET", "/referrals/{submitted}/withdraw", 405),
]


def test_error_pages_carry_the_headers_and_no_inline_code(app, small_world):
    world, problems = small_world, []
    viewers = everyone(app, world)
    ids = {"rival_child": world.rival_child.id, "rival_referral": world.rival_referral.id,
           **{status: referral.id for status, referral in world.referrals.items()}}
    for (who, method, address, status), htmx in product(ERRORS, (False, True)):
        url = address.format(**ids)
        where = f"{method} {url} as {who}{' (htmx)' if htmx else ''}"
        try:
            if method == "GET":
                response = viewers[who].get(url, htmx=htmx)
            else:
                response = viewers[who].post(url, {}, htmx=htmx, csrf=False)
        except Exception as error:  # the test app passes errors up instead of a 500 page
            problems.append(f"{where}: raised {type(error).__name__}: {str(error)[:200]}")
            continue
        if response.status_code != status:
            problems.append(f"{where}: status {response.status_code}, expected {status}")
        problems += [f"{where}: {problem}" for problem in response_problems(response)]
        if "<script>alert" in response.get_data(as_text=True):
            problems.append(f"{where}: the address's script is echoed unescaped")
    assert not problems, "\n".join(problems)


def test_every_post_only_address_answers_get_with_a_checked_405(app, small_world):
    viewers = {"caseworker": signed_in(app, small_world.users["caseworker"])}
    # An address that another rule serves with GET (the API's /api/v1/referrals lists and
    # drafts at one address) is not post-only.
    served_with_get = {rule.rule for rule in app.url_map.iter_rules() if "GET" in rule.methods}
    post_only = [rule for rule in app.url_map.iter_rules()
                 if "GET" not in rule.methods and rule.rule not in served_with_get]
    assert post_only
    for rule in post_only:
        values = {a: 1 for a in rule.arguments}
        values.update({a: "accept" for a in rule.arguments if a == "action"})
        url = rule.build(values, append_unknown=False)[1]
        response = viewers["caseworker"].get(url)
        assert response.status_code == 405, (url, response.status_code)
        assert response_problems(response) == [], (url, response_problems(response))


def test_the_500_page_carries_the_headers_and_no_inline_code(app, database_url, small_world):
    """A server error, from an app whose errors are not passed up to the test: the page
    the user sees still carries the policy."""
    broken = make_app(database_url, PROPAGATE_EXCEPTIONS=False)

    @broken.get("/__broken")
    def fails():
        raise RuntimeError("a bug")

    @broken.get("/__aborts")
    def aborts():
        abort(500)

    email = small_world.users["caseworker"].email
    db.session.commit()  # the test's own session lets go of the database first (SQLite)
    with broken.app_context():
        client = Client(broken)
        assert client.login(email).status_code == 303
        for url, htmx in product(("/__broken", "/__aborts"), (False, True)):
            response = client.get(url, htmx=htmx)
            assert response.status_code == 500, url
            assert response_problems(response) == [], (url, response_problems(response))


def test_static_files_carry_the_policy_too(app, small_world):
    viewers = {"anonymous": Client(app), "caseworker": signed_in(app, small_world.users["caseworker"])}
    for url in ("/static/app.css", "/static/htmx.min.js", "/static/favicon.svg"):
        for who in ("anonymous", "caseworker"):
            response = viewers[who].get(url)
            assert response.status_code == 200, url
            assert header_problems(response, page=False) == [], (url, header_problems(response, page=False))
