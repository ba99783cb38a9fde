"""Who calls the API: the bearer token of each request, never a cookie or a session.

Registered before the session guard, so that a request under /api/ is known by its token
before anything asks who the current user is: the token's account then plays the person in
every operation, and every audit event of the request is signed by it. A request without a
usable token answers 401 before its view; one whose token lacks the scope a view needs, 403.
Each request with a known token is itself one audit event (`api.request`), after its answer."""
from functools import wraps

from flask import Flask, g, request
from flask_babel import gettext as _

from ..audit import services as audit
from ..clock import now
from ..extensions import db
from ..problems import is_api_request, problem
from . import tokens

# Endpoints anyone may read without a token: the API's description.
PUBLIC_ENDPOINTS = {"api.openapi_document"}
CHALLENGE = ("WWW-Authenticate", 'Bearer realm="api"')


def presented_secret() -> str | None:
    scheme, _sep, secret = request.headers.get("Authorization", "").partition(" ")
    return secret.strip() if scheme.lower() == "bearer" and secret.strip() else None


def presented_token():
    """The token whose secret this request presents, or None: looked up once a request (the
    rate limiter asks first, then authentication)."""
    if "api_presented_token" not in g:
        secret = presented_secret()
        g.api_presented_token = tokens.find_token(secret) if secret else None
    return g.api_presented_token


def register_api_authentication(app: Flask) -> None:
    @app.before_request
    def authenticate_api_request():
        if not is_api_request() or request.endpoint is None or request.endpoint in PUBLIC_ENDPOINTS:
            return None  # not the API; or an address it does not have (404, 405): nothing to guard
        token = presented_token()
        if token is None:
            return problem(401, _("Send a valid API token: Authorization: Bearer <token>."), headers=[CHALLENGE])
        g.api_token = token  # even when refused below: the attempt is recorded (record_use)
        at = now()
        if token.revoked_at is not None:
            return problem(401, _("This API token was revoked; ask an administrator for a new one."),
                           headers=[CHALLENGE])
        if token.expires_at is not None and token.expires_at <= at:
            return problem(401, _("This API token has expired; ask an administrator for a new one."),
                           headers=[CHALLENGE])
        if not token.account.is_active:
            return problem(401, _("The organization of this API token is deactivated."), headers=[CHALLENGE])
        # Flask-Login's current user for this request, without a session: the token's account.
        g._login_user = token.account
        return None


def requires(scope: str):
    """A view the token must have `scope` for (tokens.SCOPES); 403 otherwise."""
    def decorator(view):
        @wraps(view)
        def guarded(*args, **kwargs):
            if scope not in (g.api_token.scopes or []):
                return problem(403, _("This API token may not do that: it lacks the scope %(scope)s.", scope=scope))
            return view(*args, **kwargs)
        return guarded
    return decorator


def record_use(response):
    """One audit event per request with a known token (its method, path and answer), signed by
    the token's account, and the token's last use, in a transaction of their own after the
    answer is made: a refused request's own writes are rolled back first."""
    token = g.get("api_token")
    if token is None:
        return response
    db.session.rollback()
    account = token.account
    actor = audit.act_as(audit.Actor(user_id=account.id, organization_id=account.organization_id,
                                     client_address=request.remote_addr or ""))
    try:
        audit.record("api.request", "api_token", token.id,
                     {"method": request.method, "path": request.path, "status": response.status_code})
        tokens.mark_used(token, now())
        db.session.commit()
    finally:
        audit.reset(actor)
    return response


def rate_key() -> str:
    """What the API's rate limit counts by: the token presented, when it is one of ours (by
    its hash, so the limiter's storage never holds a secret), else the client's address. A
    made-up token counts as none: were each counted on its own, a new one a request would
    never be limited."""
    token = presented_token()
    return f"api-token:{token.secret_hash}" if token is not None else f"api-address:{request.remote_addr}"
