"""Signing in and out, passwords, two-factor sign-in, and making accounts."""
import hashlib
import hmac
import secrets
from datetime import timedelta

import pyotp
from flask_babel import gettext as _
from sqlalchemy import case, delete, func, or_, select, update
from sqlalchemy.exc import IntegrityError

from ..audit import services as audit
from ..clock import now
from ..errors import InvalidInput
from ..extensions import db
from ..i18n import LANGUAGES
from .emails import folded_email, normalized_email
from .models import ROLES, Organization, PendingSignIn, Region, RolePolicy, SignInPause, TotpEnrolment, User
from .passwords import password_problems, spend_as_long_as_a_check

# Temporary passwords are read out over the phone: no letters that look like digits.
READABLE = "abcdefghjkmnpqrstuvwxyz23456789"
# Failed sign-ins in a row to one account from one address before that address must wait.
FAILURES_BEFORE_PAUSE = 5
FIRST_PAUSE = timedelta(minutes=1)
LONGEST_PAUSE = timedelta(hours=1)
# A run of failures older than this is forgotten: the next one starts a new count.
FAILURES_FORGOTTEN_AFTER = timedelta(hours=24)
PENDING_MINUTES = 5  # to give the second factor after the password
CODES_PER_SIGN_IN = 5


class LoginRefused(Exception):
    """One answer for every way a sign-in fails, so the page never tells which it was.
    `pause` is the pause this very failure started, if it started one (so that the owner
    and the administrators can be told, once per pause)."""

    def __init__(self, pause: "SignInPause | None" = None):
        super().__init__()
        self.pause = pause


class SignInEnded(LoginRefused):
    """A pending sign-in is over (five wrong codes, or its address is paused): the person
    starts again with the password. `paused_before` says it was the pause that ended it."""

    def __init__(self, pause: "SignInPause | None" = None, paused_before: bool = False):
        super().__init__(pause)
        self.paused_before = paused_before


def find_user_by_email(email: str) -> User | None:
    return db.session.scalar(select(User).where(User.email == folded_email(email)))


def _pair(user: User, address: str):
    return SignInPause.user_id == user.id, SignInPause.client_address == address[:64]


def sign_in_pause(user: User, address: str) -> SignInPause | None:
    """The pause on sign-ins to this account from this address, while it lasts."""
    return db.session.scalar(select(SignInPause).where(*_pair(user, address), SignInPause.paused_until > now()))


def pause_length(failures: int) -> timedelta:
    """The fifth failure in a row from one address pauses that address for a minute; each
    further failure doubles the pause, up to an hour."""
    doublings = max(failures - FAILURES_BEFORE_PAUSE, 0)
    return min(FIRST_PAUSE * 2 ** min(doublings, 12), LONGEST_PAUSE)


def record_failure(user: User, address: str) -> SignInPause | None:
    """Count one failed sign-in to this account from this address (a wrong password, or a
    pending sign-in that ran out of codes). The fifth in a row pauses that address's sign-ins
    to the account, and each further one lengthens the pause; other addresses, the owner's
    among them, are not affected. Counted with atomic updates in the database, so attempts
    racing each other on several servers all count. Returns the pause when this failure
    started a new one (the first of its run), else None."""
    at = now()
    address = address[:64]
    count_one = (update(SignInPause).where(*_pair(user, address))
                 .values(failures=case((SignInPause.last_failure_at < at - FAILURES_FORGOTTEN_AFTER, 1),
                                       else_=SignInPause.failures + 1),
                         last_failure_at=at)
                 .returning(SignInPause.failures))
    failures = db.session.scalar(count_one)
    if failures is None:
        try:
            with db.session.begin_nested():
                db.session.add(SignInPause(user_id=user.id, client_address=address, failures=1,
                                           last_failure_at=at))
            failures = 1
        except IntegrityError:  # another server counted the first failure of this pair just now
            failures = db.session.scalar(count_one)
    if failures < FAILURES_BEFORE_PAUSE:
        return None
    until = at + pause_length(failures)
    db.session.execute(update(SignInPause).where(
        *_pair(user, address), or_(SignInPause.paused_until.is_(None), SignInPause.paused_until < until))
        .values(paused_until=until))
    pause = db.session.scalar(select(SignInPause).where(*_pair(user, address)))
    db.session.refresh(pause)
    if failures != FAILURES_BEFORE_PAUSE:
        return None
    audit.record("user.sign_in_paused", "user", user.id,
                 {"address": address, "failures": failures, "until": until.isoformat()}, by=user)
    return pause


def authenticate(email: str, password: str, address: str) -> User:
    """The active user with this email and password, signing in from `address`. Five wrong
    passwords in a row from one address pause that address's sign-ins to the account, for a
    minute, then twice as long after each further failure, up to an hour; while paused, even
    the right password from there is refused, so guessing cannot go on. The right password
    from any other address still signs in, so nobody can lock the owner out by guessing.
    Every attempt is in the audit trail."""
    user = find_user_by_email(email)
    if user is None or user.api_account:  # an API token's account is nobody to sign in as
        spend_as_long_as_a_check(password)
        audit.record("login.failed", "user", "", {"email": folded_email(email)[:254], "why": "unknown email"})
        raise LoginRefused
    if sign_in_pause(user, address) is not None:
        spend_as_long_as_a_check(password)
        audit.record("login.failed", "user", user.id, {"why": "paused"})
        raise LoginRefused
    if not user.check_password(password):
        pause = record_failure(user, address)
        audit.record("login.failed", "user", user.id, {"why": "wrong password"})
        db.session.flush()
        raise LoginRefused(pause)
    if not user.is_active:
        audit.record("login.failed", "user", user.id, {"why": "deactivated"})
        raise LoginRefused
    return user


def record_login(user: User, address: str) -> None:
    """The sign-in is complete (password, and the second factor where needed): the count of
    failures from this address starts again."""
    db.session.execute(delete(SignInPause).where(*_pair(user, address)))
    user.last_login_at = now()
    audit.record("login", "user", user.id, by=user)
    db.session.flush()


def record_logout(user: User) -> None:
    """Signing out ends the session for good: sessions live in signed cookies, so a copy of
    the cookie would otherwise still open the account. Bumping the session version makes
    every copy worthless (it signs the user out on their other devices too)."""
    user.session_version += 1
    audit.record("logout", "user", user.id)


def paused_addresses(user: User) -> list[SignInPause]:
    """The addresses whose sign-ins to this account are paused now, latest first."""
    return list(db.session.scalars(select(SignInPause).where(
        SignInPause.user_id == user.id, SignInPause.paused_until > now())
        .order_by(SignInPause.paused_until.desc())))


def failed_sign_ins(user: User) -> list[SignInPause]:
    """Every address with failed sign-ins to this account not yet cleared, paused or not."""
    return list(db.session.scalars(select(SignInPause).where(SignInPause.user_id == user.id)
                                   .order_by(SignInPause.last_failure_at.desc())))


def paused_counts(user_ids) -> dict[int, int]:
    """How many addresses are paused now, for each of these users that has any."""
    rows = db.session.execute(select(SignInPause.user_id, func.count()).where(
        SignInPause.user_id.in_(list(user_ids)), SignInPause.paused_until > now())
        .group_by(SignInPause.user_id))
    return {user_id: count for user_id, count in rows}


def clear_sign_in_pauses(user: User) -> list[str]:
    """Forget every failed sign-in to this account, from every address: paused addresses may
    sign in at once. Returns the addresses that were paused."""
    paused = [pause.client_address for pause in paused_addresses(user)]
    db.session.execute(delete(SignInPause).where(SignInPause.user_id == user.id))
    return paused


# --- passwords -------------------------------------------------------------------------------

def check_new_password(password: str, email: str, *own: str) -> None:
    """Refuses a password that will not do (passwords.password_problems). `own`: the person's
    name and organization, which a guesser who knows them tries first, as are the names of
    the regions this app serves."""
    regions = db.session.execute(select(Region.name, Region.name_ru, Region.name_en)).all()
    problems = password_problems(password, email, [*own, *(name for names in regions for name in names)])
    if problems:
        raise InvalidInput(" ".join(problems))


def change_password(user: User, current: str, new: str) -> None:
    """The user's own change: needs the current password; ends every other session."""
    if not user.check_password(current):
        raise InvalidInput(_("The current password is not right."), field="current")
    if current == new:
        raise InvalidInput(_("Choose a password different from the current one."))
    check_new_password(new, user.email, user.name, user.organization.name)
    user.set_password(new)
    user.must_change_password = False
    user.session_version += 1
    end_pending_sign_ins(user)
    audit.record("password.change", "user", user.id)
    db.session.flush()


def temporary_password() -> str:
    """A one-time password to read out: four groups of four unmistakable characters."""
    return "-".join("".join(secrets.choice(READABLE) for _ in range(4)) for _ in range(4))


def reset_password(user: User) -> str:
    """An admin's reset: a one-time password to pass on, to be changed at the next sign-in.
    Every session of the user ends at once."""
    temporary = temporary_password()
    user.set_password(temporary)
    user.must_change_password = True
    user.session_version += 1
    end_pending_sign_ins(user)
    cleared = clear_sign_in_pauses(user)
    audit.record("password.reset", "user", user.id, {"unpaused": cleared} if cleared else None)
    db.session.flush()
    return temporary


# --- two-factor sign-in ----------------------------------------------------------------------

def totp_required(user: User) -> bool:
    policy = db.session.get(RolePolicy, user.role)
    return bool(policy and policy.require_totp)


def needs_second_factor(user: User) -> bool:
    return user.totp_secret is not None or totp_required(user)


def new_totp_secret() -> str:
    return pyotp.random_base32()


def totp_uri(user: User, secret: str) -> str:
    return pyotp.TOTP(secret).provisioning_uri(name=user.email, issuer_name="Shelter coordination")


def _step_of(secret: str, code: str) -> int | None:
    """The TOTP time step this code belongs to: now's, or one step either side (a phone's
    clock a little off); None when the code is none of them."""
    code = (code or "").replace(" ", "")
    if not (code.isdigit() and len(code) == 6):
        return None
    totp = pyotp.TOTP(secret)
    current = totp.timecode(now())
    for step in (current - 1, current, current + 1):
        if hmac.compare_digest(totp.generate_otp(step), code):
            return step
    return None


def _wrong_code() -> InvalidInput:
    return InvalidInput(_("That code is not right; check the time on your phone and try again."))


def _spend_code(user: User, secret: str, code: str, enabling: bool = False) -> None:
    """A code is good once: its time step becomes the account's last, and a code of that step
    or any earlier one is refused from then on (as SecureDrop's `last_token`). The check and
    the change are one conditional UPDATE, so two sign-ins racing with one code cannot both
    pass. Enabling, the key becomes the account's in the same statement, if it has none yet."""
    step = _step_of(secret, code)
    if step is None:
        raise _wrong_code()
    spent = db.session.execute(update(User).where(
        User.id == user.id, or_(User.totp_last_step.is_(None), User.totp_last_step < step),
        User.totp_secret.is_(None) if enabling else User.totp_secret == secret)
        .values(totp_last_step=step, totp_secret=secret))
    if spent.rowcount != 1:
        raise InvalidInput(_("That code has already been used; wait for the next code from your app "
                             "and enter it."))
    db.session.refresh(user)


def check_code(user: User, code: str) -> None:
    """The code from the user's authenticator app, good once (see _spend_code)."""
    _spend_code(user, user.totp_secret, code)


def enable_totp(user: User, secret: str, code: str) -> None:
    """Two-factor sign-in on, once a code from the new key shows the app holds it. That code
    is spent: it cannot sign in afterwards."""
    _spend_code(user, secret, code, enabling=True)
    audit.record("totp.enable", "user", user.id, by=user)
    db.session.flush()


def enrolment_secret(user: User) -> str:
    """The key to show while the user turns two-factor sign-in on: the same one until they
    confirm it, kept on the server (a cookie can be read back)."""
    enrolment = db.session.get(TotpEnrolment, user.id)
    if enrolment is None:
        enrolment = TotpEnrolment(user_id=user.id, secret=new_totp_secret(), started_at=now())
        try:
            with db.session.begin_nested():
                db.session.add(enrolment)
        except IntegrityError:  # the same person's other tab made it just now
            enrolment = db.session.get(TotpEnrolment, user.id, populate_existing=True)
    return enrolment.secret


def enable_totp_from_account(user: User, code: str) -> None:
    """Turn two-factor sign-in on with the key shown on the account page."""
    enrolment = db.session.get(TotpEnrolment, user.id)
    if enrolment is None:
        raise _wrong_code()
    enable_totp(user, enrolment.secret, code)
    db.session.delete(enrolment)
    db.session.flush()


# --- pending sign-ins: the password given, the second factor owed ----------------------------

def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def start_pending_sign_in(user: User, address: str) -> str:
    """The password was right and a code is owed: a pending sign-in on the server, for five
    minutes, with a new key to set up when the role requires two-factor sign-in and the user
    has none yet. Returns the random token the browser's session keeps (only its hash is
    stored)."""
    at = now()
    db.session.execute(delete(PendingSignIn).where(
        PendingSignIn.started_at < at - timedelta(minutes=PENDING_MINUTES)))
    token = secrets.token_urlsafe(32)
    db.session.add(PendingSignIn(token_hash=_token_hash(token), user_id=user.id, client_address=address[:64],
                                 started_at=at, codes_tried=0,
                                 new_totp_secret=None if user.totp_secret else new_totp_secret()))
    db.session.flush()
    return token


def pending_sign_in(token) -> PendingSignIn | None:
    """The pending sign-in this token names, if it is under five minutes old and its user may
    still sign in."""
    if not isinstance(token, str) or not token:
        return None
    pending = db.session.scalar(select(PendingSignIn).where(
        PendingSignIn.token_hash == _token_hash(token),
        PendingSignIn.started_at >= now() - timedelta(minutes=PENDING_MINUTES)))
    return pending if pending is not None and pending.user.is_active else None


def end_pending_sign_ins(user: User) -> None:
    """A new password ends every sign-in still owing its code: they were begun with the old one."""
    db.session.execute(delete(PendingSignIn).where(PendingSignIn.user_id == user.id))


def give_code(pending: PendingSignIn, code: str) -> User:
    """The second factor of a pending sign-in. Five codes may be tried: the fifth wrong one
    ends the pending sign-in and counts as one failed sign-in from its address (towards the
    pause, see record_failure); the codes are counted in the database, one atomic step per
    try, so neither racing requests nor an old copy of the cookie get more. If the address
    is paused meanwhile, the pending sign-in ends too. A right code ends it and signs in."""
    user = pending.user
    if sign_in_pause(user, pending.client_address) is not None:
        audit.record("login.failed", "user", user.id, {"why": "paused", "step": "code"}, by=user)
        db.session.delete(pending)
        raise SignInEnded(paused_before=True)
    tried = db.session.scalar(update(PendingSignIn).where(
        PendingSignIn.id == pending.id, PendingSignIn.codes_tried < CODES_PER_SIGN_IN)
        .values(codes_tried=PendingSignIn.codes_tried + 1).returning(PendingSignIn.codes_tried))
    if tried is None:
        db.session.delete(pending)
        raise SignInEnded
    try:
        if pending.new_totp_secret is not None:
            enable_totp(user, pending.new_totp_secret, code)
        else:
            check_code(user, code)
    except InvalidInput:
        audit.record("login.failed", "user", user.id, {"why": "wrong code", "codes_tried": tried}, by=user)
        if tried < CODES_PER_SIGN_IN:
            raise
        address = pending.client_address
        db.session.delete(pending)
        raise SignInEnded(record_failure(user, address)) from None
    db.session.delete(pending)
    db.session.flush()
    return user


def disable_totp(user: User) -> None:
    if totp_required(user):
        raise InvalidInput(_("Two-factor sign-in is required for your role."))
    user.totp_secret = None
    audit.record("totp.disable", "user", user.id)
    db.session.flush()


# --- accounts --------------------------------------------------------------------------------

def create_user(email: str, name: str, role: str, organization_name: str, password: str) -> User:
    """Make an account; refuses what is not an email address (normalized_email), a taken
    email, an unknown role or organization, a weak password."""
    email = normalized_email(email)
    if role not in ROLES:
        raise InvalidInput(_("Unknown role %(role)s; choose one of %(roles)s.",
                             role=role, roles=", ".join(ROLES)))
    organization = db.session.scalar(
        select(Organization).where(func.lower(Organization.name) == organization_name.strip().lower()))
    if organization is None:
        raise InvalidInput(_("There is no organization called %(name)s.", name=organization_name))
    if find_user_by_email(email) is not None:
        raise InvalidInput(_("An account with the email %(email)s already exists.", email=email))
    if not name.strip():
        raise InvalidInput(_("Give the person's name."))
    check_new_password(password, email, name, organization.name)
    user = User(email=email, name=name.strip(), role=role, organization=organization)
    user.set_password(password)
    db.session.add(user)
    db.session.flush()
    audit.record("user.create", "user", user.id, {"role": role, "organization": organization.id})
    return user


def choose_language(user: User, language: str) -> None:
    """The language the app speaks to this person from now on, on every device."""
    if language not in LANGUAGES:
        raise InvalidInput(_("Choose one of the languages offered."))
    if user.locale != language:
        audit.record("user.language", "user", user.id, {"from": user.locale, "to": language})
        user.locale = language
    db.session.flush()
