"""The few ways a service refuses, and how a refusal reaches the user.

Services raise these with a message in the user's words; one handler turns them into
the right status, as a fragment for htmx and as a page otherwise.

On an htmx request every error answers with the small message fragment, sent to the page's
message area (HX-Retarget), never a whole page swapped into the panel that asked: htmx 4
swaps 4xx and 5xx bodies like any other. A view that answers its own target with a fragment
of its own (422 with the form again, 409 with a pool row's numbers) does so itself and never
reaches these handlers.
"""
from flask import Flask, g, make_response, render_template
from flask_babel import gettext as _
from flask_wtf.csrf import CSRFError
from sqlalchemy.exc import InterfaceError, OperationalError, SQLAlchemyError
from werkzeug.exceptions import HTTPException

from .htmx import wants_fragment
from .problems import is_api_request, problem

# The element of every page (templates/base.html) where htmx puts an error's message.
MESSAGE_AREA = "#messages"


class DomainError(Exception):
    status = 409

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


class NotAllowed(DomainError):
    status = 403


class InvalidInput(DomainError):
    status = 422

    def __init__(self, message: str, field: str | None = None):
        super().__init__(message)
        self.field = field  # the form field the refusal is about, when it is about one
        # The refusal by form field, {field: message}: what a form shows under each field.
        self.problems = {field: message} if field else {}


class InvalidFields(InvalidInput):
    """Several problems at once, each about one form field, so that one answer names them
    all instead of one per round: {field: message}."""

    def __init__(self, problems: dict[str, str]):
        super().__init__(" ".join(problems.values()))
        self.problems = dict(problems)


class Conflict(DomainError):
    """Somebody changed the record since the user last saw it."""

    status = 409

    def __init__(self, message: str, current=None):
        super().__init__(message)
        self.current = current


class NoBedAvailable(DomainError):
    status = 409


class InvalidMove(DomainError):
    status = 409


def _answer(page_template: str, message: str, status: int, headers=()):
    """The error as a page, or for htmx as the message fragment aimed at the message area; under
    /api/ as problem details (problems.py)."""
    if is_api_request():
        return problem(status, message, headers=headers)
    if wants_fragment():
        response = make_response(render_template("errors/_message.html", message=message, status=status), status)
        response.headers["HX-Retarget"] = MESSAGE_AREA
        response.headers["HX-Reswap"] = "innerHTML"
    else:
        response = make_response(render_template(page_template, message=message, status=status), status)
    for name, value in headers:
        if name.lower() != "content-type":
            response.headers[name] = value  # e.g. a 405's Allow
    response.vary.update(("HX-Request", "HX-Request-Type"))
    return response


def _refusal(message: str, status: int, headers=()):
    return _answer("errors/page.html", message, status, headers)


def register_error_handlers(app: Flask) -> None:
    @app.errorhandler(DomainError)
    def domain_error(error: DomainError):
        if is_api_request():
            problems = getattr(error, "problems", None)
            return problem(error.status, error.message, kind=type(error).__name__,
                           **({"errors": problems} if problems else {}))
        return _refusal(error.message, error.status)

    @app.errorhandler(CSRFError)
    def csrf_error(error: CSRFError):
        return _refusal(
            _("This form has expired or did not come from this site. "
              "Reload the page and try again; nothing was changed."),
            400,
        )

    @app.errorhandler(HTTPException)
    def http_error(error: HTTPException):
        if error.code is not None and error.code < 400:
            return error
        messages = {
            400: _("The request could not be understood; nothing was changed."),
            403: _("You are not allowed to do that; nothing was changed."),
            404: _("There is nothing here. Check the address, or go back to your work queue."),
            405: _("That action is not available at this address."),
            413: _("What you sent is too large; nothing was changed."),
            429: _("Too many attempts from your address; wait a minute and try again."),
        }
        if is_api_request():
            messages.update({
                401: _("Send a valid API token: Authorization: Bearer <token>."),
                415: _("Send the request's body as JSON (Content-Type: application/json)."),
                429: _("Too many requests with this API token; wait a minute and try again."),
            })
        return _refusal(messages.get(error.code, error.description), error.code or 500, error.get_headers())

    @app.errorhandler(500)
    def server_error(error):
        """A page of its own, with nothing that could fail a second time while rendering: no
        signed-in user, no database. When the database is what failed, the page's language
        comes from the session or the browser (i18n.choose_language), and says so (503)."""
        failure = getattr(error, "original_exception", None)
        if isinstance(failure, SQLAlchemyError):
            g.database_failed = True
        if isinstance(failure, (OperationalError, InterfaceError)):
            message = _("The service cannot reach its database just now; nothing was changed. "
                        "Please try again in a few minutes.")
            return _answer("errors/500.html", message, 503)
        message = _("Something went wrong on our side; nothing was changed. "
                    "Please try again, and tell the administrators if it persists.")
        return _answer("errors/500.html", message, 500)
