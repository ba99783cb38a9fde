"""Who reads aggregates, over which regions, and how small counts are shown.

Admins and oversight (the ombudsman's office) read every region; a guardianship officer reads
their own region. Nobody reads a child's name here. To oversight, a count of children under
SMALL_COUNT in one cell is shown as "<5", so that a child cannot be singled out; and a figure
that would give such a count away by subtraction (the free beds beside the capacity, the total
beside its parts) is left out as NOT_SHOWN.
"""
from ..accounts.models import ADMIN, GUARDIANSHIP, OVERSIGHT

SMALL_COUNT = 5


def may_read_aggregates(user) -> bool:
    """Admins, oversight and guardianship officers read the overview and the reports."""
    return user.is_authenticated and user.role in (ADMIN, OVERSIGHT, GUARDIANSHIP)


def region_scope(user) -> int | None:
    """The one region a reader's aggregates are limited to, or None for every region."""
    return user.region_id if user.role == GUARDIANSHIP else None


def hides_small_counts(user) -> bool:
    """Oversight sees counts of children under SMALL_COUNT as "<5"."""
    return user.role == OVERSIGHT


NOT_SHOWN = "—"  # a figure left out because it would give a hidden count away


def is_hidden(count: int, user) -> bool:
    """Whether this reader sees `count` children as "<5"."""
    return hides_small_counts(user) and 0 < count < SMALL_COUNT


def shown_count(count: int, user) -> str:
    """A count of children as this reader may see it: "<5" for oversight when it is 1 to 4.
    Zero stays zero: that nobody waits is no child's secret."""
    if is_hidden(count, user):
        return f"<{SMALL_COUNT}"
    return str(count)
