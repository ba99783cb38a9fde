"""Pages of lists that grow without end (referrals, children): by keyset, never by offset or count.

A list is ordered newest first by a time and the id (the id breaks ties). A page is the
first PER_PAGE rows older than the last row of the page before (`before`), or the rows
just newer than the first row of the page after (`after`); one row more than a page is
asked for to know whether there is another. So a page costs the same on the first page as
deep in the list, at a thousand rows or at millions, given an index on the list's filter,
then the time and the id. The cursor in the address names a row by its time and id
("20261202T120000123456.4711"), so a moved or new row never shifts the page being read.
"""
import re
from dataclasses import dataclass
from datetime import datetime, timezone

from sqlalchemy import Select, literal, select, tuple_
from sqlalchemy.orm import InstrumentedAttribute

from .extensions import db

CURSOR = re.compile(r"(\d{8}T\d{12})\.(\d{1,10})")


@dataclass
class Page:
    items: list
    older: str | None = None  # the cursor of the next page (older rows), if there is one
    newer: str | None = None  # the cursor of the previous page (newer rows), if there is one


def cursor_of(at: datetime, row_id: int) -> str:
    return f"{at.astimezone(timezone.utc):%Y%m%dT%H%M%S%f}.{row_id}"


def parse_cursor(value: str) -> tuple[datetime, int]:
    """The time and id a cursor names; ValueError if it names none (a hand-typed or cut-off address)."""
    match = CURSOR.fullmatch(value or "")
    if not match or int(match.group(2)) >= 2**31:
        raise ValueError(value)
    return datetime.strptime(match.group(1), "%Y%m%dT%H%M%S%f").replace(tzinfo=timezone.utc), int(match.group(2))


def newest_first(query: Select, time: InstrumentedAttribute, row_id: InstrumentedAttribute, per_page: int,
                 before: str | None = None, after: str | None = None) -> Page:
    """The page of `query` (ordered by `time`, `row_id`, newest first) just older than the
    row named by cursor `before`, or just newer than the row named by `after`, or the newest.
    Cursors are checked by the form (parse_cursor) before they come here."""
    key = tuple_(time, row_id)

    def beyond(cursor: str, older: bool, inclusive: bool = False):
        at, at_id = parse_cursor(cursor)
        bound = tuple_(literal(at, time.type), literal(at_id, row_id.type))
        if older:
            return key <= bound if inclusive else key < bound
        return key >= bound if inclusive else key > bound

    if after is not None:
        rows = list(db.session.scalars(query.where(beyond(after, older=False)).order_by(None)
                                       .order_by(time.asc(), row_id.asc()).limit(per_page + 1)))
        more_newer = len(rows) > per_page
        items = list(reversed(rows[:per_page]))
        more_older = _any(query.where(beyond(after, older=True, inclusive=True)), row_id)
    else:
        page_query = query if before is None else query.where(beyond(before, older=True))
        rows = list(db.session.scalars(page_query.limit(per_page + 1)))
        more_older = len(rows) > per_page
        items = rows[:per_page]
        more_newer = before is not None and _any(query.where(beyond(before, older=False, inclusive=True)), row_id)

    def cursor(row) -> str:
        return cursor_of(getattr(row, time.key), getattr(row, row_id.key))

    return Page(items=items, older=cursor(items[-1]) if items and more_older else None,
                newer=cursor(items[0]) if items and more_newer else None)


def _any(query: Select, row_id: InstrumentedAttribute) -> bool:
    """Whether `query` has a row at all (stops at the first)."""
    return bool(db.session.scalar(select(query.order_by(None).with_only_columns(row_id).limit(1).exists())))
