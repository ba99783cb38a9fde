from flask import Blueprint, abort, request
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select

from ..accounts.models import Organization
from ..extensions import db
from ..forms import options
from ..htmx import page_or_fragment
from . import services
from .forms import AuditFilterForm

bp = Blueprint("audit", __name__)

PER_PAGE = 50


@bp.get("/audit")
def index():
    if not services.may_browse(current_user):
        abort(403)
    form = AuditFilterForm(formdata=request.args)
    organizations = db.session.scalars(select(Organization).order_by(Organization.name)).all()
    form.organization.choices = options([("", _("Any organization"))] + [(str(o.id), o.name) for o in organizations])
    form.action.choices = options([("", _("Any action"))] + [(a, a) for a in services.known_actions()])
    form.object_type.choices = options([("", _("Any object"))] + [(t, t) for t in services.known_object_types()])
    status, page = 200, None
    if form.validate():
        query = services.search(
            user_email=form.user.data or "", organization_id=int(form.organization.data) if form.organization.data else None,
            action=form.action.data or "", object_type=form.object_type.data or "",
            object_id=form.object_id.data or "", day_from=form.date_from.data, day_to=form.date_to.data)
        page = db.paginate(query, page=form.page.data or 1, per_page=PER_PAGE, error_out=False)
    else:
        status = 400
    users = services.names_of(page.items if page else [])
    return page_or_fragment("audit/index.html", "audit/_events.html", status=status, form=form, page=page,
                            users=users)
