"""A child's case notes: read (newest first, a page at a time) and written by whoever may
see the child's name, from the child's page, a referral's page or the notes' own page.
Anyone else gets 404, as for a child that does not exist."""
import re

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from ..errors import DomainError
from ..extensions import db
from ..forms import report_refusal
from ..htmx import page_or_fragment, wants_fragment
from ..transactions import commit_keeping_loaded
from . import notes, services
from .forms import NoteForm, NotesPageForm
from .reach import named_child_for

bp = Blueprint("notes", __name__)

ID = "int(max=2147483647)"
# Where a note's form may send the writer back to: the page it was written on.
BACK = re.compile(r"/(referrals|children)/[0-9]{1,10}")
# How many of the newest notes the child's and the referral's pages show; the rest are on the notes' page.
NEWEST_SHOWN = 5


def newest_notes(child):
    """The newest notes, as a child's or a referral's page shows them."""
    return notes.notes_of(child, per_page=NEWEST_SHOWN)


@bp.route(f"/children/<{ID}:child_id>/notes", methods=["GET", "POST"])
def child_notes(child_id: int):
    """The child's notes, newest first, a page at a time; a POST adds one (`_write_note`)."""
    child = named_child_for(current_user, child_id) or abort(404)
    if request.method == "POST":
        return _write_note(child)
    form = NotesPageForm(formdata=request.args)
    status, page = 200, None
    if form.validate():
        page = notes.notes_of(child, before=form.before.data or None, after=form.after.data or None)
    else:
        status = 400
    services.record_name_view(child, "notes")
    commit_keeping_loaded()
    return page_or_fragment("referrals/notes.html", "referrals/_notes.html", status=status, child=child,
                            case_notes=page, note_form=NoteForm(formdata=None), notes_back="", paging_form=form,
                            whole_list=True)


def _write_note(child):
    """Add a note; back to the page it was written on (303), or, for htmx, the notes again
    with the form emptied. A refusal shows the note as typed, with the reason, and keeps nothing."""
    child_id = child.id
    form = NoteForm()
    back = form.back.data if BACK.fullmatch(form.back.data or "") else ""
    status = 422
    if form.validate():
        try:
            notes.write_note(current_user, child, form.body.data or "")
        except DomainError as refusal:
            db.session.rollback()
            report_refusal(form, refusal)
            status = refusal.status
        else:
            db.session.commit()
            if not wants_fragment():
                flash(_("Note added to %(ref)s.", ref=child.case_reference), "success")
                return redirect(back or url_for(".child_notes", child_id=child.id), 303)
            form, status = NoteForm(formdata=None), 200
    child = named_child_for(current_user, child_id) or abort(404)
    # Written on the notes' own page (no way back given), the answer is that page's first page.
    case_notes = newest_notes(child) if back else notes.notes_of(child)
    context = dict(child=child, case_notes=case_notes, note_form=form, notes_back=back, paging_form=None,
                   whole_list=not back)
    if wants_fragment():
        return page_or_fragment("referrals/notes.html", "referrals/_notes.html", status=status, **context)
    services.record_name_view(child, "notes")
    db.session.commit()
    return render_template("referrals/notes.html", **context), status
