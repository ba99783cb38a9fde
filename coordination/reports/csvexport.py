"""Reports as CSV that spreadsheet programs open safely and read rightly: UTF-8 with a byte
order mark (so Excel shows Azerbaijani and Russian letters), and no cell that a spreadsheet
would take for a formula (a leading = + - @, tab or carriage return gets an apostrophe)."""
import csv
import io
from collections.abc import Iterable

BOM = "\ufeff"
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def neutralised(value) -> str:
    text = str(value)
    return "'" + text if text.startswith(FORMULA_START) else text


def to_csv(head: list[str], rows: Iterable[list]) -> str:
    out = io.StringIO()
    out.write(BOM)
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow([neutralised(h) for h in head])
    for row in rows:
        writer.writerow([neutralised(v) for v in row])
    return out.getvalue()
