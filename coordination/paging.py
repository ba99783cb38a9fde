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
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timezone

from sqlalchemy import Select, literal, select, tuple_, union_all
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


# Above this many values of `across`, one query over them all (SQLite takes at most 500 parts of a UNION).
# A module global, so that a test can lower it.
MOST_ACROSS = 200


def newest_first(query: Select, time: InstrumentedAttribute, row_id: InstrumentedAttribute, per_page: int,
                 before: str | None = None, after: str | None = None,
                 across: tuple[InstrumentedAttribute, list] | None = None,
                 by_ids: Callable[[list], Select] | None = None) -> Page:
    """The page of `query` (ordered by `time`, `row_id`, newest first) just older than the
    row named by cursor `before`, or just newer than the row named by `after`, or the newest.
    Cursors are checked by the form (parse_cursor) before they come here.

    `across` = (column, values) when the rows are those with one of a few values in a column
    of their own (the pools of someone's shelters): each value's newest rows are read apart,
    through an index on (column, time, id), and the page is taken from them all, so it costs
    a few rows per value and never a sort of everything those values ever held. `by_ids`
    then loads the rows chosen, by their ids alone (a query with the list's conditions again
    may be read through that index, all that the values ever held)."""
    key = tuple_(time, row_id)
    if across is not None:
        column, values = across
        if not values:
            return Page(items=[])

    def beyond(cursor: str, older: bool, inclusive: bool = False):
        at, at_id = parse_cursor(cursor)
        bound = tuple_(literal(at, time.type), literal(at_id, row_id.type))
        if older:
            return key <= bound if inclusive else key < bound
        return key >= bound if inclusive else key > bound

    def limited(wanted: Select) -> Select:  # said outright, so that an index on the column serves
        return wanted if across is None else wanted.where(column.in_(values))

    def first_rows(wanted: Select, newest: bool) -> list:
        order = (time.desc(), row_id.desc()) if newest else (time.asc(), row_id.asc())
        wanted = wanted.order_by(None).order_by(*order)
        if across is None:
            return list(db.session.scalars(wanted.limit(per_page + 1)))
        if len(values) > MOST_ACROSS:
            ids = db.session.scalars(limited(wanted).with_only_columns(row_id).limit(per_page + 1)).all()
        else:
            each = [select(wanted.where(column == value).with_only_columns(time, row_id).limit(per_page + 1)
                           .subquery()) for value in values]
            merged = union_all(*each).subquery()
            merged_time, merged_id = merged.c[time.key], merged.c[row_id.key]
            ids = db.session.scalars(
                select(merged_id).order_by(*((merged_time.desc(), merged_id.desc()) if newest
                                             else (merged_time.asc(), merged_id.asc()))).limit(per_page + 1)).all()
        place = {row_id_value: n for n, row_id_value in enumerate(ids)}
        found = db.session.scalars(by_ids(ids)) if ids else []
        return sorted(found, key=lambda row: place[getattr(row, row_id.key)])

    if after is not None:
        rows = first_rows(query.where(beyond(after, older=False)), newest=False)
        more_newer = len(rows) > per_page
        items = list(reversed(rows[:per_page]))
        more_older = _any(limited(query).where(beyond(after, older=True, inclusive=True)), row_id)
    else:
        rows = first_rows(query if before is None else query.where(beyond(before, older=True)), newest=True)
        more_older = len(rows) > per_page
        items = rows[:per_page]
        more_newer = before is not None and _any(limited(query).where(beyond(before, older=False, inclusive=True)),
                                                 row_id)

    def cursor(row) -> str:
        return cursor_of(getattr(row, time.key), getattr(row, row_id.key))

    return Page(items=items, older=cursor(items[-1]) if items and more_older else None,
                newer=cursor(items[0]) if items and more_newer else None)


def _any(query: Select, row_id: InstrumentedAttribute) -> bool:
    """Whether `query` has a row at all (stops at the first)."""
    return bool(db.session.scalar(select(query.order_by(None).with_only_columns(row_id).limit(1).exists())))
