"""Children and referrals. Each view: load what the user may see (404 otherwise), check,
call one service, commit once, render the page or the fragment htmx asked for."""
import re

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import format_decimal, gettext as _
from flask_login import current_user
from sqlalchemy import select

from ..accounts.models import Region
from ..audit import sentences as audit_sentences, services as audit
from ..beds.models import BedPool
from ..availability import load_pool
from ..clock import now
from ..errors import DomainError, InvalidInput, NoBedAvailable
from ..escalations.services import steps_of as escalation_steps_of
from ..extensions import db
from ..forms import options, report_problems
from ..htmx import page_or_fragment, wants_fragment
from ..i18n import local, until
from ..transactions import commit_keeping_loaded
from ..notifications.services import mark_read_for_referral
from ..views import back_to, carry_out
from ..words import word
from . import found, notes, services, siblings, transfers, urgency
from .forms import (ChildFilterForm, ChildForm, ChildLanguagesForm, ChildRecordForm, ConsentForm, MoveForm, NoteForm,
                    ReferralFilterForm, ReferralForm, RepointForm, TransferForm)
from .note_routes import newest_notes
from .models import Referral
from .sibling_forms import SiblingLinkForm

bp = Blueprint("referrals", __name__)

PER_PAGE = 25
CHILD_CHOICES = 100  # the newest children without a live referral, offered on a new referral
# Ids are 32-bit integer columns: a larger number in an address names nothing, and must
# answer 404 rather than reach the database (SQLite cannot bind one above 2**63 - 1).
ID = "int(max=2147483647)"


def _regions():
    return db.session.scalars(select(Region).order_by(Region.name)).all()


def _require_caseworker():
    if not services.works_with_children(current_user):
        abort(403)


# --- children --------------------------------------------------------------------------------

@bp.get("/children")
def children():
    _require_caseworker()
    form = ChildFilterForm(formdata=request.args)
    form.region.choices = options([("", _("All regions"))] + [(str(r.id), r.local_name) for r in _regions()])
    status = 200
    if form.validate():
        page = services.children_of(current_user, region_id=int(form.region.data) if form.region.data else None,
                                    placement=form.status.data or None, urgency=form.urgency.data or None,
                                    search=form.q.data or None, per_page=PER_PAGE,
                                    before=form.before.data or None, after=form.after.data or None)
        services.record_name_views(page.items, "children list")
        commit_keeping_loaded()
    else:
        status, page = 400, None
    return page_or_fragment("referrals/children.html", "referrals/_children_list.html", status=status,
                            form=form, page=page)


@bp.route("/children/new", methods=["GET", "POST"])
def new_child():
    _require_caseworker()
    form = ChildForm()
    form.region.choices = options((str(r.id), r.local_name) for r in _regions())
    form.found_region.choices = _found_regions()
    if request.method == "GET":
        form.region.data = str(current_user.organization.region_id)
        form.found_region.data = str(current_user.organization.region_id)
    duplicates = []
    status = 200
    if form.validate_on_submit():  # WTForms' checks and the service's rules, every problem at once
        record = form.record()
        duplicates = services.likely_duplicates(current_user.organization_id, record["given_name"],
                                                record["family_name"], record["birth_date"], record["estimated_age"])
        if not duplicates or form.confirm_not_duplicate.data:
            registered, status = carry_out(
                form, lambda: services.register_child(
                    current_user, **record, consent_given_by=form.consent_given_by.data or "",
                    consent_given_at=form.consent_given_at.utc or now(), child_assent=form.child_assent.data),
                lambda child: back_to(_("%(ref)s registered.", ref=child.case_reference), ".child",
                                      child_id=child.id))
            if registered is not None:
                return registered
        else:
            status = 409
    elif request.method == "POST":
        status = 422
    if duplicates:
        services.record_name_views(duplicates, "likely duplicates")  # the warning names them
        db.session.commit()
    return render_template("referrals/child_new.html", form=form, duplicates=duplicates), status


@bp.get(f"/children/<{ID}:child_id>")
def child(child_id: int):
    child = services.child_for(current_user, child_id) or abort(404)
    return _child_page(child)


def _child_page(child, languages_form: ChildLanguagesForm | None = None, consent_form: ConsentForm | None = None,
                consent_back: str | None = None, status: int = 200, link_form: SiblingLinkForm | None = None):
    services.record_name_view(child, "child")
    brothers_and_sisters = siblings.siblings_of(child)
    services.record_name_views(brothers_and_sisters, "siblings")
    db.session.commit()
    consent_form = consent_form or ConsentForm(formdata=None)
    history = audit.history_of("child", child.id)
    languages_form = languages_form or ChildLanguagesForm(formdata=None, data={"languages": child.languages})
    return render_template("referrals/child.html", child=child, consent_form=consent_form, consent_back=consent_back,
                           journey=found.journey(child),
                           languages_form=languages_form,
                           correction_refusal=services.correction_refusal(current_user, child),
                           history=audit_sentences.read(history, links=False),
                           suggestions=services.suggest_pools(child, limit=5), siblings=brothers_and_sisters,
                           link_form=link_form or SiblingLinkForm(formdata=None),
                           may_link=siblings.may_link(current_user, child),
                           to_refer_together=len(siblings.to_refer_with(child)) >= 2,
                           transferable=[r.id for r in child.referrals if transfers.may_transfer(current_user, r)],
                           **_notes_context(child, url_for("referrals.child", child_id=child.id))), status


def _notes_context(child, back: str) -> dict:
    """The newest case notes and the form to add one, for a page that shows the child's name."""
    return {"case_notes": newest_notes(child), "note_form": NoteForm(formdata=None), "notes_back": back,
            "paging_form": None, "whole_list": False}


@bp.route(f"/children/<{ID}:child_id>/edit", methods=["GET", "POST"])
def edit_child(child_id: int):
    """Correct a child's record after registration (names, sex, age, nationality, languages,
    needs, region), under the rules of registering, every problem at once; a likely
    duplicate is pointed out as at registration. Consent has its own form."""
    child = services.child_for(current_user, child_id) or abort(404)
    services.require_correctable(current_user, child)
    # A POST is the record as sent, every field of it; the record as it stands only fills the form at first.
    form = ChildRecordForm(data=None if request.method == "POST" else _record_of(child))
    form.region.choices = options((str(r.id), r.local_name) for r in _regions())
    form.found_region.choices = _found_regions()
    duplicates = []
    status = 200
    if form.validate_on_submit():
        record = form.record()
        duplicates = services.duplicates_after_correction(child, record["given_name"], record["family_name"],
                                                          record["birth_date"], record["estimated_age"])
        if not duplicates or form.confirm_not_duplicate.data:
            corrected, status = carry_out(form, lambda: services.correct_child(child, current_user, **record),
                                          lambda changed: _corrected(child, changed))
            if corrected is not None:
                return corrected
        else:
            status = 409
    elif form.is_submitted():
        status = 422
    services.record_name_view(child, "correction")
    services.record_name_views(duplicates, "likely duplicates")  # the warning names them
    db.session.commit()
    return render_template("referrals/child_edit.html", form=form, child=child, duplicates=duplicates), status


def _corrected(child, changed: bool):
    if not changed:
        flash(_("Nothing was changed: the record already said all that."), "info")
        return redirect(url_for(".child", child_id=child.id), 303)
    return back_to(_("The record of %(ref)s is corrected.", ref=child.case_reference), ".child", child_id=child.id)


def _record_of(child) -> dict:
    """What the correction form shows before anything is typed: the record as it stands."""
    return {"given_name": child.given_name, "family_name": child.family_name, "sex": child.sex,
            "birth_date": child.birth_date, "estimated_age": child.estimated_age, "nationality": child.nationality,
            "languages": child.languages, "needs": child.needs, "region": str(child.region_id),
            "found_place": child.found_place, "found_region": str(child.found_region_id or ""),
            "found_at": local(child.found_at).replace(tzinfo=None) if child.found_at else None}


def _found_regions():
    return options([("", "—")] + [(str(r.id), r.local_name) for r in _regions()])


@bp.post(f"/children/<{ID}:child_id>/languages")
def change_child_languages(child_id: int):
    """Choose the languages a child speaks again (a language learned later, or one the move
    to the list of languages could not match)."""
    child = services.child_for(current_user, child_id) or abort(404)
    form = ChildLanguagesForm()
    if not form.validate():
        return _child_page(child, languages_form=form, status=422)
    try:
        services.change_child_languages(child, current_user, form.languages.data)
    except DomainError as refusal:
        db.session.rollback()
        form.form_errors.append(refusal.message)
        return _child_page(services.child_for(current_user, child_id) or abort(404), languages_form=form,
                           status=refusal.status)
    db.session.commit()
    flash(_("Languages saved."), "success")
    return redirect(url_for(".child", child_id=child.id), 303)


@bp.get(f"/children/<{ID}:child_id>/print")
def print_child(child_id: int):
    """One child's record with its referral history, clean for paper (a subject access
    request, a court file)."""
    child = services.child_for(current_user, child_id) or abort(404)
    services.record_name_view(child, "print")
    db.session.commit()
    return render_template("referrals/print.html", child=child, case_notes=notes.all_notes_of(child),
                           journey=found.journey(child))


# Where the consent form may send the person back to: a referral's page.
REFERRAL_PAGE = re.compile(r"/referrals/[0-9]{1,10}")


@bp.post(f"/children/<{ID}:child_id>/consent")
def record_consent(child_id: int):
    """Record consent to share; a refusal shows the child's page with every problem under
    its field, and the way back to the referral kept for the next try."""
    child = services.child_for(current_user, child_id) or abort(404)
    form = ConsentForm()
    back = request.form.get("back", "")
    back = back if REFERRAL_PAGE.fullmatch(back) else None
    status = 422
    if form.validate():
        recorded, status = carry_out(form, lambda: services.record_consent(
            child, current_user, form.consent_given_by.data, form.consent_given_at.utc, form.child_assent.data),
            lambda _recorded: _consent_recorded(back or url_for(".child", child_id=child.id)))
        if recorded is not None:
            return recorded
    return _child_page(child, consent_form=form, consent_back=back, status=status)


def _consent_recorded(back: str):
    flash(_("Consent recorded."), "success")
    return redirect(back, 303)


# --- referrals -------------------------------------------------------------------------------

@bp.get("/referrals")
def referrals():
    if not services.may_list_referrals(current_user):
        abort(403)
    form = ReferralFilterForm(formdata=request.args)
    form.region.choices = options([("", _("All regions"))] + [(str(r.id), r.local_name) for r in _regions()])
    status = 200
    if form.validate():
        page = services.referrals_of(current_user, status=form.status.data or None,
                                     region_id=int(form.region.data) if form.region.data else None,
                                     urgency=form.urgency.data or None, per_page=PER_PAGE,
                                     before=form.before.data or None, after=form.after.data or None)
    else:
        status, page = 400, None
    return page_or_fragment("referrals/list.html", "referrals/_list.html", status=status, form=form, page=page)


@bp.route("/referrals/new", methods=["GET", "POST"])
def new_referral():
    _require_caseworker()
    form = ReferralForm(formdata=request.form if request.method == "POST" else request.args)
    candidates = services.children_to_refer(current_user, limit=CHILD_CHOICES)
    form.child.choices = options([("", _("Choose a child"))] + [
        (str(c.id), f"{c.case_reference} · {c.full_name}") for c in candidates])
    chosen = next((c for c in candidates if str(c.id) == form.child.data), None)
    suggestions = services.suggest_pools(chosen) if chosen else []
    if chosen:
        services.note_unmet_demand(chosen, suggestions)
    form.pool.choices = options((str(s.pool.id), s.pool.label) for s in suggestions)
    # A pool chosen before the child (the bed board's "Refer a child") is kept and shown.
    preset = load_pool(_pool_id(form.pool.data)) if _pool_id(form.pool.data) else None
    # The full page lists the names to choose from; an htmx answer only the chosen child's pools.
    services.record_name_views(([chosen] if chosen else []) if wants_fragment() else candidates,
                               "referral form")
    commit_keeping_loaded()
    status = 200
    if request.method == "POST":
        pool = _pool_if_all_is_well(form, chosen)
        if pool is None:
            status = 422
        else:
            created, status = carry_out(
                form, lambda: services.create_referral(current_user, chosen, pool, form.urgency.data,
                                                       form.note.data or ""),
                lambda referral: _draft_saved(referral, then=form.then.data))
            if created is not None:
                return created
    if wants_fragment():
        return page_or_fragment("referrals/new.html", "referrals/_suggestions.html", status=status,
                                form=form, suggestions=suggestions, chosen=chosen, preset=preset,
                                hold_hours=_hold_hours())
    return render_template("referrals/new.html", form=form, suggestions=suggestions, chosen=chosen,
                           preset=preset, hold_hours=_hold_hours()), status


def _hold_hours() -> dict[str, str]:
    """How long each urgency holds a bed, in hours, written for the reader's language."""
    return {level: format_decimal(hours) for level, hours in urgency.hold_hours_by_urgency().items()}


def _pool_if_all_is_well(form: ReferralForm, chosen) -> BedPool | None:
    """The pool chosen on a new referral, or None with every problem on the form at once:
    WTForms' checks, the child and the pool chosen, and whether that pool may take that
    child (services.referral_problems), each under its own field."""
    form.validate()
    if chosen is None and form.child.data:  # more exact than WTForms' "Not a valid choice"
        form.child.errors = [_("Choose one of your organization's children without a live referral.")]
    pool = None
    if not form.pool.errors:
        pool = load_pool(_pool_id(form.pool.data)) if _pool_id(form.pool.data) else None
        if pool is None:
            form.pool.errors.append(_("Choose one of the pools offered."))
        elif chosen is not None:
            report_problems(form, services.referral_problems(chosen, pool))
    return None if form.errors else pool


def _pool_id(value: str | None) -> int | None:
    """A pool id from a form or an address: a whole number an id column can hold, or None."""
    value = value or ""
    return int(value) if value.isascii() and value.isdigit() and 0 < int(value) < 2**31 else None


def _draft_saved(referral: Referral, then: str):
    """A new referral is saved as a draft, and submitted at once when that was the button pressed."""
    if then == "submit":
        return _submit_new(referral)
    return back_to(_("Draft saved; submit it to hold a bed."), ".referral", referral_id=referral.id)


def _submit_new(referral: Referral):
    try:
        services.move(referral, "submit", current_user)
    except DomainError as refusal:
        db.session.rollback()
        flash(refusal.message, "error")
    else:
        db.session.commit()
        flash(_("Submitted: one bed is held %(until)s.", until=until(referral.hold_until)), "success")
    return redirect(url_for(".referral", referral_id=referral.id), 303)


def _load_referral(referral_id: int) -> Referral:
    return services.referral_for(current_user, referral_id) or abort(404)


def _referral_context(referral: Referral, error: str | None = None, no_bed: bool = False) -> dict:
    show_name = services.can_see_child_name(current_user, referral)
    suggestions = []
    if no_bed or (referral.status == "draft" and error is None and services.plays(
            current_user, services.REFERRING_CASEWORKER, referral)):
        suggestions = services.suggest_pools(referral.child, limit=5, exclude_pool_id=referral.pool_id)
    history = audit.history_of("referral", referral.id)
    return {
        "history": audit_sentences.read(history, links=False),
        "referral": referral, "child": referral.child, "show_name": show_name,
        "moves": services.allowed_moves(current_user, referral), "move_form": MoveForm(),
        "error": error, "suggestions": suggestions, "no_bed": no_bed,
        "hold_overdue": services.hold_is_overdue(referral),
        "escalations": escalation_steps_of(referral),
        "decision_overdue": urgency.decision_is_overdue(referral, now()),
        "consent_form": ConsentForm() if not referral.child.has_consent else None,
        "can_repoint": referral.status == "draft" and referral.group_id is None and services.plays(
            current_user, services.REFERRING_CASEWORKER, referral),
        # Case notes go with the child's name: only a page that shows the name shows them.
        **(_notes_context(referral.child, url_for("referrals.referral", referral_id=referral.id))
           if show_name and not wants_fragment() else {"case_notes": None}),
        "group": siblings.group_panel(current_user, referral),
        # The transfer section is part of the whole page only, never of the status panel's polls.
        "transfer": None if wants_fragment() else _transfer_context(referral),
    }


def _transfer_context(referral: Referral, form: TransferForm | None = None) -> dict:
    """What the referral page says of transfers: where this one came from, where the child is
    being or was moved to (each as this person may see it), and the form to start one."""
    may = transfers.may_transfer(current_user, referral)
    return {
        "may": may, "form": form or TransferForm(formdata=None),
        "suggestions": transfers.transfer_suggestions(referral) if may else [],
        "source": services.referral_for(current_user, referral.transfer_of_id) if referral.transfer_of_id else None,
        "onward": [t for t in transfers.transfers_of(referral) if services.referral_for(current_user, t.id)],
    }


@bp.get(f"/referrals/<{ID}:referral_id>")
def referral(referral_id: int):
    referral = _load_referral(referral_id)
    context = _referral_context(referral)
    if context["show_name"] and not wants_fragment():  # the status panel alone shows no name
        services.record_name_view(referral.child, "referral")
    if context["group"] and not wants_fragment():
        services.record_name_views(context["group"]["named_children"], "sibling group")
    mark_read_for_referral(current_user, referral.id)
    db.session.commit()
    return page_or_fragment("referrals/referral.html", "referrals/_state.html", **context)


@bp.post(f"/referrals/<{ID}:referral_id>/repoint")
def repoint(referral_id: int):
    """Send a draft to another pool, and submit it there straight away."""
    referral = _load_referral(referral_id)
    form = RepointForm()
    try:
        services.require_part(current_user, services.REFERRING_CASEWORKER, referral)
        pool = load_pool(form.pool.data) if form.validate() else None
        if pool is None:
            raise InvalidInput(_("Choose one of the pools offered."))
        services.repoint_draft(referral, pool, current_user)
    except DomainError as refusal:
        db.session.rollback()
        return _state_answer(_load_referral(referral_id), refusal.message, refusal.status)
    # No commit yet: if the submit is refused, the new pool is rolled back with it.
    return _perform(referral_id, "submit")


@bp.post(f"/referrals/<{ID}:referral_id>/transfer")
def transfer(referral_id: int):
    """Start a transfer of a placed child to another pool: a new referral that holds a bed
    there while the child stays where they are until the arrival."""
    placement = _load_referral(referral_id)
    refusal = transfers.transfer_refusal(current_user, placement)
    form = TransferForm()
    status = 422
    if refusal is not None:
        form.form_errors.append(refusal.message)
        status = refusal.status
    elif form.validate():
        pool = load_pool(form.pool.data)
        if pool is None:
            form.pool.errors = [_("Choose one of the pools offered.")]
        else:
            started, status = carry_out(
                form, lambda: transfers.start_transfer(current_user, placement, pool, form.urgency.data,
                                                       form.note.data or ""),
                lambda transfer: back_to(_("Transfer started: one bed is held %(until)s; the child stays placed "
                                           "here until the arrival is recorded.", until=until(transfer.hold_until)),
                                         ".referral", referral_id=transfer.id))
            if started is not None:
                return started
    placement = _load_referral(referral_id)
    context = _referral_context(placement)
    context["transfer"] = _transfer_context(placement, form)
    if context["show_name"]:
        services.record_name_view(placement.child, "referral")
    db.session.commit()
    return render_template("referrals/referral.html", **context), status


@bp.post(f"/referrals/<{ID}:referral_id>/<action>")
def act(referral_id: int, action: str):
    if action not in services.MOVES:
        abort(404)
    return _perform(referral_id, action)


def _perform(referral_id: int, action: str):
    referral = _load_referral(referral_id)
    form = MoveForm()
    if not form.validate():
        db.session.rollback()  # a refusal changes nothing, not even a repoint made just before
        every_problem = " ".join(str(message) for messages in form.errors.values() for message in messages)
        return _state_answer(_load_referral(referral_id), every_problem, 422)
    try:
        # Siblings referred together take a together-step all at once (siblings.py).
        siblings.take_step(referral, action, current_user, reason_code=form.reason_code.data or "",
                           reason_text=form.reason_text.data or "", arrived_at=form.arrived_at.utc)
    except DomainError as refusal:
        db.session.rollback()
        return _state_answer(_load_referral(referral_id), refusal.message, refusal.status,
                             no_bed=isinstance(refusal, NoBedAvailable))
    db.session.commit()
    if wants_fragment():
        response = _state_answer(referral, None, 200)
        response.headers["HX-Trigger"] = "bedsChanged, queueChanged"
        return response
    flash(_("Done: the referral is now %(status)s.", status=word(referral.status)), "success")
    return redirect(url_for(".referral", referral_id=referral.id), 303)


def _state_answer(referral: Referral, error: str | None, status: int, no_bed: bool = False):
    """The status panel and timeline for htmx; the whole referral page otherwise."""
    context = _referral_context(referral, error=error, no_bed=no_bed)
    if context["show_name"] and not wants_fragment():  # the status panel alone shows no name
        services.record_name_view(referral.child, "referral")
    if context["group"] and not wants_fragment():
        services.record_name_views(context["group"]["named_children"], "sibling group")
    if not wants_fragment():
        db.session.commit()
    return page_or_fragment("referrals/referral.html", "referrals/_state.html", status=status, **context)
