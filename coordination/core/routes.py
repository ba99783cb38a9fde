from flask import Blueprint, abort, current_app, jsonify, request
from flask_login import current_user
from sqlalchemy import select, text

from ..beds.models import Shelter
from ..beds.parts import is_shelter_staff, keeps_shelter
from ..extensions import db
from ..forms import LanguageSearchForm
from ..htmx import page_or_fragment, wants_fragment
from ..referrals.services import work_queue
from ..reports.overview import situation
from ..reports.scope import may_read_aggregates

bp = Blueprint("core", __name__)


@bp.get("/")
def home():
    shelters = None  # for shelter staff only: the shelters they keep
    if is_shelter_staff(current_user):
        shelters = db.session.scalars(
            select(Shelter).where(keeps_shelter(current_user, Shelter)).order_by(Shelter.name)).all()
    # Those who watch the system see the situation overview (a guardianship officer's above
    # their queue of decisions); admins and oversight have no queue of their own. The queue's
    # own refresh (a fragment) leaves the overview out: it refreshes itself from /overview.
    overview = situation(current_user) if may_read_aggregates(current_user) and not wants_fragment() else None
    return page_or_fragment("core/home.html", "core/_queue.html", shelters=shelters,
                            queue=work_queue(current_user), overview=overview,
                            refresh_seconds=current_app.config["BOARD_REFRESH_SECONDS"])


@bp.get("/overview")
def overview():
    """The situation overview alone: the part of the home page that refreshes itself, and a
    page of its own for a browser (a wall screen in the ombudsman's office)."""
    if not may_read_aggregates(current_user):
        abort(403)
    return page_or_fragment("core/overview.html", "core/_overview.html", overview=situation(current_user),
                            refresh_seconds=current_app.config["BOARD_REFRESH_SECONDS"])


@bp.get("/healthz")
def healthz():
    """For load balancers and monitors: 200 while the database answers, 503 when it does not."""
    try:
        db.session.execute(text("SELECT 1"))
        database = "ok"
    except Exception as error:  # any failure to reach the database is "unavailable"
        db.session.rollback()
        database = f"unavailable: {type(error).__name__}"
    ok = database == "ok"
    return jsonify(app="ok", database=database, status="ok" if ok else "degraded"), 200 if ok else 503


@bp.get("/languages")
def languages():
    """The list of languages, narrowed to what was typed. A language picker's search box
    asks for its boxes again (htmx), keeping those ticked; a browser gets the list as a page."""
    form = LanguageSearchForm(formdata=request.args)
    status = 200 if form.validate() else 400
    search = "" if form.language_filter.errors else (form.language_filter.data or "")
    return page_or_fragment("core/languages.html", "_language_choices.html", status=status,
                            form=form, field=form.languages, search=search)
