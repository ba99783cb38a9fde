"""GET /search?q=…: the search for a child in every page's header, for those who may see
children's names (never oversight or admin). Results are only children the searcher may see
by name; a whole case reference goes straight to the child. The access log drops query
strings, so what was searched for stays out of it."""
from flask import Blueprint, abort, make_response, redirect, request, url_for
from flask_login import current_user

from ..htmx import page_or_fragment, wants_fragment
from ..transactions import commit_keeping_loaded
from . import search as finding, services
from .forms import ChildSearchForm
from .reach import may_see_any_name

bp = Blueprint("search", __name__)


def _address_of(child, referral) -> str | None:
    """Where a found child is opened: the child's page for caseworkers, the referral that
    shows them the child for shelter staff and guardianship."""
    if services.works_with_children(current_user):
        return url_for("referrals.child", child_id=child.id)
    return url_for("referrals.referral", referral_id=referral.id) if referral is not None else None


def _go(address: str):
    if wants_fragment():  # htmx follows a redirect and would swap the child's page into the results
        response = make_response("", 200)
        response.headers["HX-Redirect"] = address
        return response
    return redirect(address, 303)


@bp.get("/search")
def search():
    if not may_see_any_name(current_user):
        abort(403)
    form = ChildSearchForm(formdata=request.args)
    status, page, addresses = 200, None, {}
    if not form.validate():
        status = 400
    elif form.q.data:
        if not (form.before.data or form.after.data):
            child = finding.child_by_reference(current_user, form.q.data)
            if child is not None:
                address = _address_of(child, finding.referral_to_open(current_user, child))
                if address is not None:  # the page it opens records its own view of the name
                    return _go(address)
        page = finding.find_children(current_user, form.q.data, before=form.before.data or None,
                                     after=form.after.data or None)
        referrals = finding.referrals_to_open(current_user, page.items)
        addresses = {child.id: _address_of(child, referrals.get(child.id)) for child in page.items}
        services.record_name_views(page.items, "search results")
        commit_keeping_loaded()
    return page_or_fragment("referrals/search.html", "referrals/_search_results.html", status=status,
                            form=form, page=page, addresses=addresses, search_query=form.q.data or "")
