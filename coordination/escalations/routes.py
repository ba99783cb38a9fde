"""Oversight's list of the referrals that nobody answered in time."""
from flask import Blueprint, abort
from flask_login import current_user

from ..htmx import page_or_fragment
from . import services

bp = Blueprint("escalations", __name__)


@bp.get("/escalations")
def index():
    """The referrals whose present wait has escalated, by case reference (never a name)."""
    if not services.may_watch_escalations(current_user):
        abort(403)
    return page_or_fragment("escalations/index.html", "escalations/_list.html",
                            escalated=services.escalated_referrals())
