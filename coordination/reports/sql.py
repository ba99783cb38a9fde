"""The few SQL pieces the reports need that SQLite and PostgreSQL spell differently, each
compiled per database, so that every report is one portable query."""
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import Float, case, literal
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.expression import ColumnElement, FunctionElement


class seconds_between(FunctionElement):
    """The seconds from one timestamp to a later one, as a number."""

    type = Float()
    inherit_cache = True
    name = "seconds_between"


@compiles(seconds_between, "sqlite")
def _seconds_sqlite(element, compiler, **kw):
    start, end = list(element.clauses)
    return f"((julianday({compiler.process(end, **kw)}) - julianday({compiler.process(start, **kw)})) * 86400.0)"


@compiles(seconds_between)
def _seconds_default(element, compiler, **kw):
    start, end = list(element.clauses)
    return f"EXTRACT(EPOCH FROM ({compiler.process(end, **kw)} - {compiler.process(start, **kw)}))"


def bucket(column, ends: Sequence[datetime]) -> ColumnElement:
    """Which period a time falls in: 0 before ends[0], 1 before ends[1], …; None after the
    last. The periods' ends are computed in Python in the reader's zone (local months), so
    the grouping is the same on every database and needs no zone support in SQL."""
    return case(*[(column < end, literal(i)) for i, end in enumerate(ends)], else_=None)
