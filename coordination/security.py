"""Response headers every page carries, and what every request must be before its view.
The CSP is one table, so it can be read and tested."""
from flask import Flask, Request
from werkzeug.datastructures import ImmutableMultiDict
from werkzeug.exceptions import RequestEntityTooLarge

CONTENT_SECURITY_POLICY = {
    "default-src": "'self'",
    "script-src": "'self'",
    "style-src": "'self'",
    "img-src": "'self' data:",
    "connect-src": "'self'",
    "object-src": "'none'",
    "frame-ancestors": "'none'",
    "form-action": "'self'",
    "base-uri": "'self'",
}


# Browsers that have seen this once reach the site over HTTPS only, for two years, on every
# subdomain too (production only: a development server answers plain HTTP).
STRICT_TRANSPORT_SECURITY = "max-age=63072000; includeSubDomains"


class CoordinationRequest(Request):
    """A request whose body is over MAX_CONTENT_LENGTH is refused (413) the first time its
    form is read; after that it reads as a request without a form, so that the page saying
    so (whose forms, CSRF check and NUL check read the form too) is drawn instead of failing
    a second time with a 500."""

    def _load_form_data(self) -> None:
        try:
            super()._load_form_data()
        except RequestEntityTooLarge:
            self.__dict__["form"] = ImmutableMultiDict()
            self.__dict__["files"] = ImmutableMultiDict()
            raise


def csp_header() -> str:
    return "; ".join(f"{directive} {value}" for directive, value in CONTENT_SECURITY_POLICY.items())


def register_security(app: Flask) -> None:
    policy = csp_header()
    production = app.config["COORDINATION_ENV"] == "production"

    @app.before_request
    def refuse_nul_characters():
        """Nobody types a NUL character, and PostgreSQL can neither store nor compare text
        that holds one: a request carrying one in a field is refused whole (400), before it
        can fail in the database (500)."""
        from flask import abort, request

        for fields in (request.args, request.form):
            for name, values in fields.lists():
                if "\x00" in name or any("\x00" in value for value in values):
                    abort(400)

    @app.after_request
    def security_headers(response):
        # Pages are made for one person and may show children's data: never store them.
        # Static files (CSS, htmx) may be cached as usual.
        from flask import request

        if request.endpoint != "static":
            response.headers["Cache-Control"] = "no-store"
        response.headers.setdefault("Content-Security-Policy", policy)
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("Referrer-Policy", "same-origin")
        response.headers.setdefault("X-Frame-Options", "DENY")
        if production:
            response.headers["Strict-Transport-Security"] = STRICT_TRANSPORT_SECURITY
        return response
