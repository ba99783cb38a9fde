"""What every request passes before its view: signed in, not idle too long, password current."""
from datetime import timedelta

from flask import Flask, current_app, flash, make_response, redirect, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user, logout_user

from ..clock import now

# Endpoints an anonymous visitor may reach; everything else sends them to sign in.
PUBLIC_ENDPOINTS = {"accounts.login", "accounts.second_factor", "accounts.choose_language", "core.healthz",
                    "static"}
# Where a user who must choose a new password may still go.
PASSWORD_CHANGE_ENDPOINTS = {"accounts.change_password", "accounts.choose_language", "accounts.logout", "static"}
# Requests the page makes by itself (polling) carry this header and do not count as activity.
POLL_HEADER = "X-Poll"


def _to_login():
    """Send the browser to sign in and back; an htmx request is told to go there as a whole page."""
    if request.headers.get("HX-Request") == "true":
        back = request.headers.get("HX-Current-URL", "")
        target = url_for("accounts.login", next=_path_of(back) or None)
        response = make_response("", 401)
        response.headers["HX-Redirect"] = target
        return response
    return redirect(url_for("accounts.login", next=request.full_path.rstrip("?")))


def _path_of(url: str) -> str:
    from urllib.parse import urlsplit

    parts = urlsplit(url)
    return parts.path + (f"?{parts.query}" if parts.query else "")


def register_session_guard(app: Flask) -> None:
    @app.before_request
    def require_login():
        if request.endpoint in PUBLIC_ENDPOINTS:
            return None
        if request.path.startswith("/api/"):
            return None  # no session there: each request brings its token (api/authentication.py)
        if not current_user.is_authenticated:
            return _to_login()
        idle = timedelta(minutes=current_app.config["SESSION_IDLE_MINUTES"])
        last_seen = session.get("last_seen")
        if last_seen is not None and now().timestamp() - last_seen > idle.total_seconds():
            logout_user()
            session.clear()
            flash(_("You were signed out after %(n)s minutes without activity.",
                    n=current_app.config["SESSION_IDLE_MINUTES"]), "warning")
            return _to_login()
        if request.headers.get(POLL_HEADER) != "1":
            session["last_seen"] = now().timestamp()
        if current_user.must_change_password and request.endpoint not in PASSWORD_CHANGE_ENDPOINTS:
            return redirect(url_for("accounts.change_password"))
        return None
