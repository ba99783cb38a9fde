"""CSV that spreadsheet programs open safely and read rightly, for every download (the
reports, the audit trail): UTF-8 with a byte order mark, so that Excel shows Azerbaijani and
Russian letters, and no cell that a spreadsheet would take for a formula: one that begins
with = + - @, a tab or a carriage return starts with an apostrophe, so that opening the file
never runs what someone typed."""
import csv
import io
from collections.abc import Iterable

BOM = "\ufeff"
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def neutralised(value) -> str:
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(FORMULA_START) else text


def lines(rows: Iterable[Iterable]) -> str:
    """Rows as CSV lines (CRLF), every cell neutralised."""
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\r\n").writerows([neutralised(v) for v in row] for row in rows)
    return buffer.getvalue()


def document(head: list[str], rows: Iterable[Iterable]) -> str:
    """A whole file: the byte order mark, the header row, the rows."""
    return BOM + lines([head]) + lines(rows)
