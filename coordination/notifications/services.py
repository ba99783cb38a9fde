"""In-app notifications: who is told what, and what they have read."""
from datetime import timedelta

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select, update
from sqlalchemy.orm import joinedload

from ..accounts.models import ADMIN, Organization, User
from ..beds.models import BedPool
from ..clock import now
from ..extensions import db
from ..i18n import duration, when
from ..paging import Page, newest_first
from ..words import found_place
from ..referrals.models import Referral
from . import mail
from .models import Notification

# What each key says; %(ref)s is the case reference, never a name.
TEXTS = {
    "referral.submitted": _l("New referral %(ref)s to %(pool)s waits for your answer."),
    "referral.accepted": _l("Referral %(ref)s to %(pool)s was accepted by the shelter; a placement decision is due."),
    "referral.declined": _l("Referral %(ref)s to %(pool)s was declined."),
    "referral.approved": _l("Placement of %(ref)s in %(pool)s was approved; the arrival is expected."),
    "referral.rejected": _l("Placement of %(ref)s in %(pool)s was rejected by guardianship."),
    "referral.placed": _l("%(ref)s arrived at %(pool)s."),
    "referral.discharged": _l("%(ref)s was discharged from %(pool)s."),
    "referral.withdrawn": _l("Referral %(ref)s to %(pool)s was withdrawn."),
    "referral.expired": _l("The hold for %(ref)s in %(pool)s ran out; the referral expired."),
    # Escalations (escalations/services.py): %(waited)s is how long the referral has waited.
    "escalation.actors": _l("Reminder: referral %(ref)s to %(pool)s has waited %(waited)s for your step."),
    "escalation.guardianship": _l("Referral %(ref)s to %(pool)s in your region has waited %(waited)s for the "
                                  "next step; it is escalated to your guardianship and custody body."),
    "escalation.oversight": _l("Referral %(ref)s to %(pool)s has waited %(waited)s without the next step; it is "
                               "escalated to oversight."),
    "escalation.caseworker.actors": _l("Referral %(ref)s to %(pool)s has waited %(waited)s; those who must act on "
                                       "it were reminded."),
    "escalation.caseworker.guardianship": _l("Referral %(ref)s to %(pool)s has waited %(waited)s; it is escalated "
                                             "to the guardianship and custody body of the region."),
    "escalation.caseworker.oversight": _l("Referral %(ref)s to %(pool)s has waited %(waited)s; it is escalated to "
                                          "oversight."),
    "referral.missing": _l("%(ref)s left %(pool)s without notice and is missing. Act now: the child's "
                           "whereabouts are unknown."),
    "referral.transfer_requested": _l("A transfer of %(ref)s out of %(pool)s was requested; the child stays "
                                      "with you until the arrival at the new shelter is recorded."),
    "referral.transfer_cancelled": _l("The transfer of %(ref)s to %(pool)s was withdrawn: the child's stay at the "
                                      "previous shelter ended before the arrival here. The held bed is free again."),
    "referral.transferred_out": _l("%(ref)s arrived at the new shelter; the stay at %(pool)s has ended and "
                                   "the bed is free."),
    "referral.emergency_placed": _l("Emergency: %(ref)s was taken in at %(pool)s before the guardianship decision; "
                                    "the decision is due by %(due)s."),
    "referral.emergency_approved": _l("The emergency placement of %(ref)s in %(pool)s was approved; the child "
                                      "stays."),
    "referral.moving_out": _l("The emergency placement of %(ref)s in %(pool)s was rejected by guardianship: the "
                              "child must move out. Find another place; the shelter records the discharge when "
                              "the child leaves."),
}
# Notices about an account rather than a referral; their params say which address and account.
ACCOUNT_TEXTS = {
    "account.sign_in_paused": _l("Repeated wrong passwords for your account came from the address %(address)s "
                                 "at %(time)s; sign-ins from there are paused. If this was not you, tell an "
                                 "administrator."),
    "account.sign_in_paused.admin": _l("Sign-ins to the account %(account)s from the address %(address)s were "
                                       "paused at %(time)s after repeated wrong passwords."),
}
# Notices about a child rather than a referral; params hold the case reference, never a name.
CHILD_TEXTS = {
    # referrals/found.py: a child found at a police station or detention centre with no referral.
    "found.unplaced": _l("%(ref)s was found %(hours)s h ago (%(place)s) and still has no live referral: "
                         "find the child a bed."),
}


def notify(users, referral, key: str, params: dict | None = None) -> None:
    """Tell each of `users` of this step of the referral (None for a notice about a child,
    CHILD_TEXTS, whose params carry the case reference), in the app, and by e-mail too when
    it needs them to act and they want that kind (notifications/mail.py)."""
    at = now()
    # An API token's account reads no notifications and has no mailbox: the system it serves
    # follows the referral through the API.
    told = [(user, Notification(user_id=user.id, referral_id=referral.id if referral is not None else None, text_key=key, created_at=at,
                                params=params)) for user in users if not user.api_account]
    db.session.add_all(notification for _user, notification in told)
    mail.queue_mail(told, key, at)


def tell_sign_ins_paused(user: User, address: str) -> None:
    """When an address's sign-ins to an account are first paused, the account's owner is told
    (so they can raise the alarm if it was not them), and so is every active administrator
    (who can lift the pause); once per pause, not for every failed attempt."""
    at = now()
    admins = db.session.scalars(select(User).join(User.organization).where(
        User.role == ADMIN, User.active.is_(True), Organization.active.is_(True), User.id != user.id))
    db.session.add(Notification(user_id=user.id, text_key="account.sign_in_paused", created_at=at,
                                params={"address": address}))
    db.session.add_all(Notification(user_id=admin.id, text_key="account.sign_in_paused.admin", created_at=at,
                                    params={"address": address, "user_id": user.id, "email": user.email})
                       for admin in admins)


def text_of(notification: Notification) -> str:
    if notification.text_key in ACCOUNT_TEXTS:
        params = notification.params or {}
        return str(ACCOUNT_TEXTS[notification.text_key]) % {
            "address": params.get("address", ""), "account": params.get("email", ""),
            "time": when(notification.created_at)}
    if notification.text_key in CHILD_TEXTS:
        params = notification.params or {}
        return str(CHILD_TEXTS[notification.text_key]) % {
            "ref": params.get("ref", ""), "hours": params.get("hours", 0), "place": found_place(params.get("place", ""))}
    referral = notification.referral
    template = TEXTS.get(notification.text_key)
    if template is None or referral is None:
        return notification.text_key
    params = notification.params or {}
    return str(template) % {"ref": referral.child.case_reference,
                            "pool": f"{referral.pool.shelter.name} · {referral.pool.label}",
                            "waited": duration(timedelta(minutes=params.get("waited_minutes", 0))),
                            "due": when(referral.decision_due_at) if referral.decision_due_at else ""}


UNREAD_SHOWN = 99  # the badge says "99+" beyond this: a count nobody reads to the last one


def unread_count(user: User) -> int:
    """How many of `user`'s notifications are unread, counted no further than one past
    UNREAD_SHOWN: every page's header asks, and a person away for a month may have thousands."""
    unread = (select(Notification.id).where(Notification.user_id == user.id, Notification.read_at.is_(None))
              .limit(UNREAD_SHOWN + 1).subquery())
    return db.session.scalar(select(func.count()).select_from(unread))


PER_PAGE = 50


def recent(user: User, before: str | None = None, after: str | None = None, per_page: int = PER_PAGE) -> Page:
    """A page of `user`'s notifications, newest first (paging.py: `before` and `after` are
    the pager's cursors), each with what its sentence names (the referral's case reference,
    pool and shelter) loaded with it: one query a page, however many there are."""
    query = (select(Notification).where(Notification.user_id == user.id)
             .options(joinedload(Notification.referral).joinedload(Referral.child),
                      joinedload(Notification.referral).joinedload(Referral.pool).joinedload(BedPool.shelter)))
    return newest_first(query, Notification.created_at, Notification.id, per_page, before=before, after=after)


def mark_all_read(user: User) -> int:
    result = db.session.execute(update(Notification).where(
        Notification.user_id == user.id, Notification.read_at.is_(None)).values(read_at=now()))
    return result.rowcount


def mark_read_for_referral(user: User, referral_id: int) -> None:
    """Opening a referral reads what was said about it."""
    db.session.execute(update(Notification).where(
        Notification.user_id == user.id, Notification.referral_id == referral_id,
        Notification.read_at.is_(None)).values(read_at=now()))
