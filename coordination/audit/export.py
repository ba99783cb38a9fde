"""The audit trail as a CSV download: the filtered view, newest first, for a spreadsheet.

UTF-8 with a byte order mark, so spreadsheet programs show Azerbaijani letters rightly; a
cell that begins like a formula (= + - @, a tab or a carriage return) starts with an
apostrophe, so that opening the file never runs what someone typed. The rows are read and
written a batch at a time, so an export of a long trail never sits in memory whole. Each
export is itself an event in the trail, with the filters it used.
"""
import csv
import io
from datetime import timezone

from flask_babel import gettext as _

from ..i18n import local
from . import sentences, services

LIMIT = 100_000  # events per download; narrower filters give the rest
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def neutralised(value) -> str:
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def record_export(filters: dict) -> None:
    """The download goes in the trail: who took which part of it."""
    services.record("audit.export", "audit_head", 1, {"filters": filters, "limit": LIMIT})


def rows(query, administers: bool):
    """The CSV, line by line: a header, then one line per event."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)

    def line(values) -> str:
        writer.writerow([neutralised(v) for v in values])
        text = buffer.getvalue()
        buffer.seek(0)
        buffer.truncate()
        return text

    yield "\ufeff" + line([_("Event"), _("Time (UTC)"), _("Time (local)"), _("Who"), _("Organization"),
                           _("Action"), _("What happened"), _("Object"), _("Object reference"), _("Address")])
    for batch in services.batches(query, limit=LIMIT):
        readings = sentences.read(batch, administers=administers, links=False)
        for reading in readings:
            e = reading.event
            yield line([e.id, e.created_at.astimezone(timezone.utc).isoformat(), local(e.created_at).isoformat(),
                        reading.actor_name, reading.actor_organization, sentences.action_words(e.action), reading.text,
                        str(sentences.OBJECTS.get(e.object_type, e.object_type)), reading.object_reference,
                        e.client_address])

