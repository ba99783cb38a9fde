from datetime import date, timedelta

from flask import Blueprint, abort, request
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select

from ..accounts.models import Organization, User
from ..extensions import db
from ..forms import options
from ..i18n import start_of_local_day
from ..htmx import page_or_fragment
from . import services
from .forms import AuditFilterForm
from .models import AuditEvent

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
        query = select(AuditEvent).order_by(AuditEvent.id.desc())
        if form.user.data:
            query = query.join(User, User.id == AuditEvent.user_id).where(
                User.email == form.user.data.strip().lower())
        if form.organization.data:
            query = query.where(AuditEvent.organization_id == int(form.organization.data))
        if form.action.data:
            query = query.where(AuditEvent.action == form.action.data)
        if form.object_type.data:
            query = query.where(AuditEvent.object_type == form.object_type.data)
        if form.object_id.data:
            query = query.where(AuditEvent.object_id == form.object_id.data.strip())
        if form.date_from.data:
            query = query.where(AuditEvent.created_at >= start_of_local_day(form.date_from.data))
        if form.date_to.data and form.date_to.data < date.max:  # up to the last day there is: no bound
            query = query.where(AuditEvent.created_at < start_of_local_day(form.date_to.data + timedelta(days=1)))
        page = db.paginate(query, page=form.page.data or 1, per_page=PER_PAGE, error_out=False)
    else:
        status = 400
    users = services.names_of(page.items if page else [])
    return page_or_fragment("audit/index.html", "audit/_events.html", status=status, form=form, page=page,
                            users=users)
