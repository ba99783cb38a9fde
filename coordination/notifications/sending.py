"""Sending the e-mails that notifications/mail.py queued, never inside the transaction of
the step that queued them: right after a request that queued some has answered, and again
from the periodic commands (`flask periodic`, and `flask send-mail`), which also retry what
failed.

Each message is claimed first with one conditional UPDATE, so two servers (or a request and
the periodic command) never both send it: only the claim that finds it still unsent and due
wins. A claim lasts CLAIM_MINUTES; a sender that dies while holding one is replaced after
that, so a message is sent at least once, and twice only if a sender died between handing
it to the SMTP server and recording that it did.

With no MAIL_SERVER configured nothing leaves the machine: each message is written to the
app's log instead (a warning, so that it shows with the default log settings)."""
import logging
import secrets
import smtplib
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import flask_mail
from flask import Flask, current_app, has_app_context
from flask_babel import force_locale, gettext as _
from sqlalchemy import and_, select, update
from sqlalchemy.orm import joinedload

from ..accounts.models import User
from ..clock import now
from ..extensions import db
from ..referrals.models import Referral
from ..transactions import commit_keeping_loaded
from . import mail
from .models import Notification, OutgoingMail

log = logging.getLogger(__name__)

CLAIM_MINUTES = 10  # how long a sender holds the messages it claimed
BATCH = 20          # messages claimed, and sent over one SMTP connection, at a time


@dataclass
class MailRun:
    """What one run of the sender did."""
    sent: int = 0
    failed: int = 0      # left for a later try
    given_up: int = 0
    errors: list = field(default_factory=list)


@dataclass(frozen=True)
class Letter:
    to: str
    subject: str
    body: str


def _due(at: datetime):
    return and_(OutgoingMail.sent_at.is_(None), OutgoingMail.given_up_at.is_(None), OutgoingMail.next_try_at <= at)


def retry_delay(attempts: int) -> timedelta:
    """How long a message waits after its `attempts`-th failed try: 1, 2, 4 … minutes, at most an hour."""
    return timedelta(minutes=min(2 ** (attempts - 1), 60))


def _claim(at: datetime, only: list[int] | None) -> tuple[str, list[OutgoingMail]]:
    """Claim up to BATCH due messages in one conditional UPDATE and commit the claim. A
    message another sender claimed meanwhile no longer meets the condition (PostgreSQL
    checks it again on the row once the other's claim commits), so it is not taken twice."""
    token = secrets.token_hex(16)
    candidates = select(OutgoingMail.id).where(_due(at)).order_by(OutgoingMail.id).limit(BATCH)
    if only is not None:
        candidates = candidates.where(OutgoingMail.id.in_(only))
    db.session.execute(
        update(OutgoingMail).where(OutgoingMail.id.in_(candidates.scalar_subquery()), _due(at))
        .values(claim=token, next_try_at=at + timedelta(minutes=CLAIM_MINUTES), attempts=OutgoingMail.attempts + 1)
        .execution_options(synchronize_session=False))
    db.session.commit()
    rows = list(db.session.scalars(
        select(OutgoingMail).where(OutgoingMail.claim == token).order_by(OutgoingMail.id)
        .options(joinedload(OutgoingMail.user).joinedload(User.organization),  # is_active asks it
                 joinedload(OutgoingMail.notification).joinedload(Notification.referral).joinedload(Referral.child))))
    # Everything the letters need is loaded now, and kept: nothing is read, and no lock held,
    # while the SMTP server is talked to.
    commit_keeping_loaded()
    return token, rows


def _close(row: OutgoingMail, token: str, **values) -> None:
    """Record how a claimed message ended, if the claim is still this sender's."""
    db.session.execute(update(OutgoingMail).where(OutgoingMail.id == row.id, OutgoingMail.claim == token)
                       .values(claim=None, **values).execution_options(synchronize_session=False))
    commit_keeping_loaded()


def public_link(path: str) -> str:
    return current_app.config["PUBLIC_URL"] + path


def _path_of(notification: Notification) -> str:
    adapter = current_app.url_map.bind("mail")
    if notification.referral_id is None:
        return adapter.build("notifications.index")
    if notification.text_key == "escalation.oversight":  # oversight reads no referral, only the list
        return adapter.build("escalations.index")
    return adapter.build("referrals.referral", {"referral_id": notification.referral_id})


def compose(row: OutgoingMail) -> Letter:
    """The e-mail for a queued notification, in its reader's language: what waits, by case
    reference, and a link to it. Nothing else about the case, and never a name."""
    notification, user = row.notification, row.user
    referral = notification.referral
    reference = (referral.child.case_reference if referral is not None
                 else (notification.params or {}).get("ref", ""))
    kind = mail.KINDS.get(notification.text_key)
    with force_locale(user.locale):
        subject = (str(kind.subject) if kind else _("Something in the shelter coordination app waits for you: %(ref)s")
                   ) % {"ref": reference}
        body = "\n\n".join([
            subject + ".",
            _("Open it (you will be asked to sign in): %(link)s", link=public_link(_path_of(notification))),
            _("For the children's safety this e-mail names no child; the case reference leads to the case "
              "for those who may see it."),
            _("You receive e-mails of this kind because your role acts on them. Choose which you receive on "
              "your account page: %(link)s", link=public_link("/account")),
        ]) + "\n"
    return Letter(to=user.email, subject=subject, body=body)


class _Connection(flask_mail.Connection):
    """Flask-Mail's connection, with a timeout: an SMTP server that does not answer leaves the
    message for the next try instead of holding the sender (or the request) forever."""

    def __init__(self, state, timeout: int):
        super().__init__(state)
        self.timeout = timeout

    def configure_host(self):
        state = self.mail
        if state.use_ssl:
            host = smtplib.SMTP_SSL(state.server, state.port, timeout=self.timeout)
        else:
            host = smtplib.SMTP(state.server, state.port, timeout=self.timeout)
        host.set_debuglevel(int(state.debug))
        if state.use_tls:
            host.starttls()
        if state.username and state.password:
            host.login(state.username, state.password)
        return host


class _Postbox:
    """Hands letters to the configured SMTP server over one connection, opened at the first
    letter; or, with no MAIL_SERVER, to the log."""

    def __init__(self):
        config = current_app.config
        self.config = config
        self.log_only = not config["MAIL_SERVER"]
        self.connection = None
        # Once the server could not be reached, the rest of the batch is not tried: each try
        # could wait MAIL_TIMEOUT again, longer than a server lets a worker take.
        self.unreachable: Exception | None = None

    def deliver(self, letter: Letter) -> None:
        if self.log_only:
            log.warning("E-mail not sent (no MAIL_SERVER is configured), to %s:\nSubject: %s\n\n%s",
                        letter.to, letter.subject, letter.body)
            return
        if self.unreachable is not None:
            raise self.unreachable
        if self.connection is None:
            state = flask_mail.Mail().init_mail(self.config)  # the settings as they are now
            connection = _Connection(state, self.config["MAIL_TIMEOUT"])
            try:
                connection.__enter__()
            except (smtplib.SMTPException, OSError) as error:
                self.unreachable = error
                raise
            self.connection = connection
        message = flask_mail.Message(subject=letter.subject, recipients=[letter.to], body=letter.body,
                                     sender=self.config["MAIL_DEFAULT_SENDER"], charset="utf-8",
                                     # RFC 3834: no "out of office" answers to a machine
                                     extra_headers={"Auto-Submitted": "auto-generated"})
        self.connection.send(message)

    def close(self) -> None:
        if self.connection is not None and self.connection.host is not None:
            try:
                self.connection.host.quit()
            except (smtplib.SMTPException, OSError):
                pass
        self.connection = None


def _why_not_sent(row: OutgoingMail) -> str | None:
    """Why a queued message is not to be sent after all, or None."""
    if not row.user.is_active:
        return "the account is no longer active"
    if not mail.wants_mail(row.user, row.notification.text_key):
        return "this kind of e-mail was turned off"
    return None


def send_pending_mail(only=None, at: datetime | None = None) -> MailRun:
    """Send every message that is due (or only those of the ids `only`, as a request does
    for its own), BATCH at a time, each claimed first. A message that fails is tried again
    later (`retry_delay`), and given up after MAIL_MAX_ATTEMPTS tries; the error stays on it.
    Safe to run from several servers at once."""
    run = MailRun()
    only = list(only) if only is not None else None
    most = current_app.config["MAIL_MAX_ATTEMPTS"]
    while True:
        at_start = at or now()
        token, rows = _claim(at_start, only)
        if not rows:
            return run
        postbox = _Postbox()
        try:
            for row in rows:
                _send_one(row, token, postbox, most, run, at or now())
        finally:
            postbox.close()


def _send_one(row: OutgoingMail, token: str, postbox: _Postbox, most: int, run: MailRun, at: datetime) -> None:
    reason = _why_not_sent(row)
    if reason is not None:
        _close(row, token, given_up_at=at, last_error=reason)
        run.given_up += 1
        return
    try:
        postbox.deliver(compose(row))
    except Exception as error:  # noqa: BLE001 - whatever it was, the message waits for the next try
        if not isinstance(error, (smtplib.SMTPException, OSError)):
            log.exception("E-mail %s could not be made or sent", row.id)
        if isinstance(error, (smtplib.SMTPServerDisconnected, OSError)) and postbox.unreachable is None:
            postbox.unreachable = error  # the connection is gone: the rest wait for the next run
            postbox.close()
        problem = f"{type(error).__name__}: {error}"[:500]
        run.errors.append(f"e-mail {row.id} to {row.user.email}: {problem}")
        if row.attempts >= most:
            _close(row, token, given_up_at=at, last_error=problem)
            log.error("E-mail %s to %s given up after %d tries: %s", row.id, row.user.email, row.attempts, problem)
            run.given_up += 1
        else:
            _close(row, token, next_try_at=at + retry_delay(row.attempts), last_error=problem)
            run.failed += 1
        return
    _close(row, token, sent_at=at, last_error=None)
    run.sent += 1


def set_aside(ids, reason: str) -> int:
    """Mark the e-mails `ids` as never to be sent, saying why (the demo's, to made-up
    addresses); returns how many were still waiting."""
    result = db.session.execute(
        update(OutgoingMail).where(OutgoingMail.id.in_(list(ids)), OutgoingMail.sent_at.is_(None),
                                   OutgoingMail.given_up_at.is_(None))
        .values(given_up_at=now(), last_error=reason).execution_options(synchronize_session=False))
    return result.rowcount


def send_after_response(app: Flask, ids: list[int]) -> None:
    """Send the messages a request queued, once its answer has gone out (best effort: what
    fails here is left for the periodic command)."""
    if has_app_context():
        # The request's own context outlives its answer (a test client's, or one pushed
        # around it): let go of what its session still holds, a read after its commit that
        # on SQLite keeps the write lock, so the sender does not wait on its own request.
        db.session.remove()
    with app.app_context():
        try:
            send_pending_mail(only=ids)
        except Exception:  # noqa: BLE001 - nothing may reach the server's request loop
            log.exception("E-mails %s were not sent after the request; the periodic command will try again", ids)
            db.session.rollback()


def register_mail_sending(app: Flask) -> None:
    @app.after_request
    def send_queued_mail_when_answered(response):
        """The e-mails this request's committed steps queued are sent when the answer has
        been handed to the browser (the response's close), not while the person waits."""
        ids = mail.committed_mail()
        if ids:
            response.call_on_close(lambda: send_after_response(app, ids))
        return response
