"""Errors as RFC 9457 problem details (application/problem+json), for every answer under /api/:
a machine-readable `type`, a short `title`, the `status`, the same `detail` a person reads on
the page (in the caller's language), and the `instance` (the path asked for). A refusal of
form fields adds `errors`, {field: message}."""
from flask import jsonify, request
from flask_babel import lazy_gettext as _l

API_PREFIX = "/api/"
PROBLEM_JSON = "application/problem+json"

# status -> (the type's last part, its title)
KINDS = {
    400: ("bad-request", _l("Bad request")),
    401: ("unauthorized", _l("Not authenticated")),
    403: ("forbidden", _l("Not allowed")),
    404: ("not-found", _l("Not found")),
    405: ("method-not-allowed", _l("Method not allowed")),
    409: ("conflict", _l("Conflict")),
    413: ("payload-too-large", _l("Too large")),
    415: ("unsupported-media-type", _l("Unsupported media type")),
    422: ("invalid-input", _l("Invalid input")),
    429: ("too-many-requests", _l("Too many requests")),
    500: ("server-error", _l("Server error")),
    503: ("service-unavailable", _l("Service unavailable")),
}
# Refusals more exact than their status, by the DomainError's class name.
EXACT = {
    "NoBedAvailable": ("no-bed-available", _l("No bed available")),
    "InvalidMove": ("invalid-move", _l("Not possible now")),
    "Conflict": ("edit-conflict", _l("Changed meanwhile")),
}
TYPE_BASE = "urn:coordination:problem:"


def is_api_request() -> bool:
    """Whether the request is for the API (any version), which answers in JSON, never pages."""
    return request.path.startswith(API_PREFIX)


def problem(status: int, detail: str, kind: str | None = None, headers=(), **extra):
    """The problem-details answer; `kind` names a refusal more exact than the status (EXACT)."""
    slug, title = EXACT.get(kind or "", KINDS.get(status, (f"http-{status}", _l("Error"))))
    body = {"type": TYPE_BASE + slug, "title": str(title), "status": status, "detail": str(detail),
            "instance": request.path, **extra}
    response = jsonify(body)
    response.status_code = status
    response.mimetype = PROBLEM_JSON
    for name, value in headers:
        if name.lower() != "content-type":
            response.headers[name] = value  # a 405's Allow, a 429's Retry-After
    return response
