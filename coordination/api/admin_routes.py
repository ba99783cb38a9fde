"""Admins make and revoke API tokens (/admin/api-tokens). A new token's secret is shown once,
in the answer to the POST that made it, never stored, never in a redirect or a cookie."""
from flask import Blueprint, abort, flash, make_response, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user

from ..admin.forms import ActionForm
from ..admin.services import all_organizations, may_administer
from ..errors import DomainError
from ..extensions import db
from ..forms import options
from ..views import back_to, submit
from . import tokens
from .admin_forms import NewTokenForm
from .models import ApiToken

bp = Blueprint("api_tokens", __name__, url_prefix="/admin/api-tokens")
ID = "int(max=2147483647)"


@bp.before_request
def admins_only():
    if not may_administer(current_user):
        abort(403)


@bp.get("/")
def index():
    return render_template("api/tokens.html", tokens=db.session.scalars(tokens.tokens_query()).all(),
                           action_form=ActionForm(), scopes_by_role=tokens.SCOPES_BY_ROLE)


def _shown_once(token: ApiToken, secret: str):
    response = make_response(render_template("api/token_created.html", token=token, secret=secret))
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.route("/new", methods=["GET", "POST"])
def new():
    form = NewTokenForm()
    form.organization.choices = options((o.id, o.name) for o in all_organizations() if o.active)
    return submit(form, lambda: tokens.create_token(current_user, form.label.data, form.organization.data,
                                                    form.role.data, form.scopes.data or [], form.expires_on.data),
                  lambda made: _shown_once(*made),
                  lambda: render_template("api/token_new.html", form=form, scopes_by_role=tokens.SCOPES_BY_ROLE))


@bp.post(f"/<{ID}:token_id>/revoke")
def revoke(token_id: int):
    token = db.session.get(ApiToken, token_id) or abort(404)
    if not ActionForm().validate_on_submit():
        abort(400)
    try:
        tokens.revoke_token(token, current_user)
    except DomainError as refusal:
        db.session.rollback()
        flash(refusal.message, "error")
        return redirect(url_for(".index"), 303)
    db.session.commit()
    return back_to(_("The token %(label)s is revoked: it no longer works.", label=token.label), ".index")
