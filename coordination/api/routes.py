"""The JSON API, /api/v1. Thin, as the pages' views are: parse (with the pages' own forms),
load what the caller may see (404 otherwise), check, call the one operation the page calls,
commit once, answer JSON. Every refusal is the page's, as problem details (problems.py)."""
from flask import Blueprint, abort, current_app, jsonify, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select

from .. import availability
from ..accounts.models import Region
from ..beds import operations as bed_operations, services as beds
from ..beds.forms import AdjustCountForm, ConfirmCountsForm, SetCountsForm
from ..clock import now
from ..directory.export import build_package
from ..errors import Conflict, DomainError
from ..extensions import csrf, db, limiter
from ..forms import options, report_problems
from ..paging import cursor_of
from ..problems import problem
from ..referrals import services as referrals, siblings
from ..referrals.forms import ChildForm, ConsentForm, MoveForm, ReferralFilterForm, ReferralForm
from ..referrals.models import Referral
from . import openapi, reads, shapes
from .authentication import record_use, rate_key, requires
from .forms import DEFAULT_LIMIT, ListForm, as_formdata, json_body
from .tokens import BEDS_READ, BEDS_WRITE, CHILDREN_WRITE, REFERRALS_READ, REFERRALS_WRITE

bp = Blueprint("api", __name__, url_prefix="/api/v1")
csrf.exempt(bp)  # no cookies, no session: a token in each request, which a foreign page cannot send
bp.after_request(record_use)

ID = "int(max=2147483647)"
PER_PAGE = 50


def _api_rate() -> str:
    return current_app.config["API_RATE_LIMIT"]


limiter.limit(_api_rate, key_func=rate_key)(bp)


def _invalid(form):
    """422 with every problem of the form, each under its field, in the page's words."""
    errors = {name: str(messages[0]) for name, messages in form.errors.items() if name is not None and messages}
    every = [str(m) for messages in form.errors.values() for m in messages]
    return problem(422, " ".join(every), errors=errors)


def _regions():
    return db.session.scalars(select(Region).order_by(Region.name)).all()


# --- the description -------------------------------------------------------------------------

@bp.get("/openapi.json")
def openapi_document():
    """The OpenAPI 3.1 description of this API (no token needed)."""
    return jsonify(openapi.document())


# --- the bed board ---------------------------------------------------------------------------

def _listing(form: ListForm, at):
    after = form.page_after
    return reads.Listing(region_id=form.region.data, since=form.since,
                         as_of=after[0] if after else reads.sync_time(at), after_id=after[1] if after else None,
                         limit=form.limit.data or DEFAULT_LIMIT)


def _list_answer(endpoint: str, form: ListForm, listing: reads.Listing, page: reads.Page, items: list):
    """A page, the link to the next one, and the time to give as changed_since next time
    (once every page is read)."""
    following = None
    if page.more:
        values = {k: v for k, v in (("region", form.region.data), ("changed_since", form.changed_since.data),
                                     ("limit", form.limit.data)) if v}
        following = url_for(endpoint, after=cursor_of(listing.as_of, page.items[-1].id), **values)
    return jsonify({"items": items, "next": following, "sync": {"changed_since": shapes.time(listing.as_of)}})


@bp.get("/shelters")
@requires(BEDS_READ)
def shelters():
    """The shelters, with their organization and region, a page at a time."""
    form = ListForm(formdata=request.args)
    if not form.validate():
        return _invalid(form)
    listing = _listing(form, now())
    page = reads.shelters(listing)
    return _list_answer(".shelters", form, listing, page, [shapes.shelter(s, current_user) for s in page.items])


@bp.get("/pools")
@requires(BEDS_READ)
def pools():
    """The bed pools with their availability and freshness, a page at a time; with
    changed_since, only those that changed since (reads.py)."""
    form = ListForm(formdata=request.args)
    if not form.validate():
        return _invalid(form)
    at = now()
    listing = _listing(form, at)
    config = current_app.config
    page = reads.pools(listing, at, config["FRESH_HOURS"], config["STALE_HOURS"])
    return _list_answer(".pools", form, listing, page, [shapes.pool(p, at) for p in page.items])


def _pool_or_404(pool_id: int):
    pool = availability.load_pool(pool_id)
    return pool if pool is not None else abort(404)


@bp.get(f"/pools/<{ID}:pool_id>")
@requires(BEDS_READ)
def pool(pool_id: int):
    return jsonify(shapes.pool(_pool_or_404(pool_id)))


def _change_pool(pool_id: int, form_class, change):
    """The bed-count change of the shelter page: the same form, the same version guard (a stale
    version answers 409 with the pool as it is now), the same operation."""
    pool = bed_operations.pool_to_change(pool_id)
    if pool is None:
        abort(404)
    if not beds.can_edit_pool(current_user, pool):
        abort(403)
    form = form_class(meta={"csrf": False}, formdata=as_formdata(json_body()))
    form.fit_to(pool)
    if not form.validate():
        return _invalid(form)
    try:
        change(pool, form)
    except Conflict as conflict:
        db.session.rollback()
        current = _pool_or_404(pool_id)
        return problem(409, conflict.message, kind="Conflict", current_version=current.version,
                       pool=shapes.pool(current))
    except DomainError:
        db.session.rollback()
        raise
    db.session.commit()
    return jsonify(shapes.pool(_pool_or_404(pool_id)))


@bp.post(f"/pools/<{ID}:pool_id>/adjust")
@requires(BEDS_WRITE)
def adjust_count(pool_id: int):
    """One bed more or less occupied or out of service (the page's +1/−1)."""
    return _change_pool(pool_id, AdjustCountForm, lambda pool, form: bed_operations.adjust_count(
        pool, current_user, form.field.data, form.delta.data, form.version.data))


@bp.post(f"/pools/<{ID}:pool_id>/counts")
@requires(BEDS_WRITE)
def set_counts(pool_id: int):
    """Both staff-kept counts at once (the page's direct edit)."""
    return _change_pool(pool_id, SetCountsForm, lambda pool, form: bed_operations.set_counts(
        pool, current_user, form.occupied.data, form.out_of_service.data,
        (form.out_of_service_reason.data or "").strip(), form.version.data))


@bp.post(f"/pools/<{ID}:pool_id>/confirm")
@requires(BEDS_WRITE)
def confirm_counts(pool_id: int):
    """The counts are still true right now (the page's "counts confirmed")."""
    return _change_pool(pool_id, ConfirmCountsForm, lambda pool, form: bed_operations.confirm_counts(
        pool, current_user, form.version.data))


# --- children --------------------------------------------------------------------------------

@bp.post("/children")
@requires(CHILDREN_WRITE)
def register_child():
    """Register a child, as /children/new does: every problem at once (422), a likely duplicate
    pointed out (409) unless confirm_not_duplicate is true."""
    if not referrals.works_with_children(current_user):
        abort(403)
    form = ChildForm(meta={"csrf": False},
                     formdata=as_formdata(json_body(), times=("found_at", "consent_given_at")))
    region_choices = [(str(r.id), r.local_name) for r in _regions()]
    form.region.choices = options(region_choices)
    form.found_region.choices = options([("", "—")] + region_choices)
    if not form.validate():
        return _invalid(form)
    record = form.record()
    duplicates = referrals.likely_duplicates(current_user.organization_id, record["given_name"],
                                             record["family_name"], record["birth_date"], record["estimated_age"])
    if duplicates and not form.confirm_not_duplicate.data:
        referrals.record_name_views(duplicates, "likely duplicates")  # the answer names them, as the page does
        db.session.commit()
        return problem(409, shapes.duplicate_warning() + " " + ", ".join(d.case_reference for d in duplicates),
                       duplicates=[{"id": d.id, "case_reference": d.case_reference, "given_name": d.given_name,
                                    "family_name": d.family_name} for d in duplicates])
    child = referrals.register_child(current_user, **record, consent_given_by=form.consent_given_by.data or "",
                                     consent_given_at=form.consent_given_at.utc or now(),
                                     child_assent=form.child_assent.data)
    db.session.commit()
    return jsonify(shapes.child(child, current_user)), 201


@bp.post(f"/children/<{ID}:child_id>/consent")
@requires(CHILDREN_WRITE)
def record_consent(child_id: int):
    """Record who gave consent to share the child's data, and when (needed before submitting)."""
    child = referrals.child_for(current_user, child_id)
    if child is None:
        abort(404)
    form = ConsentForm(meta={"csrf": False}, formdata=as_formdata(json_body(), times=("consent_given_at",)))
    if not form.validate():
        return _invalid(form)
    referrals.record_consent(child, current_user, form.consent_given_by.data, form.consent_given_at.utc,
                             form.child_assent.data)
    db.session.commit()
    return jsonify(shapes.child(child, current_user))


# --- referrals -------------------------------------------------------------------------------

@bp.get("/referrals")
@requires(REFERRALS_READ)
def list_referrals():
    """The referrals the caller may see, latest change first (the pages' /referrals)."""
    if not referrals.may_list_referrals(current_user):
        abort(403)
    form = ReferralFilterForm(formdata=request.args)
    form.region.choices = options([("", "")] + [(str(r.id), r.local_name) for r in _regions()])
    if not form.validate():
        return _invalid(form)
    page = referrals.referrals_of(current_user, status=form.status.data or None,
                                  region_id=int(form.region.data) if form.region.data else None,
                                  urgency=form.urgency.data or None, per_page=PER_PAGE,
                                  before=form.before.data or None, after=form.after.data or None)
    values = {k: v for k, v in (("status", form.status.data), ("region", form.region.data),
                                 ("urgency", form.urgency.data)) if v}
    return jsonify({
        "items": [shapes.referral_summary(r, current_user) for r in page.items],
        "next": url_for(".list_referrals", before=page.older, **values) if page.older else None,
        "previous": url_for(".list_referrals", after=page.newer, **values) if page.newer else None,
    })


def _referral_or_404(referral_id: int) -> Referral:
    referral = referrals.referral_for(current_user, referral_id)
    return referral if referral is not None else abort(404)


def _referral_answer(referral: Referral, status: int = 200):
    """The referral as the caller may see it; a view of the child's name is recorded, as on the page."""
    if referrals.can_see_child_name(current_user, referral):
        referrals.record_name_view(referral.child, "api")
    shown = shapes.referral(referral, current_user)
    db.session.commit()
    return jsonify(shown), status


@bp.get(f"/referrals/<{ID}:referral_id>")
@requires(REFERRALS_READ)
def referral(referral_id: int):
    """One referral: its status, timeline and the moves the caller may make now."""
    return _referral_answer(_referral_or_404(referral_id))


def _child_to_refer(child_id):
    """One of the caller's organization's children without a live referral, or None (the
    children the page's form offers)."""
    if not isinstance(child_id, int) or isinstance(child_id, bool) or not 0 < child_id < 2**31:
        return None
    return referrals.child_to_refer(current_user, child_id)


@bp.post("/referrals")
@requires(REFERRALS_WRITE)
def create_referral():
    """A draft referral of a child to a pool, as /referrals/new saves one; submit it with the
    move "submit" (POST /referrals/<id>/moves), which holds a bed."""
    if not referrals.works_with_children(current_user):
        abort(403)
    body = json_body()
    chosen = _child_to_refer(body.get("child"))
    form = ReferralForm(meta={"csrf": False}, formdata=as_formdata(body))
    form.child.choices = options([(str(chosen.id), chosen.case_reference)] if chosen else [])
    form.validate()
    if chosen is None and form.child.data:  # as the page says it, more exactly than "Not a valid choice"
        form.child.errors = [_("Choose one of your organization's children without a live referral.")]
    pool = None
    if not form.pool.errors:
        value = form.pool.data or ""
        pool = availability.load_pool(int(value)) if value.isascii() and value.isdigit() and 0 < int(value) < 2**31 \
            else None
        if pool is None:
            form.pool.errors.append(_("Choose one of the pools offered."))
        elif chosen is not None:
            report_problems(form, referrals.referral_problems(chosen, pool))
    if form.errors:
        return _invalid(form)
    created = referrals.create_referral(current_user, chosen, pool, form.urgency.data, form.note.data or "")
    db.session.commit()
    return _referral_answer(created, 201)


@bp.post(f"/referrals/<{ID}:referral_id>/moves")
@requires(REFERRALS_WRITE)
def move(referral_id: int):
    """One step of the referral (MOVES in referrals/services.py), as the page's buttons post it:
    action, and reason_code, reason_text or arrived_at where the step takes them."""
    referral = _referral_or_404(referral_id)
    body = json_body()
    action = body.get("action")
    if not isinstance(action, str) or action not in referrals.MOVES:
        return problem(422, _("There is no such step for a referral."),
                       errors={"action": _("There is no such step for a referral.")})
    form = MoveForm(meta={"csrf": False}, formdata=as_formdata(body, times=("arrived_at",)))
    if not form.validate():
        return _invalid(form)
    try:
        siblings.take_step(referral, action, current_user, reason_code=form.reason_code.data or "",
                           reason_text=form.reason_text.data or "", arrived_at=form.arrived_at.utc)
    except DomainError:
        db.session.rollback()
        raise
    db.session.commit()
    return _referral_answer(_referral_or_404(referral_id))


# --- the directory, as Open Referral's HSDS 3.1 ----------------------------------------------

@bp.get("/hsds/services")
@requires(BEDS_READ)
def hsds_services():
    """Every bed pool as an HSDS 3.1 service, its organization, shelter and free beds nested
    (coordination/directory/export.py: no child data, no shelter's address)."""
    return jsonify(build_package().services)


@bp.get("/hsds/datapackage.zip")
@requires(BEDS_READ)
def hsds_datapackage():
    """The same directory as an HSDS Tabular Data Package: datapackage.json, a CSV a table
    and services.json, as `flask export-hsds` writes it."""
    package = build_package()
    return current_app.response_class(package.zip_bytes(), mimetype="application/zip", headers={
        "Content-Disposition": f'attachment; filename="hsds-{package.made_at:%Y-%m-%d}.zip"'})
