"""Case notes on a child: what the people caring for the child tell each other, kept with
the case. Only those who may see the child's name read or write them (reach.py); each note
is only ever inserted (a correction is a new note), and each is in the audit trail as who
wrote a note on which child, never what it says."""
from flask_babel import format_number, gettext as _
from sqlalchemy import select
from sqlalchemy.orm import joinedload

from ..accounts.models import User
from ..audit import services as audit
from ..clock import now
from ..errors import InvalidInput, NotAllowed
from ..extensions import db
from ..paging import Page, newest_first
from .models import NOTE_MAX_LENGTH, CaseNote, Child
from .reach import named_children

NOTES_PER_PAGE = 20


def may_write_on(user: User, child: Child) -> bool:
    """Whoever may see the child's name may read and write its notes."""
    return db.session.scalar(named_children(user).where(Child.id == child.id).with_only_columns(Child.id)) is not None


def note_problem(body: str) -> str | None:
    """Why a note cannot be kept as typed, or None: it says something, within NOTE_MAX_LENGTH characters."""
    body = (body or "").strip()
    if not body:
        return _("Write the note first: an empty note is not kept.")
    if len(body) > NOTE_MAX_LENGTH:
        return _("Keep a note within %(max)s characters (this one has %(length)s); split it into two notes.",
                 max=format_number(NOTE_MAX_LENGTH), length=format_number(len(body)))
    return None


def write_note(user: User, child: Child, body: str) -> CaseNote:
    """Add a note to the child's case, by someone who may see the child's name, signed with
    their name and organization and the time. Refused, changing nothing, when it is empty or
    too long, or the child's record was anonymized. The audit event names the writer and the
    child's case reference, never the note's text."""
    if not may_write_on(user, child):
        raise NotAllowed(_("Only those who may see this child's name write notes on the case."))
    if child.anonymized_at is not None:
        raise InvalidInput(_("This record was anonymized for data protection; no note can be added to it."),
                           field="body")
    problem = note_problem(body)
    if problem:
        raise InvalidInput(problem, field="body")
    note = CaseNote(child_id=child.id, author_id=user.id, organization_id=user.organization_id,
                    created_at=now(), body=body.strip())
    db.session.add(note)
    db.session.flush()
    audit.record("child.note", "child", child.id, {"case_reference": child.case_reference, "note": note.id})
    db.session.flush()
    return note


def notes_of(child: Child, *, per_page: int = NOTES_PER_PAGE, before: str | None = None,
             after: str | None = None) -> Page:
    """A page of the child's notes, newest first, with author and organization (see paging.py).
    The caller has made sure its reader may see the child's name."""
    query = (select(CaseNote).where(CaseNote.child_id == child.id)
             .options(joinedload(CaseNote.author), joinedload(CaseNote.organization)))
    return newest_first(query, CaseNote.created_at, CaseNote.id, per_page, before=before, after=after)


def all_notes_of(child: Child) -> list[CaseNote]:
    """Every note of the child, newest first: the printable record holds them all."""
    return list(db.session.scalars(
        select(CaseNote).where(CaseNote.child_id == child.id)
        .options(joinedload(CaseNote.author), joinedload(CaseNote.organization))
        .order_by(CaseNote.created_at.desc(), CaseNote.id.desc())))
