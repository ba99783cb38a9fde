"""What a view does with a filled-in form, written once.

A form view loads what it works on, builds its form, then: when the form passes its
checks, one service call (`act`); when that succeeds, one commit and the answer `done`
gives; when the service refuses, nothing is kept and the form shows the reason with the
refusal's status (422, 409, 403); invalid input shows the form again with its messages
(422); a first visit shows the form (200).
"""
from typing import Any, Callable

from flask import flash, make_response, redirect, url_for
from werkzeug.wrappers import Response

from .errors import DomainError
from .extensions import db
from .forms import Form, report_refusal


def carry_out(form: Form, act: Callable[[], Any], done: Callable[[Any], Any]) -> tuple[Any, int | None]:
    """Do `act` for a form that passed its checks. When it succeeds: commit, and answer
    (done(its result), None). When the service refuses: undo whatever it began, show its
    reason on the form (under the fields it names), and answer (None, the refusal's status)."""
    try:
        result = act()
    except DomainError as refusal:
        db.session.rollback()
        report_refusal(form, refusal)
        return None, refusal.status
    db.session.commit()
    return done(result), None


def submit(form: Form, act: Callable[[], Any], done: Callable[[Any], Any], page: Callable[[], Any]):
    """The rest of a form view once the form is built: a first visit shows `page()`; a
    submitted form that passes its checks is carried out (above), and otherwise `page()`
    shows it again with every problem, 422, or the refusal's status."""
    if form.validate_on_submit():
        answer, status = carry_out(form, act, done)
        if answer is not None:
            return answer
    else:
        status = 422 if form.is_submitted() else 200
    response = make_response(page())
    response.status_code = status
    return response


def back_to(message: str, endpoint: str, **values) -> Response:
    """After a change: say what was done, and go back to a page (303, so that reloading it
    does not send the form again)."""
    flash(message, "success")
    return redirect(url_for(endpoint, **values), 303)
