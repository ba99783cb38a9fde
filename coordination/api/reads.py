"""The bed board for other systems: shelters and pools a page at a time, in id order, all
of them or only those that changed since the client's last sync.

"Changed" means anything that changes what a pool shows: its counts or its holds (every
UPDATE of a pool sets `changed_at`), its shelter or organization (status, name, activation),
a hold that ran out (it no longer counts, before expire-holds closes it), and time alone
turning its counts from fresh to aging or aging to stale. A sync time is given back a little
before the read began (SYNC_OVERLAP), so that a change whose transaction was still open
while the read ran is sent the next time rather than missed; a client may receive a pool
again unchanged, and keeps the one with the highest version and change time."""
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Select, and_, exists, or_, select
from sqlalchemy.orm import contains_eager, selectinload

from ..accounts.models import Organization
from ..availability import with_live_holds
from ..beds.models import BedPool, Shelter
from ..extensions import db
from ..referrals.models import Referral

SYNC_OVERLAP = timedelta(seconds=60)


@dataclass(frozen=True)
class Listing:
    region_id: int | None
    since: datetime | None   # only what changed after this
    as_of: datetime          # the sync time this listing gives back, the same on each of its pages
    after_id: int | None     # the last id of the page before
    limit: int


@dataclass
class Page:
    items: list
    more: bool


def sync_time(at: datetime) -> datetime:
    return at - SYNC_OVERLAP


def _freshness_turned(since: datetime, at: datetime, fresh_hours: float, stale_hours: float):
    """Counts whose freshness level changed with time alone between `since` and `at`: those
    confirmed just so long before that they crossed FRESH_HOURS or STALE_HOURS meanwhile."""
    confirmed = BedPool.last_confirmed_at
    return or_(*(and_(confirmed > since - timedelta(hours=hours), confirmed <= at - timedelta(hours=hours))
                 for hours in (fresh_hours, stale_hours)))


def _hold_ran_out(since: datetime, at: datetime):
    return exists().where(Referral.pool_id == BedPool.id, Referral.holds_bed.is_(True),
                          Referral.hold_until > since, Referral.hold_until <= at)


def _paged(query: Select, column, listing: Listing) -> Page:
    if listing.after_id is not None:
        query = query.where(column > listing.after_id)
    rows = list(db.session.scalars(query.order_by(column).limit(listing.limit + 1)).unique())
    return Page(rows[:listing.limit], len(rows) > listing.limit)


def pools(listing: Listing, at: datetime, fresh_hours: float, stale_hours: float) -> Page:
    """A page of pools with their shelters and organizations, availability counted at `at`."""
    query = with_live_holds(
        select(BedPool).join(BedPool.shelter).join(Shelter.organization)
        .options(contains_eager(BedPool.shelter).contains_eager(Shelter.organization)), at)
    if listing.region_id is not None:
        query = query.where(Shelter.region_id == listing.region_id)
    if listing.since is not None:
        since = listing.since
        query = query.where(or_(BedPool.changed_at > since, Shelter.changed_at > since,
                                Organization.changed_at > since, _hold_ran_out(since, at),
                                _freshness_turned(since, at, fresh_hours, stale_hours)))
    return _paged(query, BedPool.id, listing)


def shelters(listing: Listing) -> Page:
    """A page of shelters with their organization, region and pools' ids."""
    query = (select(Shelter).join(Shelter.organization)
             .options(contains_eager(Shelter.organization), selectinload(Shelter.region), selectinload(Shelter.pools)))
    if listing.region_id is not None:
        query = query.where(Shelter.region_id == listing.region_id)
    if listing.since is not None:
        query = query.where(or_(Shelter.changed_at > listing.since, Organization.changed_at > listing.since))
    return _paged(query, Shelter.id, listing)
