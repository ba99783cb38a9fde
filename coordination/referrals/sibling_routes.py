"""Sibling groups on the child's page: link, unlink, refer together. Each view loads what
the user may see (another organization's child answers 404), calls one service, commits
once, and goes back to the page (303) or shows the form again with the reason."""
from flask import Blueprint, abort, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user

from ..errors import DomainError, NoBedAvailable
from ..extensions import db
from ..forms import options, report_refusal
from ..i18n import until
from ..transactions import commit_keeping_loaded
from ..views import back_to
from . import services, siblings
from .routes import ID, _child_page
from .sibling_forms import GroupReferralForm, SiblingLinkForm

bp = Blueprint("siblings", __name__)


def _child(child_id: int):
    return services.child_for(current_user, child_id) or abort(404)


@bp.post(f"/children/<{ID}:child_id>/siblings")
def link(child_id: int):
    """Link a child of the organization, by case reference, as this child's brother or sister."""
    child = _child(child_id)
    form = SiblingLinkForm()
    if not form.validate():
        return _child_page(child, link_form=form, status=422)
    try:
        sibling = siblings.link_siblings(current_user, child, form.case_reference.data)
    except DomainError as refusal:
        db.session.rollback()
        report_refusal(form, refusal)
        return _child_page(_child(child_id), link_form=form, status=refusal.status)
    db.session.commit()
    return back_to(_("%(ref)s is linked as a sibling.", ref=sibling.case_reference), "referrals.child",
                   child_id=child_id)


@bp.post(f"/children/<{ID}:child_id>/siblings/unlink")
def unlink(child_id: int):
    """Take this child out of its sibling group."""
    child = _child(child_id)
    form = SiblingLinkForm(formdata=None)
    try:  # CSRFProtect checks the button's token before the view runs
        siblings.unlink_sibling(current_user, child)
    except DomainError as refusal:
        db.session.rollback()
        form.form_errors.append(refusal.message)
        return _child_page(_child(child_id), link_form=form, status=refusal.status)
    db.session.commit()
    return back_to(_("%(ref)s is no longer linked to siblings.", ref=child.case_reference), "referrals.child",
                   child_id=child_id)


@bp.route(f"/children/<{ID}:child_id>/siblings/refer", methods=["GET", "POST"])
def refer(child_id: int):
    """Refer the child and its siblings together to one shelter, holding a bed for each,
    all or none. The shelters that can take every sibling now come first."""
    child = _child(child_id)
    if not siblings.may_link(current_user, child):
        abort(403)
    candidates = siblings.to_refer_with(child)
    form = GroupReferralForm()
    form.children.choices = options((str(c.id), c.case_reference) for c in candidates)
    if not form.is_submitted():
        form.children.data = [str(c.id) for c in candidates]
    chosen = [c for c in candidates if str(c.id) in (form.children.data or [])]
    shelters = siblings.shelter_options(chosen or candidates)
    form.shelter.choices = options((str(o.shelter.id), o.shelter.name) for o in shelters)
    status = 200
    if form.is_submitted():
        status = 422
        if form.validate():
            shelter_id = _whole_number(form.shelter.data)
            try:
                members = siblings.refer_together(current_user, chosen, shelter_id, form.urgency.data,
                                                form.note.data or "")
            except DomainError as refusal:
                db.session.rollback()
                report_refusal(form, refusal)
                status = refusal.status
                if isinstance(refusal, NoBedAvailable):
                    candidates = siblings.to_refer_with(_child(child_id))
                    chosen = [c for c in candidates if str(c.id) in (form.children.data or [])]
                    shelters = siblings.shelter_options(chosen or candidates)  # the numbers as they are now
            else:
                db.session.commit()
                flash(_("Referred together: one bed is held for each of the %(num)s siblings %(until)s.",
                        num=len(members), until=until(members[0].hold_until)), "success")
                return redirect(url_for("referrals.referral", referral_id=members[0].id), 303)
    services.record_name_views([child] + candidates, "sibling referral form")
    commit_keeping_loaded()
    return render_template("referrals/siblings_refer.html", child=child, form=form, candidates=candidates,
                           shelters=shelters), status


def _whole_number(value) -> int | None:
    value = value or ""
    return int(value) if value.isascii() and value.isdigit() and 0 < int(value) < 2**31 else None
