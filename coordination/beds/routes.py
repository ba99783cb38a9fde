"""The bed board and shelter pages. Thin: parse, check, call one operation, commit, render."""
import json

from flask import Blueprint, abort, current_app, flash, make_response, redirect, render_template, url_for
from flask import request
from markupsafe import Markup
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select

from .. import availability, fragments
from ..accounts.guard import POLL_HEADER
from ..accounts.models import Region
from ..clock import now
from ..errors import DomainError
from ..extensions import db
from ..forms import options
from ..htmx import html_response, page_or_fragment, wants_fragment
from ..i18n import current_language, local_today, when
from ..transactions import commit_keeping_loaded
from . import operations, services
from .forms import AdjustCountForm, BoardFilterForm, ConfirmCountsForm, SetCountsForm
from .models import BedPool, Shelter

bp = Blueprint("beds", __name__)

BOARD_VERSION_HEADER = "X-Board-Version"  # a poll names the version of the board it shows

# Ids are 32-bit integer columns: a larger number in an address names nothing, and must
# answer 404 rather than reach the database (SQLite cannot bind one above 2**63 - 1).
ID = "int(max=2147483647)"


@bp.get("/beds")
def board():
    """The board of the reader's own region unless they chose another, or all regions, a
    page at a time. A poll that names the version of the page it shows, when the page has
    not changed since, costs one small statement and gets 204 (htmx swaps nothing); a board
    already drawn in this process for the same version is handed out again, not drawn."""
    at = now()
    form = BoardFilterForm(formdata=request.args, region=str(current_user.region_id))
    seen = request.headers.get(BOARD_VERSION_HEADER) if request.headers.get(POLL_HEADER) == "1" else None
    drawn = fragments.kept("board")
    version = None
    if _is_id(form.region.data):
        form.region.validate_choice = False  # a region that names none shows no pool, and changes nothing
        if form.validate():
            f, number = _board_filter(form), form.page.data or 1
            version = _board_version(availability.board_state(f, number, at), f, number, at)
            if version == seen:
                return _board_unchanged(at)
            if wants_fragment() and (html := drawn.get(version)) is not None:
                return html_response(_with_time_checked(html, at))
        form = BoardFilterForm(formdata=request.args, region=str(current_user.region_id))  # checked whole, below
    regions = db.session.scalars(select(Region).order_by(Region.name)).all()
    form.region.choices = options([("", _("All regions"))] + [(str(r.id), r.local_name) for r in regions])
    if not form.validate():
        html = render_template("beds/_board.html", form=form, page=None, version="", filters={},
                               refresh_seconds=current_app.config["BOARD_REFRESH_SECONDS"], checked="")
        return _board_answer(form, Markup(html), status=400)
    html = drawn.get(version) if version else None
    if html is None:
        f, number = _board_filter(form), form.page.data or 1
        page = availability.board(f, number, at)
        # The version of what was read, which a change since the statement above may have moved.
        version = _board_version(availability.shown_state(page), f, number, at)
        html = render_template("beds/_board.html", form=form, page=page, version=version, filters=_filters(f),
                               refresh_seconds=current_app.config["BOARD_REFRESH_SECONDS"], checked=TIME_CHECKED)
        drawn.keep(version, html)
    return _board_answer(form, _with_time_checked(html, at))


# Where the time of the check goes in a drawn board: the only part that is not the same
# for every reader of one version.
TIME_CHECKED = Markup("<!-- time checked -->")


def _with_time_checked(html: str, at) -> Markup:
    checked = Markup('<time id="board-checked" datetime="{}">{}</time>').format(at.isoformat(), when(at))
    return Markup(html.replace(TIME_CHECKED, checked, 1))


def _board_answer(form: BoardFilterForm, board_html: Markup, status: int = 200):
    if wants_fragment():
        return html_response(board_html, status)
    return html_response(render_template("beds/board.html", form=form, board=board_html), status)


def _filters(f: availability.BoardFilter) -> dict:
    """The filters as the links to other pages carry them."""
    given = {"region": f.region_id if f.region_id is not None else "", "sex": f.sex, "age": f.age,
             "free": "y" if f.free_only else None}
    return {name: value for name, value in given.items() if value is not None}


def _is_id(value: str | None) -> bool:
    """Empty (all regions) or a number a region's id could be; anything else is for the
    whole check of the filters to refuse."""
    return not value or (value.isdigit() and len(value) <= 10 and int(value) <= 2**31 - 1)


def _board_filter(form: BoardFilterForm) -> availability.BoardFilter:
    return availability.BoardFilter(region_id=int(form.region.data) if form.region.data else None,
                                    sex=form.sex.data or None, age=form.age.data, free_only=form.free.data)


def _board_version(state, f: availability.BoardFilter, number: int, at) -> str:
    """The page's version: its pools' state, and what else it is drawn from: the filters,
    the reader's language and local day (times read "today" and "yesterday"), their role
    (it decides whether the page offers to refer a child) and the settings it shows."""
    config = current_app.config
    return availability.board_version(
        state, at, config["FRESH_HOURS"], config["STALE_HOURS"], f, number, current_language(), local_today(),
        current_user.role, config["BOARD_REFRESH_SECONDS"])


def _board_unchanged(at):
    """Nothing to swap; the page is told when it was last checked, in the reader's words."""
    response = make_response("", 204)
    response.headers["HX-Trigger"] = json.dumps({"boardChecked": {"at": when(at), "datetime": at.isoformat()}})
    response.vary.update(("HX-Request", "HX-Request-Type"))
    return response


@bp.get(f"/shelters/<{ID}:shelter_id>")
def shelter(shelter_id: int):
    shelter = db.get_or_404(Shelter, shelter_id)
    return _shelter_page(shelter)


def _shelter_page(shelter: Shelter, row_errors: dict | None = None, status: int = 200):
    return render_template(
        "beds/shelter.html", shelter=shelter, pools=availability.pools_of(shelter),
        can_edit=services.can_edit_shelter(current_user, shelter),
        show_address=services.can_see_address(current_user, shelter),
        row_errors=row_errors or {},
    ), status


def _load_pool(shelter_id: int, pool_id: int) -> BedPool:
    pool = operations.pool_to_change(pool_id)
    if pool is None or pool.shelter_id != shelter_id:
        abort(404)
    return pool


def _pool_answer(pool: BedPool, status: int = 200, error: str | None = None, notice: str | None = None,
                 read_again: bool = True):
    """The updated row for htmx; the whole shelter page (or a redirect to it) otherwise.
    After a refusal the pool is read again, so the row shows today's numbers; after a
    change it already holds what the change wrote."""
    if read_again:
        pool = availability.load_pool(pool.id)
    if wants_fragment():
        response = page_or_fragment(
            "beds/shelter.html", "beds/_pool_row.html", status=status, pool=pool,
            can_edit=services.can_edit_pool(current_user, pool), error=error, notice=notice)
        if status == 200:
            response.headers["HX-Trigger"] = "bedsChanged"
        return response
    if status == 200:
        flash(notice, "success")
        return redirect(url_for(".shelter", shelter_id=pool.shelter_id, _anchor=f"pool-{pool.id}"), 303)
    return _shelter_page(pool.shelter, row_errors={pool.id: error}, status=status)


def _change_pool(shelter_id: int, pool_id: int, form_class, change, notice: str):
    pool = _load_pool(shelter_id, pool_id)
    if not services.can_edit_pool(current_user, pool):
        abort(403)
    form = form_class()
    form.fit_to(pool)
    if not form.validate():
        message = next(iter(form.errors.values()))[0]
        return _pool_answer(pool, status=422, error=message)
    try:
        change(pool, form)
    except DomainError as refusal:
        db.session.rollback()  # the row is read again, so a conflict shows today's numbers
        return _pool_answer(pool, status=refusal.status, error=refusal.message)
    commit_keeping_loaded()  # the row is drawn from what the change wrote, not read once more
    return _pool_answer(pool, notice=notice, read_again=False)


@bp.post(f"/shelters/<{ID}:shelter_id>/pools/<{ID}:pool_id>/adjust")
def adjust(shelter_id: int, pool_id: int):
    return _change_pool(
        shelter_id, pool_id, AdjustCountForm,
        lambda pool, form: operations.adjust_count(
            pool, current_user, form.field.data, form.delta.data, form.version.data),
        _("Saved."))


@bp.post(f"/shelters/<{ID}:shelter_id>/pools/<{ID}:pool_id>/counts")
def set_counts(shelter_id: int, pool_id: int):
    return _change_pool(
        shelter_id, pool_id, SetCountsForm,
        lambda pool, form: operations.set_counts(
            pool, current_user, form.occupied.data, form.out_of_service.data,
            (form.out_of_service_reason.data or "").strip(), form.version.data),
        _("Saved."))


@bp.post(f"/shelters/<{ID}:shelter_id>/pools/<{ID}:pool_id>/confirm")
def confirm(shelter_id: int, pool_id: int):
    return _change_pool(
        shelter_id, pool_id, ConfirmCountsForm,
        lambda pool, form: operations.confirm_counts(pool, current_user, form.version.data),
        _("Counts confirmed as still true."))
