"""Transfers: a placed child moved to another shelter as one referral.

A transfer is a referral like any other (submitted, accepted, approved, placed) whose
`transfer_of` is the placement it replaces. It holds a bed in the new pool while the child
still occupies the old one; its arrival makes the new hold occupied and ends the old
placement as discharged ("transferred"), its bed freed, in one transaction
(services.move). Declined, rejected, withdrawn or expired, it leaves the child placed where
they are. The database keeps a child to one placement and at most one bed held beside it
(the partial unique indexes of referrals/models.py)."""
from flask_babel import gettext as _
from sqlalchemy import select

from ..audit import services as audit
from ..beds.models import BedPool
from ..errors import InvalidFields, InvalidMove, NotAllowed
from ..extensions import db
from ..notifications.services import notify
from . import services
from .models import HOLDING, TRANSFERABLE, Referral


def live_transfer(placement: Referral) -> Referral | None:
    """The transfer in progress out of this placement (holding a bed), if there is one."""
    return db.session.scalar(select(Referral).where(
        Referral.transfer_of_id == placement.id, Referral.status.in_(HOLDING)))


def transfers_of(placement: Referral) -> list[Referral]:
    """Every transfer ever started out of this placement, oldest first."""
    return list(db.session.scalars(select(Referral).where(Referral.transfer_of_id == placement.id)
                                   .order_by(Referral.id)))


def transfer_refusal(user, placement: Referral) -> Exception | None:
    """Why `user` may not start a transfer out of this placement now, or None if they may:
    a caseworker of the referring organization, while the child is placed (TRANSFERABLE)
    and no other transfer of theirs is under way."""
    if not services.plays(user, services.REFERRING_CASEWORKER, placement):
        return NotAllowed(_("Only a caseworker of the referring organization can transfer the child."))
    if placement.status not in TRANSFERABLE:
        return InvalidMove(_("Only a child who is placed can be transferred to another shelter."))
    if live_transfer(placement) is not None:
        return InvalidMove(_("A transfer of this child is already under way; withdraw it before starting another."))
    return None


def may_transfer(user, placement: Referral) -> bool:
    return transfer_refusal(user, placement) is None


def transfer_suggestions(placement: Referral, limit: int = 5) -> list:
    """Pools that fit the child, as for a new referral, but for the pool the child is in."""
    return services.suggest_pools(placement.child, limit=limit, exclude_pool_id=placement.pool_id)


def start_transfer(user, placement: Referral, pool: BedPool, urgency: str, note: str) -> Referral:
    """Start a transfer of a placed child to `pool`: a new referral, submitted at once so that
    it holds a bed there (refused, with nothing kept, if none is free), and word to the
    shelter the child is leaving. The child stays placed where they are until the arrival."""
    refusal = transfer_refusal(user, placement)
    if refusal is not None:
        raise refusal
    if pool.id == placement.pool_id:
        raise InvalidFields({"pool": _("Choose a pool other than the one the child is in.")})
    transfer = services.create_referral(user, placement.child, pool, urgency, note)
    transfer.transfer_of = placement
    db.session.flush()
    audit.record("referral.transfer", "referral", transfer.id,
                 {"from_referral": placement.id, "from_pool": placement.pool_id, "to_pool": pool.id})
    services.move(transfer, "submit", user)
    notify(set(services.people_playing(services.POOL_STAFF, placement)) - {user}, placement,
           "referral.transfer_requested")
    db.session.flush()
    return transfer
