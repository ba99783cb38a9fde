"""The rules of administration: regions, organizations, shelters and their bed pools, user
accounts and per-role security settings.

Each function makes one change, writes its audit event and flushes; the route commits.
Nothing here ever deletes a row: organizations and users are deactivated, shelters closed,
so every referral and audit event keeps pointing at something real.
"""
from contextlib import contextmanager

from flask_babel import gettext as _
from sqlalchemy import Select, func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import joinedload, selectinload

from .. import languages as spoken
from ..accounts import services as accounts
from ..accounts.emails import normalized_email
from ..accounts.models import ADMIN, ORGANIZATION_KINDS, ROLES, Organization, Region, RolePolicy, User
from ..audit import services as audit
from ..beds.forms import MAX_BEDS
from ..beds.models import SERVICES, SEXES, SHELTER_STATUSES, BedPool, Shelter
from ..beds.services import record_bed_update
from ..errors import Conflict, InvalidInput, NotAllowed
from ..extensions import db
from ..referrals.services import expire_overdue_holds

MAX_AGE = 17


def may_administer(user) -> bool:
    """Only admins manage regions, organizations, shelters, users and role policies."""
    return user.is_authenticated and user.role == ADMIN


# --- shared checks ---------------------------------------------------------------------------

def _text(value: str | None, max_length: int, required: str | None = None) -> str:
    """The value trimmed; refused when required and blank, or when too long."""
    value = (value or "").strip()
    if required and not value:
        raise InvalidInput(required)
    if len(value) > max_length:
        raise InvalidInput(_("Keep this under %(n)s characters.", n=max_length))
    if any(ord(c) < 32 and c not in "\t\r\n" for c in value):
        raise InvalidInput(_("Remove the control characters from this field."))
    return value


def _changes(record, **values) -> dict:
    """Set the values that differ and return them as {field: [before, after]} for the audit trail."""
    changed = {}
    for field, value in values.items():
        before = getattr(record, field)
        if before != value:
            changed[field] = [before, value]
            setattr(record, field, value)
    return changed


@contextmanager
def _unique(message: str):
    """Run the writes inside a savepoint, so that a duplicate slipping in between our check
    and our write (another server, the same second) is refused with `message`, not a 500."""
    try:
        with db.session.begin_nested():
            yield
    except IntegrityError:
        raise Conflict(message) from None


def _get(model, record_id):
    """The record with this id, or None; an id no integer column could hold names nothing
    (and must not reach the database, which would refuse to compare with it)."""
    if not isinstance(record_id, int) or isinstance(record_id, bool) or not 0 < record_id < 2**31:
        return None
    return db.session.get(model, record_id)


def _region(region_id) -> Region:
    region = _get(Region, region_id)
    if region is None:
        raise InvalidInput(_("Choose one of the regions offered."))
    return region


def _organization(organization_id, current_id: int | None = None) -> Organization:
    """An organization to attach something to: it must exist and, unless it is the one
    already attached, be active."""
    organization = _get(Organization, organization_id)
    if organization is None:
        raise InvalidInput(_("Choose one of the organizations offered."))
    if not organization.active and organization.id != current_id:
        raise InvalidInput(_("%(name)s is deactivated; reactivate it first or choose another organization.",
                             name=organization.name))
    return organization


# --- regions ---------------------------------------------------------------------------------

def _refuse_taken_region(code: str, name: str, except_id: int | None = None) -> None:
    query = select(Region).where(Region.id != (except_id or 0))
    if db.session.scalar(query.where(func.lower(Region.code) == code.lower())) is not None:
        raise Conflict(_("There is already a region with the code %(code)s.", code=code))
    if db.session.scalar(query.where(func.lower(Region.name) == name.lower())) is not None:
        raise Conflict(_("There is already a region called %(name)s.", name=name))


def _region_values(code: str, name: str) -> tuple[str, str]:
    return (_text(code, 20, _("Give the region a short code.")),
            _text(name, 100, _("Give the region's name.")))


def create_region(code: str, name: str, name_ru: str = "", name_en: str = "") -> Region:
    """A new region; its code and its official name are each unique, whatever their case.
    Its Russian and English names may be left out (the official name is shown instead)."""
    code, name = _region_values(code, name)
    _refuse_taken_region(code, name)
    region = Region(code=code, name=name, name_ru=name_ru.strip(), name_en=name_en.strip())
    with _unique(_("That region code or name is already taken.")):
        db.session.add(region)
    audit.record("region.create", "region", region.id, {"code": code, "name": name})
    return region


def update_region(region: Region, code: str, name: str, name_ru: str = "", name_en: str = "") -> Region:
    """Rename a region or change its code; both stay unique."""
    code, name = _region_values(code, name)
    _refuse_taken_region(code, name, except_id=region.id)
    with _unique(_("That region code or name is already taken.")):
        changes = _changes(region, code=code, name=name, name_ru=name_ru.strip(), name_en=name_en.strip())
    if changes:
        audit.record("region.update", "region", region.id, {"changes": changes})
    return region


def all_regions() -> list[Region]:
    return list(db.session.scalars(select(Region).order_by(Region.name)))


# --- organizations ---------------------------------------------------------------------------

def _organization_values(name: str, kind: str, region_id) -> dict:
    name = _text(name, 200, _("Give the organization's name."))
    if kind not in ORGANIZATION_KINDS:
        raise InvalidInput(_("Choose one of the kinds offered."))
    return {"name": name, "kind": kind, "region_id": _region(region_id).id}


def _refuse_taken_organization(name: str, except_id: int | None = None) -> None:
    taken = db.session.scalar(select(Organization).where(
        func.lower(Organization.name) == name.lower(), Organization.id != (except_id or 0)))
    if taken is not None:
        raise Conflict(_("There is already an organization called %(name)s.", name=taken.name))


def create_organization(name: str, kind: str, region_id: int) -> Organization:
    """A new, active organization; names are unique whatever their case."""
    values = _organization_values(name, kind, region_id)
    _refuse_taken_organization(values["name"])
    organization = Organization(active=True, **values)
    with _unique(_("There is already an organization called %(name)s.", name=values["name"])):
        db.session.add(organization)
    audit.record("organization.create", "organization", organization.id,
                 {"name": organization.name, "kind": organization.kind, "region": organization.region_id})
    return organization


def update_organization(organization: Organization, name: str, kind: str, region_id: int) -> Organization:
    """Change an organization's name, kind or home region (and with it, for guardianship
    bodies, their officers' jurisdiction)."""
    values = _organization_values(name, kind, region_id)
    _refuse_taken_organization(values["name"], except_id=organization.id)
    with _unique(_("There is already an organization called %(name)s.", name=values["name"])):
        changes = _changes(organization, **values)
    if changes:
        audit.record("organization.update", "organization", organization.id, {"changes": changes})
    return organization


def deactivate_organization(organization: Organization, by: User) -> Organization:
    """Nobody of a deactivated organization can sign in, and their sessions end at once;
    the organization, its people, children, shelters and referrals all stay on record.
    An admin cannot deactivate their own organization: they would lock themselves out."""
    if organization.id == by.organization_id:
        raise NotAllowed(_("You cannot deactivate your own organization: you would sign yourself out. "
                           "Ask another administrator."))
    if not organization.active:
        return organization
    organization.active = False
    # Bumping the session version means reactivation later does not revive old sessions.
    db.session.execute(update(User).where(User.organization_id == organization.id)
                       .values(session_version=User.session_version + 1)
                       .execution_options(synchronize_session=False))
    audit.record("organization.deactivate", "organization", organization.id)
    db.session.flush()
    return organization


def reactivate_organization(organization: Organization) -> Organization:
    """Its active users may sign in again."""
    if organization.active:
        return organization
    organization.active = True
    audit.record("organization.reactivate", "organization", organization.id)
    db.session.flush()
    return organization


def organizations_query() -> Select:
    """Every organization with its region, active ones first."""
    return (select(Organization).options(joinedload(Organization.region))
            .order_by(Organization.active.desc(), Organization.name, Organization.id))


def member_counts(organization_ids) -> dict[int, int]:
    """How many accounts each of these organizations has, in one query for a whole page."""
    if not organization_ids:
        return {}
    return dict(db.session.execute(
        select(User.organization_id, func.count(User.id)).where(User.organization_id.in_(organization_ids))
        .group_by(User.organization_id)).all())


def all_organizations() -> list[Organization]:
    return list(db.session.scalars(select(Organization).order_by(Organization.name)))


# --- shelters --------------------------------------------------------------------------------

def _shelter_values(shelter: Shelter | None, organization_id, region_id, name, address, phone, status,
                    languages, services, accessibility) -> dict:
    organization = _organization(organization_id, current_id=shelter.organization_id if shelter else None)
    region = _region(region_id)
    if status not in SHELTER_STATUSES:
        raise InvalidInput(_("Choose one of the statuses offered."))
    languages = spoken.chosen(languages)
    services = list(services or [])
    if any(service not in SERVICES for service in services):
        raise InvalidInput(_("Choose services from those offered."))
    return {
        "organization_id": organization.id, "region_id": region.id,
        "name": _text(name, 200, _("Give the shelter's name.")),
        "address": _text(address, 500), "phone": _text(phone, 50), "status": status,
        # Saving the shelter settles whatever the language migration could not match.
        "languages": languages, "languages_unmapped": [], "services": [s for s in SERVICES if s in services],
        "accessibility": _text(accessibility, 2000),
    }


def _refuse_taken_shelter(name: str, organization_id: int, except_id: int | None = None) -> None:
    taken = db.session.scalar(select(Shelter.id).where(
        Shelter.organization_id == organization_id, func.lower(Shelter.name) == name.lower(),
        Shelter.id != (except_id or 0)))
    if taken is not None:
        raise Conflict(_("This organization already runs a shelter called %(name)s.", name=name))


def _shelter_audit(changes: dict) -> dict:
    """The address is for need-to-know readers only, and oversight reads the audit trail:
    it records that the address changed, never what it says."""
    if "address" in changes:
        changes["address"] = "changed"
    return changes


def create_shelter(organization_id: int, region_id: int, name: str, address: str = "", phone: str = "",
                   status: str = "open", languages=(), services=(), accessibility: str = "") -> Shelter:
    """A new shelter, run by an active organization; it has no beds until pools are added."""
    values = _shelter_values(None, organization_id, region_id, name, address, phone, status,
                             languages, services, accessibility)
    _refuse_taken_shelter(values["name"], values["organization_id"])
    shelter = Shelter(**values)
    db.session.add(shelter)
    db.session.flush()
    audit.record("shelter.create", "shelter", shelter.id, {
        "name": shelter.name, "organization": shelter.organization_id, "region": shelter.region_id,
        "status": shelter.status})
    return shelter


def update_shelter(shelter: Shelter, organization_id: int, region_id: int, name: str, address: str,
                   phone: str, status: str, languages, services, accessibility: str) -> Shelter:
    """Change what is known about a shelter. Closing or suspending one takes it off the bed
    board; its pools, referrals and history stay."""
    values = _shelter_values(shelter, organization_id, region_id, name, address, phone, status,
                             languages, services, accessibility)
    _refuse_taken_shelter(values["name"], values["organization_id"], except_id=shelter.id)
    changes = _changes(shelter, **values)
    if changes:
        db.session.flush()
        audit.record("shelter.update", "shelter", shelter.id, {"changes": _shelter_audit(changes)})
    return shelter


def shelters_query() -> Select:
    return (select(Shelter)
            .options(joinedload(Shelter.organization), joinedload(Shelter.region), selectinload(Shelter.pools))
            .order_by(Shelter.name, Shelter.id))


# --- bed pools -------------------------------------------------------------------------------

def _pool_values(label, admits_sex, min_age, max_age, capacity) -> dict:
    label = _text(label, 100, _("Give the pool a label, such as “Girls 12–17”."))
    if admits_sex not in SEXES:
        raise InvalidInput(_("Choose whom the pool admits from the choices offered."))
    for age in (min_age, max_age):
        if not isinstance(age, int) or isinstance(age, bool) or not 0 <= age <= MAX_AGE:
            raise InvalidInput(_("Ages run from 0 to %(max)s.", max=MAX_AGE))
    if min_age > max_age:
        raise InvalidInput(_("The youngest age (%(min)s) cannot be above the oldest (%(max)s).",
                             min=min_age, max=max_age))
    if not isinstance(capacity, int) or isinstance(capacity, bool) or not 0 <= capacity <= MAX_BEDS:
        raise InvalidInput(_("Capacity must be a whole number from 0 to %(max)s.", max=MAX_BEDS))
    return {"label": label, "admits_sex": admits_sex, "min_age": min_age, "max_age": max_age,
            "capacity": capacity}


def _refuse_taken_label(shelter_id: int, label: str, except_id: int | None = None) -> None:
    taken = db.session.scalar(select(BedPool.id).where(
        BedPool.shelter_id == shelter_id, func.lower(BedPool.label) == label.lower(),
        BedPool.id != (except_id or 0)))
    if taken is not None:
        raise Conflict(_("This shelter already has a pool called %(label)s.", label=label))


def add_pool(shelter: Shelter, by: User, label: str, admits_sex: str, min_age: int, max_age: int,
             capacity: int) -> BedPool:
    """A new pool of empty beds; its first line of history records the capacity."""
    values = _pool_values(label, admits_sex, min_age, max_age, capacity)
    _refuse_taken_label(shelter.id, values["label"])
    pool = BedPool(shelter_id=shelter.id, occupied=0, out_of_service=0, out_of_service_reason="", held=0,
                   version=1, **values)
    db.session.add(pool)
    db.session.flush()
    record_bed_update(pool, by, _("pool created with %(n)s beds", n=pool.capacity))
    audit.record("pool.create", "bed_pool", pool.id, {"shelter": shelter.id, **values})
    return pool


def update_pool(pool: BedPool, by: User, label: str, admits_sex: str, min_age: int, max_age: int,
                capacity: int) -> BedPool:
    """Change a pool's label, whom it admits, or its capacity. Capacity never drops below
    the beds in use (occupied + out of service + held): the check and the write are one
    conditional UPDATE, so a hold taken at the same moment cannot slip in between."""
    values = _pool_values(label, admits_sex, min_age, max_age, capacity)
    _refuse_taken_label(pool.shelter_id, values["label"], except_id=pool.id)
    # Holds past their deadline no longer count: close them first, as expire-holds would.
    expire_overdue_holds(pool_id=pool.id)
    db.session.refresh(pool)
    before = {field: getattr(pool, field) for field in values}
    if before == values:
        return pool
    result = db.session.execute(
        update(BedPool)
        .where(BedPool.id == pool.id,
               BedPool.in_use <= values["capacity"])
        .values(version=BedPool.version + 1, **values)
        .execution_options(synchronize_session=False))
    db.session.refresh(pool)
    if result.rowcount != 1:
        raise InvalidInput(_(
            "%(used)s beds are in use (%(occupied)s occupied, %(oos)s out of service, %(held)s held "
            "for referrals), so the capacity cannot go below %(used)s. Nothing was changed.",
            used=pool.in_use, occupied=pool.occupied, oos=pool.out_of_service, held=pool.held))
    changes = {field: [before[field], values[field]] for field in values if before[field] != values[field]}
    if "capacity" in changes:
        record_bed_update(pool, by, _("capacity changed from %(old)s to %(new)s",
                                      old=before["capacity"], new=values["capacity"]))
    audit.record("pool.update", "bed_pool", pool.id, {"changes": changes, "version": pool.version})
    return pool


# --- users -----------------------------------------------------------------------------------

def _role(role: str) -> str:
    if role not in ROLES:
        raise InvalidInput(_("Choose one of the roles offered."))
    return role


def create_account(email: str, name: str, role: str, organization_id: int) -> tuple[User, str]:
    """A new account with a one-time password for the admin to pass on; the person must
    choose their own password when they first sign in. Emails are unique whatever their case,
    and must be email addresses (accounts.emails)."""
    email = normalized_email(email)
    name = _text(name, 200, _("Give the person's name."))
    role = _role(role)
    organization = _organization(organization_id)
    taken = _("An account with the email %(email)s already exists.", email=email)
    if accounts.find_user_by_email(email) is not None:
        raise Conflict(taken)
    temporary = accounts.temporary_password()
    user = User(email=email, name=name, role=role, organization_id=organization.id, active=True,
                must_change_password=True, session_version=1)
    user.set_password(temporary)
    with _unique(taken):
        db.session.add(user)
    audit.record("user.create", "user", user.id, {"role": role, "organization": organization.id})
    return user, temporary


def _refuse_api_account(user: User) -> None:
    """An API token's account is changed only with its token (revoked on the API tokens page),
    so that it never gets a password, another role or another organization than the token's."""
    if user.api_account:
        raise NotAllowed(_("This is the account of an API token; manage it on the API tokens page."))


def update_user(user: User, by: User, name: str, role: str, organization_id: int, active: bool) -> User:
    """Change a person's name, role, organization or whether they may sign in. An admin
    cannot change their own role or deactivate themselves (there must always be someone
    left to administer); moving someone to a deactivated organization is refused."""
    _refuse_api_account(user)
    name = _text(name, 200, _("Give the person's name."))
    role = _role(role)
    organization = _organization(organization_id, current_id=user.organization_id)
    if user.id == by.id and role != user.role:
        raise NotAllowed(_("You cannot change your own role; ask another administrator."))
    changes = _changes(user, name=name, role=role, organization_id=organization.id)
    if changes:
        db.session.flush()
        audit.record("user.update", "user", user.id, {"changes": changes})
    if user.active and not active:
        deactivate_user(user, by)
    elif active and not user.active:
        reactivate_user(user)
    return user


def deactivate_user(user: User, by: User) -> User:
    """The person can no longer sign in, and every session of theirs ends at once; the
    account stays, with everything it did. Nobody deactivates themselves."""
    if user.id == by.id:
        raise NotAllowed(_("You cannot deactivate yourself; ask another administrator."))
    _refuse_api_account(user)
    if not user.active:
        return user
    user.active = False
    user.session_version += 1
    audit.record("user.deactivate", "user", user.id)
    db.session.flush()
    return user


def reactivate_user(user: User) -> User:
    """The person may sign in again (their old sessions stay ended)."""
    _refuse_api_account(user)
    if user.active:
        return user
    user.active = True
    audit.record("user.reactivate", "user", user.id)
    db.session.flush()
    return user


def reset_user_password(user: User, by: User) -> str:
    """A one-time password to pass on; the person must choose a new one at their next
    sign-in, and every session of theirs ends now (see accounts.services.reset_password).
    Admins change their own password on their account page, which asks for the current one."""
    if user.id == by.id:
        raise NotAllowed(_("Change your own password on your account page; a reset is for other people."))
    _refuse_api_account(user)
    return accounts.reset_password(user)


def unlock_user(user: User) -> User:
    """Lift every pause that failed sign-ins put on this account's addresses, before it runs
    out, and forget the failures counted so far: the person may sign in at once, from
    anywhere. (If someone keeps guessing, their address is paused again after five more.)"""
    unpaused = accounts.clear_sign_in_pauses(user)
    audit.record("user.unlock", "user", user.id, {"unpaused": unpaused})
    db.session.flush()
    return user


def users_query(organization_id: int | None = None, role: str | None = None) -> Select:
    # API tokens' accounts are listed with their tokens (/admin/api-tokens), not as people.
    query = (select(User).options(joinedload(User.organization)).where(User.api_account.is_(False))
             .order_by(User.active.desc(), User.name, User.id))
    if organization_id is not None:
        query = query.where(User.organization_id == organization_id)
    if role is not None:
        query = query.where(User.role == role)
    return query


# --- role policies ---------------------------------------------------------------------------

def two_factor_roles() -> set[str]:
    """The roles whose members must sign in with a second factor."""
    return set(db.session.scalars(select(RolePolicy.role).where(RolePolicy.require_totp.is_(True))))


def set_two_factor_roles(roles) -> set[str]:
    """Require two-factor sign-in for exactly these roles. It applies from each person's
    next sign-in: those without an authenticator set up are taken through setting one up."""
    roles = set(roles)
    if not roles <= set(ROLES):
        raise InvalidInput(_("Choose roles from those offered."))
    policies = {p.role: p for p in db.session.scalars(select(RolePolicy))}
    changed = []
    for role in ROLES:
        wanted = role in roles
        policy = policies.get(role)
        if policy is None:
            if not wanted:
                continue
            with _unique(_("Someone else changed these settings at the same moment; try again.")):
                db.session.add(RolePolicy(role=role, require_totp=True))
        elif policy.require_totp == wanted:
            continue
        else:
            policy.require_totp = wanted
        changed.append(role)
        audit.record("role_policy.update", "role_policy", role, {"require_totp": wanted})
    db.session.flush()
    return set(changed)
