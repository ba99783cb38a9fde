"""Which notifications also go by e-mail, and to whom: the ones that need the reader to act,
to the people who act on them, unless they turned that kind off on their account page.

An e-mail names no child: its subject and body say what waits, by case reference, and link
to the page, where the app decides who may see what. It is queued here, in the transaction
of the step that notifies (so a step rolled back sends nothing), and sent after the commit
by notifications/sending.py."""
from dataclasses import dataclass
from datetime import datetime

from flask_babel import gettext as _, lazy_gettext as _l
from sqlalchemy import event
from sqlalchemy import inspect as orm_state
from sqlalchemy.orm import Session

from ..accounts.models import CASEWORKER, GUARDIANSHIP, OVERSIGHT, SHELTER_STAFF, User
from ..audit import services as audit
from ..errors import InvalidInput
from ..extensions import db
from .models import Notification, OutgoingMail


@dataclass(frozen=True)
class MailKind:
    key: str        # the notification's text key (notifications/services.py TEXTS)
    roles: tuple    # who, being told this, must act on it; the others are told in the app only
    label: object   # the account page's words for the choice
    subject: object  # the e-mail's subject and first line; %(ref)s is the case reference


# The notifications that need someone to act. One entry per key; a new key that needs action
# (an escalation, a missing child, an emergency decision due) gets its entry here.
MAIL_KINDS: tuple[MailKind, ...] = (
    MailKind("referral.submitted", (SHELTER_STAFF,),
             _l("A new referral to my organization's shelters waits for an answer"),
             _l("Referral %(ref)s waits for your answer")),
    MailKind("referral.accepted", (GUARDIANSHIP,),
             _l("A shelter accepted a child: a placement decision is due"),
             _l("A placement decision is due for %(ref)s")),
    MailKind("referral.approved", (SHELTER_STAFF, CASEWORKER),
             _l("A placement was approved: the child is expected at the shelter"),
             _l("Placement of %(ref)s was approved: the child is expected at the shelter")),
    MailKind("referral.declined", (CASEWORKER,),
             _l("A shelter declined a referral: the child needs another place"),
             _l("Referral %(ref)s was declined: the child needs another place")),
    MailKind("referral.rejected", (CASEWORKER,),
             _l("The guardianship body rejected a placement: the child needs another place"),
             _l("Placement of %(ref)s was rejected: the child needs another place")),
    MailKind("referral.expired", (CASEWORKER,),
             _l("A bed hold ran out: the child needs another place"),
             _l("The hold for %(ref)s ran out: the child needs another place")),
    MailKind("referral.emergency_placed", (GUARDIANSHIP,),
             _l("A shelter took a child in an emergency: a placement decision is due"),
             _l("Emergency placement of %(ref)s: a decision is due")),
    MailKind("referral.moving_out", (CASEWORKER,),
             _l("An emergency placement was rejected: the child must move to another place"),
             _l("Emergency placement of %(ref)s was rejected: find the child another place")),
    MailKind("referral.missing", (CASEWORKER, GUARDIANSHIP),
             _l("A child left a shelter without notice and is missing"),
             _l("%(ref)s left the shelter without notice and is missing")),
    # Escalations (escalations/services.py): a reminder to those who must act, then the
    # region's guardianship body, then oversight. The caseworker's copies only inform.
    MailKind("escalation.actors", (SHELTER_STAFF, GUARDIANSHIP, CASEWORKER),
             _l("A referral has waited too long for my step (a reminder)"),
             _l("Reminder: referral %(ref)s has waited too long for your step")),
    MailKind("escalation.guardianship", (GUARDIANSHIP,),
             _l("A referral in my region has waited too long for the next step (escalated)"),
             _l("Referral %(ref)s is escalated to your guardianship and custody body")),
    MailKind("escalation.oversight", (OVERSIGHT,),
             _l("A referral has waited too long without the next step (escalated to oversight)"),
             _l("Referral %(ref)s is escalated to oversight")),
    # referrals/found.py: a child found at a police station or detention centre has no referral.
    MailKind("found.unplaced", (CASEWORKER, OVERSIGHT),
             _l("A child found at a police station or detention centre still has no referral"),
             _l("%(ref)s, found at a police station or detention centre, still has no referral")),
)
KINDS = {kind.key: kind for kind in MAIL_KINDS}
MAIL_KEYS = frozenset(KINDS)

_QUEUED = "mail_queued"        # session.info: rows added in the open transaction
_COMMITTED = "mail_committed"  # session.info: ids of rows whose transaction has committed


def kinds_for(user: User) -> list[MailKind]:
    """The kinds of e-mail this person could get: those of the steps their role acts on."""
    return [kind for kind in MAIL_KINDS if user.role in kind.roles]


def wants_mail(user: User, key: str) -> bool:
    """Whether a notification `key` to `user` goes by e-mail too: it needs them to act, and
    they have not turned that kind off."""
    kind = KINDS.get(key)
    return kind is not None and user.role in kind.roles and key not in (user.mail_turned_off or [])


def choose_mail_kinds(user: User, wanted) -> None:
    """The kinds of e-mail this person receives from now on: those ticked, of the ones their
    role can get; the others they can get are turned off. A kind not offered to them is
    refused, and nothing changes."""
    offered = {kind.key for kind in kinds_for(user)}
    wanted = set(wanted or [])
    if wanted - offered:
        raise InvalidInput(_("Choose from the kinds of e-mail offered."), field="kinds")
    before = sorted(user.mail_turned_off or [])
    # Kinds the role cannot get stay as they were (a role changed back keeps its old choice).
    after = sorted((set(before) - offered) | (offered - wanted))
    if after != before:
        audit.record("user.mail_choice", "user", user.id, {"turned_off": after, "was_turned_off": before})
        user.mail_turned_off = after
    db.session.flush()


def queue_mail(told: list[tuple[User, Notification]], key: str, at: datetime) -> None:
    """For each notification just added, an e-mail in the same transaction when its reader
    wants one (`wants_mail`)."""
    for user, notification in told:
        if wants_mail(user, key):
            row = OutgoingMail(user_id=user.id, notification=notification, created_at=at, next_try_at=at)
            db.session.add(row)
            db.session.info.setdefault(_QUEUED, []).append(row)


def committed_mail(session: Session | None = None) -> list[int]:
    """The ids of the e-mails queued by transactions of this session that have committed
    since last asked; each id is given once."""
    session = session or db.session()
    return session.info.pop(_COMMITTED, [])


@event.listens_for(Session, "after_commit")
def _mail_committed(session: Session) -> None:
    queued = session.info.pop(_QUEUED, [])
    # Rows of a savepoint rolled back are no longer persistent, and were never written.
    ids = [state.key[1][0] for state in map(orm_state, queued) if state.persistent and state.key]
    if ids:
        session.info.setdefault(_COMMITTED, []).extend(ids)


@event.listens_for(Session, "after_rollback")
def _mail_rolled_back(session: Session) -> None:
    session.info.pop(_QUEUED, None)
