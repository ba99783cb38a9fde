"""The one clock the app reads. Tests move it; everything else calls now()."""
from datetime import datetime, timezone

_frozen: datetime | None = None


def now() -> datetime:
    return _frozen if _frozen is not None else datetime.now(timezone.utc)


def freeze(at: datetime | None) -> None:
    """Stop the clock at `at` (timezone-aware), or let it run again with None."""
    global _frozen
    _frozen = at
