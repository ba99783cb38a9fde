from flask import Blueprint, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask import flash
from flask_login import current_user

from ..extensions import db
from ..htmx import page_or_fragment
from . import services
from .forms import MarkReadForm, NotificationPageForm

bp = Blueprint("notifications", __name__)


@bp.get("/notifications")
def index():
    """The newest notifications, a page at a time (a month away can leave thousands)."""
    paging = NotificationPageForm(formdata=request.args)
    if not paging.validate():
        return render_template("notifications/index.html", paging=paging, page=None, text_of=services.text_of,
                               form=MarkReadForm()), 400
    page = services.recent(current_user, before=paging.before.data or None, after=paging.after.data or None)
    return render_template("notifications/index.html", paging=paging, page=page, text_of=services.text_of,
                           form=MarkReadForm())


@bp.get("/notifications/count")
def count():
    """The header's unread badge, asked for again every half minute."""
    return page_or_fragment("notifications/_badge.html", "notifications/_badge.html",
                            unread=services.unread_count(current_user))


@bp.post("/notifications/read")
def mark_read():
    if MarkReadForm().validate_on_submit():
        services.mark_all_read(current_user)
        db.session.commit()
        flash(_("All notifications marked as read."), "success")
    return redirect(url_for(".index"), 303)
