from flask import Blueprint, Response, abort, request
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select

from ..accounts.models import Organization
from ..admin.services import may_administer
from ..extensions import db
from ..forms import options
from ..htmx import page_or_fragment
from . import export as csv_export, sentences, services
from .forms import AuditFilterForm

bp = Blueprint("audit", __name__)

PER_PAGE = 50


def _filter_form() -> AuditFilterForm:
    form = AuditFilterForm(formdata=request.args)
    organizations = db.session.execute(select(Organization.id, Organization.name).order_by(Organization.name))
    form.organization.choices = options([("", _("Any organization"))] + [(str(i), name) for i, name in organizations])
    form.action.choices = options([("", _("Any action"))] + sorted(
        ((a, sentences.action_words(a)) for a in services.known_actions()), key=lambda choice: choice[1]))
    form.object_type.choices = options([("", _("Any object"))] + [
        (t, str(sentences.OBJECTS[t])) for t in services.known_object_types()])
    return form


def _query(form: AuditFilterForm):
    """The filtered events, or None when the filters cannot be used (the form says why)."""
    if not form.validate():
        return None
    try:
        return services.search(
            person=form.person.data or "",
            organization_id=int(form.organization.data) if form.organization.data else None,
            action=form.action.data or "", object_type=form.object_type.data or "",
            object_reference=form.object.data or "", day_from=form.date_from.data, day_to=form.date_to.data)
    except services.BadFilter as problem:
        form.object.errors = [str(problem)]
        return None


@bp.get("/audit")
def index():
    if not services.may_browse(current_user):
        abort(403)
    form = _filter_form()
    query, page, readings = _query(form), None, []
    if query is not None:
        page = services.page_of(query, PER_PAGE, before=form.before.data, after=form.after.data)
        readings = sentences.read(page.items, administers=may_administer(current_user))
    return page_or_fragment("audit/index.html", "audit/_events.html", status=200 if query is not None else 400,
                            form=form, page=page, readings=readings, export_limit=csv_export.LIMIT)


@bp.get("/audit.csv")
def export():
    if not services.may_browse(current_user):
        abort(403)
    form = _filter_form()
    query = _query(form)
    if query is None:
        return page_or_fragment("audit/index.html", "audit/_events.html", status=400, form=form, page=None,
                                readings=[], export_limit=csv_export.LIMIT)
    csv_export.record_export(form.filters())
    db.session.commit()
    response = Response(csv_export.rows(query, may_administer(current_user)),
                        mimetype="text/csv")
    response.headers["Content-Disposition"] = 'attachment; filename="audit-trail.csv"'
    response.charset = "utf-8"
    return response
