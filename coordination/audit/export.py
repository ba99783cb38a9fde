"""The audit trail as a CSV download: the filtered view, newest first, for a spreadsheet
(as every download is written: coordination/csvfiles.py). The rows are read and written a
batch at a time, so an export of a long trail never sits in memory whole. Each export is
itself an event in the trail, with the filters it used.
"""
from datetime import timezone

from flask import current_app
from flask_babel import force_locale, gettext as _

from .. import csvfiles
from ..i18n import current_language, local
from . import sentences, services

LIMIT = 100_000  # events per download; narrower filters give the rest


def record_export(filters: dict) -> None:
    """The download goes in the trail: who took which part of it."""
    services.record("audit.export", "audit_head", 1, {"filters": filters, "limit": LIMIT})


BATCH = 1000


def rows(query, administers: bool):
    """The CSV, a header and then one batch of events at a time. A download goes on after
    its request has ended, so each batch is read in an application context (and database
    session) of its own, in the reader's language; none is held across a yield."""
    app, language = current_app._get_current_object(), current_language()

    def made(step):
        with app.app_context(), force_locale(language):
            return step()

    yield made(lambda: csvfiles.BOM + csvfiles.lines([[
        _("Event"), _("Time (UTC)"), _("Time (local)"), _("Who"), _("Organization"), _("Action"),
        _("What happened"), _("Object"), _("Object reference"), _("Address")]]))
    before, given = None, 0
    while given < LIMIT:
        size = min(BATCH, LIMIT - given)
        chunk, count, before = made(lambda: _batch(query, before, size, administers))
        if count:
            yield chunk
        given += count
        if count < size:
            return


def _batch(query, before, size: int, administers: bool) -> tuple[str, int, int | None]:
    events = services.batch_before(query, before, size)
    lines = []
    for reading in sentences.read(events, administers=administers, links=False):
        e = reading.event
        lines.append([e.id, e.created_at.astimezone(timezone.utc).isoformat(), local(e.created_at).isoformat(),
                      reading.actor_name, reading.actor_organization, sentences.action_words(e.action),
                      reading.text, str(sentences.OBJECTS.get(e.object_type, e.object_type)),
                      reading.object_reference, e.client_address])
    return csvfiles.lines(lines), len(events), events[-1].id if events else before
