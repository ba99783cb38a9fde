"""Response headers every page carries. The CSP is one table, so it can be read and tested."""
from flask import Flask

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


def csp_header() -> str:
    return "; ".join(f"{directive} {value}" for directive, value in CONTENT_SECURITY_POLICY.items())


def register_security(app: Flask) -> None:
    policy = csp_header()

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
        return response
