from flask import Blueprint, abort, make_response, request
from flask_babel import gettext as _
from flask_login import current_user

from ..forms import options
from ..htmx import page_or_fragment
from .. import csvfiles
from . import charts, scope, services
from . import found  # noqa: F401  (adds its reports to services.REPORTS)
from .forms import ReportFilterForm

bp = Blueprint("reports", __name__)


def _read_filters() -> tuple[ReportFilterForm, services.Filters | None]:
    """The filters in the address; None when one cannot be taken (the form then says why).
    A guardianship officer is offered only their own region; asking for another is refused."""
    form = ReportFilterForm(formdata=request.args)
    regions = services.regions_for(current_user)
    everywhere = [("", _("All regions"))] if scope.region_scope(current_user) is None else []
    form.region.choices = options(everywhere + [(str(r.id), r.local_name) for r in regions])
    form.organization.choices = options(
        [("", _("All organizations"))] + [(str(o.id), o.name) for o in services.organizations()])
    if (own := scope.region_scope(current_user)) is not None and not form.region.data:
        form.region.data = str(own)  # their region, whether or not the address says so
    if not form.validate():
        return form, None
    first, last = services.default_range()
    day_from, day_to = form.date_from.data or first, form.date_to.data or last
    if problem := services.range_problem(day_from, day_to):
        form.date_to.errors = [problem]
        return form, None
    form.date_from.data, form.date_to.data = day_from, day_to
    return form, services.Filters(day_from, day_to, region_id=int(form.region.data) if form.region.data else None,
                                  organization_id=int(form.organization.data) if form.organization.data else None)


def _readers_only() -> None:
    if not scope.may_read_aggregates(current_user):
        abort(403)


@bp.get("/reports")
def index():
    _readers_only()
    form, filters = _read_filters()
    reports = services.all_reports(current_user, filters) if filters else []
    return page_or_fragment("reports/index.html", "reports/_reports.html", status=200 if filters else 400,
                            form=form, reports=reports, layout=charts.layout)


def _download(key: str):
    _readers_only()
    form, filters = _read_filters()
    if filters is None:
        problems = [f"{form[name].label.text}: {error}" for name, errors in form.errors.items() for error in errors]
        response = make_response("\n".join(problems), 400)
        response.mimetype = "text/plain"
        return response
    report = services.one_report(key, current_user, filters)
    response = make_response(csvfiles.document(report.head, report.rows))
    response.mimetype = "text/csv"
    response.headers["Content-Disposition"] = (
        f'attachment; filename="{key}-{filters.day_from.isoformat()}-{filters.day_to.isoformat()}.csv"')
    return response


def csv_endpoint(key: str) -> str:
    return "csv_" + key.replace("-", "_")


for _key in services.REPORTS:
    bp.add_url_rule(f"/reports/{_key}.csv", csv_endpoint(_key), lambda key=_key: _download(key), methods=["GET"])
