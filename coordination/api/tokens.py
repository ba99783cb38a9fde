"""API tokens: made and revoked by admins, shown once, kept as a hash, each acting through an
account of its own (a User of the token's organization and role that nobody signs in as).
Nothing here commits."""
import hashlib
import hmac
import secrets
from datetime import date, datetime

from flask_babel import gettext as _
from sqlalchemy import Select, select
from sqlalchemy.orm import joinedload

from ..accounts.models import CASEWORKER, GUARDIANSHIP, OVERSIGHT, SHELTER_STAFF, Organization, User
from ..audit import services as audit
from ..clock import now
from ..errors import InvalidFields, NotAllowed
from ..extensions import db
from ..i18n import start_of_local_day
from ..words import word
from .models import ApiToken

# Every secret starts so, so that a leaked one is recognised for what it is (by people, and
# by secret scanners); what follows is 32 random bytes.
SECRET_PREFIX = "coord_"
# How much of a secret a list shows to tell tokens apart: the prefix and a few characters.
SHOWN = len(SECRET_PREFIX) + 6

BEDS_READ, BEDS_WRITE = "beds:read", "beds:write"
REFERRALS_READ, REFERRALS_WRITE = "referrals:read", "referrals:write"
CHILDREN_WRITE = "children:write"
SCOPES = (BEDS_READ, BEDS_WRITE, REFERRALS_READ, REFERRALS_WRITE, CHILDREN_WRITE)

# The roles a token may act in, and the scopes each could use at all: what the pages let a
# person of that role do. Admins administer on the pages only.
SCOPES_BY_ROLE = {
    CASEWORKER: (BEDS_READ, REFERRALS_READ, REFERRALS_WRITE, CHILDREN_WRITE),
    SHELTER_STAFF: (BEDS_READ, BEDS_WRITE, REFERRALS_READ, REFERRALS_WRITE),
    GUARDIANSHIP: (BEDS_READ, REFERRALS_READ, REFERRALS_WRITE),
    OVERSIGHT: (BEDS_READ,),
}
TOKEN_ROLES = tuple(SCOPES_BY_ROLE)
# An account's password hash that no password matches (werkzeug's check refuses it outright).
NO_PASSWORD = "!api-token-account"


def secret_hash(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8", "surrogatepass")).hexdigest()


def token_problems(label: str, organization: Organization | None, role: str, scopes: list[str],
                   expires_on: date | None) -> dict[str, str]:
    """What stops making this token, by form field."""
    problems = {}
    if not label.strip():
        problems["label"] = _("Say who will use the token, e.g. the system's name.")
    elif len(label.strip()) > 200:
        problems["label"] = _("Keep this under %(n)s characters.", n=200)
    if organization is None:
        problems["organization"] = _("Choose one of the organizations offered.")
    elif not organization.active:
        problems["organization"] = _("This organization is deactivated; its tokens could not be used.")
    if role not in SCOPES_BY_ROLE:
        problems["role"] = _("Choose one of the roles offered.")
    elif not scopes:
        problems["scopes"] = _("Choose at least one thing the token may do.")
    elif not set(scopes) <= set(SCOPES_BY_ROLE[role]):
        problems["scopes"] = _("A token acting as %(role)s may only: %(scopes)s.", role=word(role),
                               scopes=", ".join(SCOPES_BY_ROLE[role]))
    if expires_on is not None and start_of_local_day(expires_on) <= now():
        problems["expires_on"] = _("Choose a day after today, or none.")
    return problems


def create_token(by: User, label: str, organization_id: int | None, role: str, scopes: list[str],
                 expires_on: date | None) -> tuple[ApiToken, str]:
    """A new token and its secret, which is shown this once and never kept: only its SHA-256 is.
    The token acts through a new account of the organization in the role chosen, with only the
    scopes that role could use; it expires at the start of `expires_on` (local time), if given."""
    organization = db.session.get(Organization, organization_id) if organization_id else None
    scopes = [scope for scope in SCOPES if scope in set(scopes or [])]
    problems = token_problems(label or "", organization, role, list(scopes or []), expires_on)
    if problems:
        raise InvalidFields(problems)
    secret = SECRET_PREFIX + secrets.token_urlsafe(32)
    prefix = secret[:SHOWN]
    label = label.strip()
    account = User(email=f"api-token-{secrets.token_hex(8)}@api.invalid", name=f"API: {label} ({prefix}…)"[:200],
                   role=role, organization_id=organization.id, password_hash=NO_PASSWORD, active=True,
                   api_account=True, must_change_password=False, session_version=1, mail_turned_off=[])
    db.session.add(account)
    db.session.flush()
    token = ApiToken(prefix=prefix, secret_hash=secret_hash(secret), label=label, scopes=scopes, account=account,
                     created_by_id=by.id, created_at=now(),
                     expires_at=start_of_local_day(expires_on) if expires_on else None)
    db.session.add(token)
    db.session.flush()
    audit.record("api_token.created", "api_token", token.id, {
        "account": account.id, "organization": organization.id, "role": role, "scopes": scopes,
        "expires_at": token.expires_at.isoformat() if token.expires_at else None})
    return token, secret


def revoke_token(token: ApiToken, by: User) -> ApiToken:
    """The token stops working at once, for good; its account is deactivated with it, and
    everything it did stays in the trail."""
    if token.revoked_at is not None:
        raise NotAllowed(_("This token was already revoked."))
    token.revoked_at = now()
    token.revoked_by_id = by.id
    token.account.active = False
    token.account.session_version += 1
    audit.record("api_token.revoked", "api_token", token.id, {"account": token.account_id})
    db.session.flush()
    return token


def tokens_query() -> Select:
    """Every token, the usable ones first, newest first."""
    return (select(ApiToken).options(joinedload(ApiToken.account).joinedload(User.organization))
            .order_by(ApiToken.revoked_at.is_not(None), ApiToken.created_at.desc(), ApiToken.id.desc()))


def find_token(secret: str) -> ApiToken | None:
    """The token whose secret this is, found by the secret's hash (so no comparison of secrets
    that could leak timing), with its account and organization; None for anything else."""
    if not secret.startswith(SECRET_PREFIX) or len(secret) > 200:
        return None
    wanted = secret_hash(secret)
    token = db.session.scalar(select(ApiToken).where(ApiToken.secret_hash == wanted)
                              .options(joinedload(ApiToken.account).joinedload(User.organization)))
    if token is None or not hmac.compare_digest(token.secret_hash, wanted):
        return None
    return token


def mark_used(token: ApiToken, at: datetime) -> None:
    token.last_used_at = at
