"""One table of who may reach what. The test walks every route of the app, as every role
and anonymously, and compares the answer with the table; a route that is added without a
row here fails the suite until someone decides who may use it."""
import pytest

from coordination.accounts.models import ADMIN, CASEWORKER, GUARDIANSHIP, OVERSIGHT, SHELTER_STAFF
from coordination.reports.routes import csv_endpoint
from coordination.reports.services import REPORTS

from coordination.api import tokens as api_tokens
from coordination.extensions import db

from .conftest import Client, _acting

OK, LOGIN, FORBIDDEN, NOT_FOUND = "ok", "login", "403", "404"
TOKEN = "token"  # 401 without a way to sign in: the API wants a bearer token, never a session
ANON = "anonymous"
ROLES = (ANON, CASEWORKER, SHELTER_STAFF, GUARDIANSHIP, OVERSIGHT, ADMIN)


def row(anonymous=LOGIN, caseworker=OK, shelter_staff=OK, guardianship=OK, oversight=OK, admin=OK):
    return {ANON: anonymous, CASEWORKER: caseworker, SHELTER_STAFF: shelter_staff,
            GUARDIANSHIP: guardianship, OVERSIGHT: oversight, ADMIN: admin}


EVERYONE = row()
ADMINS = row(caseworker=FORBIDDEN, shelter_staff=FORBIDDEN, guardianship=FORBIDDEN, oversight=FORBIDDEN)
CASEWORKERS = row(shelter_staff=FORBIDDEN, guardianship=FORBIDDEN, oversight=FORBIDDEN, admin=FORBIDDEN)
CHILD_RECORD = row(shelter_staff=NOT_FOUND, guardianship=NOT_FOUND, oversight=NOT_FOUND, admin=NOT_FOUND)
POOL_STAFF = row(caseworker=FORBIDDEN, guardianship=FORBIDDEN, oversight=FORBIDDEN, admin=FORBIDDEN)
# Everyone involved in the referral sees it; admin and oversight never see one.
READERS_OF_AGGREGATES = row(caseworker=FORBIDDEN, shelter_staff=FORBIDDEN)
REFERRAL = row(oversight=NOT_FOUND, admin=NOT_FOUND)
# Whoever may see the child's name (caseworkers of its organization, shelter staff who
# accepted the child, the region's guardianship); never oversight or admin.
CHILD_NAME = row(oversight=NOT_FOUND, admin=NOT_FOUND)
# The API (/api/v1) knows its callers by their tokens only: a signed-in session opens none of it.
# Who may do what there with which token is in tests/api/.
API = row(anonymous=TOKEN, caseworker=TOKEN, shelter_staff=TOKEN, guardianship=TOKEN, oversight=TOKEN, admin=TOKEN)

# (endpoint, method) -> who gets what. The subjects are related to the world's records:
# the caseworker's organization referred the child, the shelter staff run the pool, the
# guardianship officer works in the shelter's region. Strangers are in test_need_to_know.
TABLE = {
    ("core.home", "GET"): EVERYONE,
    ("core.overview", "GET"): row(caseworker=FORBIDDEN, shelter_staff=FORBIDDEN),
    ("core.healthz", "GET"): row(anonymous=OK),
    ("core.languages", "GET"): EVERYONE,
    ("accounts.login", "GET"): row(anonymous=OK),
    ("accounts.login", "POST"): row(anonymous=OK),
    ("accounts.second_factor", "GET"): row(anonymous=LOGIN),  # nobody has a password pending
    ("accounts.second_factor", "POST"): row(anonymous=LOGIN),
    ("accounts.logout", "POST"): row(caseworker=LOGIN, shelter_staff=LOGIN, guardianship=LOGIN,
                                     oversight=LOGIN, admin=LOGIN),
    ("accounts.account", "GET"): EVERYONE,
    ("accounts.choose_language", "POST"): row(anonymous=OK),
    ("accounts.choose_mail", "POST"): EVERYONE,
    ("accounts.change_password", "GET"): EVERYONE,
    ("accounts.change_password", "POST"): EVERYONE,
    ("accounts.two_factor", "GET"): EVERYONE,
    ("accounts.two_factor", "POST"): EVERYONE,
    ("beds.board", "GET"): EVERYONE,
    ("beds.shelter", "GET"): EVERYONE,
    ("beds.adjust", "POST"): POOL_STAFF,
    ("beds.set_counts", "POST"): POOL_STAFF,
    ("beds.confirm", "POST"): POOL_STAFF,
    ("referrals.children", "GET"): CASEWORKERS,
    ("referrals.new_child", "GET"): CASEWORKERS,
    ("referrals.new_child", "POST"): CASEWORKERS,
    ("referrals.child", "GET"): CHILD_RECORD,
    ("referrals.print_child", "GET"): CHILD_RECORD,
    ("referrals.record_consent", "POST"): CHILD_RECORD,
    ("referrals.change_child_languages", "POST"): CHILD_RECORD,
    ("referrals.edit_child", "GET"): CHILD_RECORD,
    ("referrals.edit_child", "POST"): CHILD_RECORD,
    # Case notes go with the child's name. The shelter's staff see it once they accepted the
    # child, which they did above (referrals.act, a route registered before these); before
    # that it is 404 for them (tests/referrals/test_case_notes.py).
    ("notes.child_notes", "GET"): CHILD_NAME,
    ("notes.child_notes", "POST"): CHILD_NAME,
    ("search.search", "GET"): row(oversight=FORBIDDEN, admin=FORBIDDEN),
    ("siblings.link", "POST"): CHILD_RECORD,
    ("siblings.unlink", "POST"): CHILD_RECORD,
    ("siblings.refer", "GET"): CHILD_RECORD,
    ("siblings.refer", "POST"): CHILD_RECORD,
    ("referrals.referrals", "GET"): row(oversight=FORBIDDEN, admin=FORBIDDEN),
    ("referrals.new_referral", "GET"): CASEWORKERS,
    ("referrals.new_referral", "POST"): CASEWORKERS,
    ("referrals.referral", "GET"): REFERRAL,
    # The world's referral is submitted: only its shelter's staff may accept it.
    ("referrals.act", "POST"): row(caseworker=FORBIDDEN, guardianship=FORBIDDEN, oversight=NOT_FOUND,
                                   admin=NOT_FOUND),
    ("referrals.repoint", "POST"): row(shelter_staff=FORBIDDEN, guardianship=FORBIDDEN, oversight=NOT_FOUND,
                                       admin=NOT_FOUND),
    # Only the referring caseworker starts a transfer (the world's child is not placed: refused, 409).
    ("referrals.transfer", "POST"): row(shelter_staff=FORBIDDEN, guardianship=FORBIDDEN, oversight=NOT_FOUND,
                                        admin=NOT_FOUND),
    ("notifications.index", "GET"): EVERYONE,
    ("notifications.count", "GET"): EVERYONE,
    ("notifications.mark_read", "POST"): EVERYONE,
    ("audit.index", "GET"): row(caseworker=FORBIDDEN, shelter_staff=FORBIDDEN, guardianship=FORBIDDEN),
    # Oversight's list of escalated referrals (case references, never names).
    ("escalations.index", "GET"): row(caseworker=FORBIDDEN, shelter_staff=FORBIDDEN, guardianship=FORBIDDEN,
                                      admin=FORBIDDEN),
    ("reports.index", "GET"): READERS_OF_AGGREGATES,
    # One CSV download per report, each /reports/<report>.csv.
    **{(f"reports.{csv_endpoint(key)}", "GET"): READERS_OF_AGGREGATES for key in REPORTS},
    ("audit.export", "GET"): row(caseworker=FORBIDDEN, shelter_staff=FORBIDDEN, guardianship=FORBIDDEN),
    # Admins make and revoke API tokens.
    ("api_tokens.index", "GET"): ADMINS,
    ("api_tokens.new", "GET"): ADMINS,
    ("api_tokens.new", "POST"): ADMINS,
    ("api_tokens.revoke", "POST"): ADMINS,
    # The API's description is public; everything else in it needs a token.
    ("api.openapi_document", "GET"): row(anonymous=OK),
}
ADMIN_ENDPOINTS = None  # every admin.* route: admins only (checked against the url map below)


def expected_for(endpoint: str, method: str):
    if (endpoint, method) in TABLE:
        return TABLE[(endpoint, method)]
    if endpoint.startswith("admin."):
        return ADMINS
    if endpoint.startswith("api."):
        return API
    return None


@pytest.fixture
def world(app, make):
    """One referral, submitted, and one person of each role related to it."""
    shelter_org = make.organization(kind="ngo")
    shelter = make.shelter(organization=shelter_org)
    pool = make.pool(shelter=shelter, capacity=4)
    caseworker = make.user(CASEWORKER)
    child = make.child(registered_by=caseworker)
    referral = make.referral(pool=pool, child=child, status="submitted")
    people = {
        CASEWORKER: caseworker,
        SHELTER_STAFF: make.user(SHELTER_STAFF, organization=shelter_org),
        GUARDIANSHIP: make.user(GUARDIANSHIP, organization=make.organization(kind="state", region=shelter.region)),
        OVERSIGHT: make.user(OVERSIGHT),
        ADMIN: make.user(ADMIN),
    }
    with _acting(people[ADMIN]):
        token, _secret = api_tokens.create_token(people[ADMIN], "Case system", shelter_org.id, SHELTER_STAFF,
                                                 ["beds:read"], None)
    db.session.commit()
    ids = {"shelter_id": shelter.id, "pool_id": pool.id, "child_id": child.id, "referral_id": referral.id,
           "action": "accept", "organization_id": shelter_org.id, "region_id": shelter.region_id,
           "user_id": caseworker.id, "filename": "app.css", "token_id": token.id}
    return people, ids


def classify(response) -> str:
    status = response.status_code
    assert status < 500, response.get_data(as_text=True)[:500]
    location = response.headers.get("Location", "") or response.headers.get("HX-Redirect", "")
    if status in (301, 302, 303, 401) and location.startswith("/login"):
        return LOGIN
    if status == 401 and response.headers.get("WWW-Authenticate", "").startswith("Bearer"):
        return TOKEN
    if status == 403:
        return FORBIDDEN
    if status == 404:
        return NOT_FOUND
    return OK


def routes(app):
    for rule in app.url_map.iter_rules():
        if rule.endpoint == "static":
            continue
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            yield rule, method


def test_every_route_has_a_row(app):
    missing = [f"{method} {rule.rule} ({rule.endpoint})" for rule, method in routes(app)
               if expected_for(rule.endpoint, method) is None]
    assert missing == [], "routes without a row in the authorization table: " + ", ".join(missing)


@pytest.mark.parametrize("role", ROLES)
def test_every_route_answers_each_role_as_the_table_says(app, world, login_as, role):
    people, ids = world
    person = Client(app) if role == ANON else login_as(people[role])
    wrong = []
    for rule, method in routes(app):
        expected = expected_for(rule.endpoint, method)
        if expected is None:
            continue  # reported by test_every_route_has_a_row
        url = rule.build({k: ids[k] for k in rule.arguments}, append_unknown=False)[1]
        person._token = None  # a page may have ended the session; carry a current token
        response = person.get(url) if method == "GET" else person.post(url, {})
        got = classify(response)
        if got != expected[role]:
            wrong.append(f"{method} {url}: expected {expected[role]}, got {got} ({response.status_code})")
        if role != ANON and rule.endpoint == "accounts.logout":
            person = login_as(people[role])  # sign in again for the remaining routes
    assert wrong == []
