"""Finding a child from the header of every page: by case reference or by name, among the
children whose names the searcher may see (reach.py), and nowhere else. A case reference
typed whole goes straight to the child."""
import re

from sqlalchemy import func
from sqlalchemy.orm import joinedload

from ..accounts.models import CASEWORKER, User
from ..extensions import db
from ..paging import Page, newest_first
from .models import Child, Referral
from .reach import named_children
from .services import can_see_child_name, matching_children, visible_referrals

# UC-2026-00042, in any case, with spaces around it.
CASE_REFERENCE = re.compile(r"UC-\d{4}-\d{1,10}", re.IGNORECASE)
RESULTS_PER_PAGE = 25


def find_children(user: User, search: str, *, per_page: int = RESULTS_PER_PAGE, before: str | None = None,
                  after: str | None = None) -> Page:
    """A page of the children `user` may see by name whose case reference or name matches
    `search` (services.matching_children: names folded across scripts and spellings), newest
    registered first."""
    query = (named_children(user).where(matching_children(search))
             .options(joinedload(Child.region)).order_by(Child.created_at.desc(), Child.id.desc()))
    return newest_first(query, Child.created_at, Child.id, per_page, before=before, after=after)


def child_by_reference(user: User, search: str) -> Child | None:
    """The child whose whole case reference `search` is, if `user` may see the child's name."""
    search = search.strip()
    if not CASE_REFERENCE.fullmatch(search):
        return None
    return db.session.scalar(named_children(user).where(func.upper(Child.case_reference) == search.upper()))


def referral_to_open(user: User, child: Child) -> Referral | None:
    """For those who reach a child through a referral (shelter staff, guardianship): the
    newest referral of the child that shows them the child's name; None for caseworkers,
    who open the child's own page."""
    if user.role == CASEWORKER:
        return None
    referrals = db.session.scalars(visible_referrals(user).where(Referral.child_id == child.id)
                                   .order_by(Referral.created_at.desc(), Referral.id.desc()))
    return next((r for r in referrals if can_see_child_name(user, r)), None)


def referrals_to_open(user: User, children: list[Child]) -> dict[int, Referral]:
    """`referral_to_open` for each of a page's children, in one query."""
    if user.role == CASEWORKER or not children:
        return {}
    found: dict[int, Referral] = {}
    referrals = db.session.scalars(
        visible_referrals(user).where(Referral.child_id.in_([c.id for c in children]))
        .options(joinedload(Referral.child))
        .order_by(Referral.created_at.desc(), Referral.id.desc()))
    for referral in referrals:
        if referral.child_id not in found and can_see_child_name(user, referral):
            found[referral.child_id] = referral
    return found
