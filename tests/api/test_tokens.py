"""API tokens: made by admins and shown once, kept only as a hash, refused when revoked,
expired, unknown or of a deactivated organization (401), limited to their scopes (403) and
to a rate (429), and every use in the audit trail."""
import re
from datetime import date, timedelta

import pytest
from sqlalchemy import inspect, select, text

from coordination import clock
from coordination.api import tokens
from coordination.api.models import ApiToken
from coordination.audit.models import AuditEvent
from coordination.extensions import db

from ..conftest import Client, _acting
from .conftest import ApiClient

SHOWN_TOKEN = re.compile(r"data-api-token>([^<]+)<")


def _make_on_the_page(admin_client, organization, role="caseworker", scopes=("beds:read",), **values):
    return admin_client.post("/admin/api-tokens/new", {
        "label": values.get("label", "SMS case system"), "organization": organization.id, "role": role,
        "scopes": list(scopes), "expires_on": values.get("expires_on", "")})


def test_an_admin_makes_a_token_that_is_shown_once_and_works(app, make, login_as):
    admin = login_as("admin")
    organization = make.organization()

    made = _make_on_the_page(admin, organization, scopes=("beds:read", "referrals:read"))

    assert made.status_code == 200
    assert made.headers["Cache-Control"] == "no-store"
    secret = SHOWN_TOKEN.search(made.get_data(as_text=True)).group(1)
    assert secret.startswith("coord_") and len(secret) > 40
    token = db.session.scalar(select(ApiToken))
    assert (token.label, token.scopes) == ("SMS case system", ["beds:read", "referrals:read"])
    assert (token.account.role, token.account.organization_id) == ("caseworker", organization.id)
    listed = admin.get("/admin/api-tokens/").get_data(as_text=True)
    assert token.prefix in listed and secret not in listed
    assert ApiClient(app, secret).get("/api/v1/pools").status_code == 200
    created = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "api_token.created")).one()
    assert created.user_id == admin.user.id and created.object_id == str(token.id)


def test_the_secret_is_nowhere_in_the_database_only_its_hash(app, make, make_token):
    api, token = make_token("caseworker")
    secret = api.secret
    api.get("/api/v1/pools")

    for table in db.metadata.sorted_tables:
        for row in db.session.execute(table.select()):
            assert secret not in repr(tuple(row)), table.name
            assert secret[len("coord_"):] not in repr(tuple(row)), table.name
    assert token.secret_hash == tokens.secret_hash(secret)


def test_a_token_may_only_have_the_scopes_its_role_could_use(make, login_as):
    admin = login_as("admin")
    organization = make.organization()

    refused = _make_on_the_page(admin, organization, role="oversight", scopes=("beds:read", "referrals:read"))

    assert refused.status_code == 422
    assert "A token acting as oversight may only: beds:read." in refused.get_data(as_text=True)
    assert db.session.scalar(select(ApiToken)) is None


def test_a_token_expiring_today_or_before_is_refused(make, login_as):
    admin = login_as("admin")

    refused = _make_on_the_page(admin, make.organization(), expires_on=clock.now().date().isoformat())

    assert refused.status_code == 422
    assert "Choose a day after today, or none." in refused.get_data(as_text=True)


def test_only_admins_reach_the_token_pages(make, login_as):
    for role in ("caseworker", "shelter_staff", "guardianship", "oversight"):
        assert login_as(role).get("/admin/api-tokens/").status_code == 403


@pytest.mark.parametrize("header", [None, "Bearer", "Bearer coord_not-a-token", "Basic dXNlcjpwYXNz",
                                    "Bearer not-even-our-prefix"])
def test_no_token_or_an_unknown_one_is_refused_401(app, make_token, header):
    make_token("caseworker")
    api = ApiClient(app)

    response = api.get("/api/v1/pools", headers={"Authorization": header} if header else {})

    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"].startswith("Bearer")
    assert response.get_json()["detail"] == "Send a valid API token: Authorization: Bearer <token>."


def test_a_revoked_token_is_refused_at_once_and_its_account_deactivated(app, make, make_token, login_as):
    api, token = make_token("caseworker", label="NGO case system")
    admin = login_as("admin")
    page = admin.get("/admin/api-tokens/").get_data(as_text=True)
    assert "Confirm: revoke the token of NGO case system" in page

    revoked = admin.post(f"/admin/api-tokens/{token.id}/revoke", {})

    assert revoked.status_code == 303
    response = api.get("/api/v1/pools")
    assert response.status_code == 401
    assert response.get_json()["detail"] == "This API token was revoked; ask an administrator for a new one."
    assert token.revoked_at is not None and token.account.active is False
    event = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "api_token.revoked")).one()
    assert event.user_id == admin.user.id
    assert admin.post(f"/admin/api-tokens/{token.id}/revoke", {}).status_code == 303  # says so, changes nothing


def test_revoking_needs_the_forms_csrf_token(make_token, login_as):
    _api, token = make_token("caseworker")

    refused = login_as("admin").post(f"/admin/api-tokens/{token.id}/revoke", {}, csrf=False)

    assert refused.status_code == 400
    assert token.revoked_at is None


def test_an_expired_token_is_refused(make_token):
    api, _token = make_token("caseworker", expires_on=clock.now().date() + timedelta(days=2))
    assert api.get("/api/v1/pools").status_code == 200

    clock.freeze(clock.now() + timedelta(days=3))
    response = api.get("/api/v1/pools")

    assert response.status_code == 401
    assert response.get_json()["detail"] == "This API token has expired; ask an administrator for a new one."


def test_a_token_of_a_deactivated_organization_is_refused(make, make_token):
    organization = make.organization()
    api, _token = make_token("shelter_staff", organization=organization)
    organization.active = False
    db.session.commit()

    response = api.get("/api/v1/pools")

    assert response.status_code == 401
    assert response.get_json()["detail"] == "The organization of this API token is deactivated."


def test_a_token_without_the_scope_is_refused_403(make, make_token):
    pool = make.pool()
    api, _token = make_token("shelter_staff", organization=pool.shelter.organization, scopes=["beds:read"])

    response = api.post(f"/api/v1/pools/{pool.id}/confirm", {"version": 1})

    assert response.status_code == 403
    assert response.get_json()["detail"] == "This API token may not do that: it lacks the scope beds:write."
    assert pool.version == 1


def test_a_session_cookie_opens_nothing_of_the_api(app, login_as):
    person = login_as("caseworker")

    response = person.get("/api/v1/pools")

    assert response.status_code == 401
    assert response.mimetype == "application/problem+json"


def test_the_api_sets_no_cookie_and_lets_nothing_be_stored(make_token):
    api, _token = make_token("caseworker")

    response = api.get("/api/v1/pools")

    assert response.status_code == 200
    assert "Set-Cookie" not in response.headers
    assert response.headers["Cache-Control"] == "no-store"


def test_too_many_requests_with_one_token_answer_429_with_retry_after(app, make_token):
    api, _token = make_token("caseworker")
    other, _other = make_token("caseworker")
    app.config["API_RATE_LIMIT"] = "3 per minute"
    try:
        answers = [api.get("/api/v1/pools").status_code for _ in range(4)]
        limited = api.get("/api/v1/pools")
        unaffected = other.get("/api/v1/pools")
    finally:
        app.config["API_RATE_LIMIT"] = "300 per minute"

    assert answers == [200, 200, 200, 429]
    assert limited.status_code == 429
    assert int(limited.headers["Retry-After"]) > 0
    assert limited.get_json()["detail"] == "Too many requests with this API token; wait a minute and try again."
    assert unaffected.status_code == 200  # counted per token


def test_every_use_is_one_audit_event_signed_by_the_tokens_account(make, make_token):
    api, token = make_token("caseworker")

    api.get("/api/v1/pools")
    api.get("/api/v1/pools?region=nonsense")
    api.post("/api/v1/referrals", {"child": 1, "pool": 1})

    uses = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "api.request")
                              .order_by(AuditEvent.id)).all()
    assert [(u.details["method"], u.details["path"], u.details["status"]) for u in uses] == [
        ("GET", "/api/v1/pools", 200), ("GET", "/api/v1/pools", 422), ("POST", "/api/v1/referrals", 422)]
    assert {(u.user_id, u.organization_id, u.object_id) for u in uses} == {
        (token.account_id, token.account.organization_id, str(token.id))}
    assert token.last_used_at is not None


def test_a_refused_known_token_is_recorded_too(make_token):
    api, token = make_token("caseworker")
    with _acting(token.account):
        tokens.revoke_token(token, token.account)
    db.session.commit()

    api.get("/api/v1/pools")

    use = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "api.request")).one()
    assert use.details["status"] == 401 and use.user_id == token.account_id


def test_the_audit_trail_reads_a_use_as_a_sentence(make_token, login_as):
    api, token = make_token("caseworker")
    api.get("/api/v1/pools")

    page = " ".join(re.sub(r"<[^>]+>", " ", login_as("oversight").get("/audit").get_data(as_text=True)).split())

    assert f"called the API with the API token no. {token.id}" in page
    assert "GET /api/v1/pools, answered 200" in page


def test_a_tokens_account_cannot_sign_in_and_is_not_listed_or_changed_as_a_person(app, make_token, login_as):
    _api, token = make_token("caseworker")
    account = token.account

    assert Client(app).login(account.email, "!api-token-account").status_code != 303
    admin = login_as("admin")
    assert account.email not in admin.get("/admin/users").get_data(as_text=True)
    refused = admin.post(f"/admin/users/{account.id}/reset-password", {})
    assert refused.status_code == 403
    assert "This is the account of an API token" in refused.get_data(as_text=True)


def test_made_up_tokens_are_counted_by_the_address_not_each_on_its_own(app, anonymous_api, make_token):
    """Else a client sending a new made-up token with each request would never be limited."""
    api, _token = make_token("caseworker")
    app.config["API_RATE_LIMIT"] = "3 per minute"
    try:
        answers = [anonymous_api.get("/api/v1/pools", headers={
            "Authorization": f"Bearer {tokens.SECRET_PREFIX}made-up-{n}"}).status_code for n in range(4)]
        unaffected = api.get("/api/v1/pools")
    finally:
        app.config["API_RATE_LIMIT"] = "300 per minute"

    assert answers == [401, 401, 401, 429]
    assert unaffected.status_code == 200  # a real token still counts on its own
