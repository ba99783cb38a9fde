"""Loading a registry of shelters and bed pools, as an admin would enter them one by one on
the admin pages, through the same services (admin/services.py), so every rule and every
audit line is the same: a pool's capacity never drops below its beds in use, names stay
unique, and each change is recorded as the admin's.

A shelter is the same shelter when its organization and its name match (whatever their
case), a pool the same pool when its shelter and its label match: the keys the admin pages
already keep unique. Nothing is ever removed: shelters and pools that the file leaves out
stay as they are. Regions must exist (a typo must not found a region); organizations must
exist unless `create_organizations` says to make the missing ones."""
from dataclasses import dataclass, field
from pathlib import Path

from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from ..accounts.models import ORGANIZATION_KINDS, Organization, Region, User
from ..admin import services as admin
from ..audit import services as audit
from ..beds.models import Shelter
from ..errors import DomainError
from ..extensions import db
from .registry import Registry, RegistryRow, RowProblem

SHELTER_FIELDS = ("region", "address", "phone", "languages", "status")
POOL_FIELDS = ("admits_sex", "min_age", "max_age", "capacity")


@dataclass
class Change:
    kind: str  # organization, shelter, pool
    action: str  # add, update, unchanged
    name: str
    where: str
    changes: dict = field(default_factory=dict)  # {field: (before, after)}


@dataclass
class LoadReport:
    source: str
    changes: list[Change] = field(default_factory=list)
    problems: list[RowProblem] = field(default_factory=list)

    def count(self, kind: str, action: str) -> int:
        return sum(1 for c in self.changes if c.kind == kind and c.action == action)

    @property
    def changed(self) -> list[Change]:
        return [c for c in self.changes if c.action != "unchanged"]


def _shelter_state(shelter: Shelter) -> dict:
    # The address is compared, never shown: the report may be read by whoever runs the command.
    return {"region": shelter.region.code, "address": shelter.address, "phone": shelter.phone,
            "languages": list(shelter.languages), "status": shelter.status}


def _pool_state(pool) -> dict:
    return {f: getattr(pool, f) for f in POOL_FIELDS}


def _diff(before: dict, after: dict) -> dict:
    changes = {k: (before[k], after[k]) for k in after if before.get(k) != after[k]}
    if "address" in changes:
        changes["address"] = ("…", "… (changed)")
    return changes


class _Loader:
    def __init__(self, by: User, create_organizations: bool, report: LoadReport):
        self.by, self.create_organizations, self.report = by, create_organizations, report
        self.regions = {r.code.lower(): r for r in db.session.scalars(select(Region))}
        self.organizations = {o.name.lower(): o for o in db.session.scalars(select(Organization))}
        self.shelters = {(s.organization_id, s.name.lower()): s
                         for s in db.session.scalars(select(Shelter).options(selectinload(Shelter.pools)))}
        self.first_row: dict[tuple, RegistryRow] = {}  # the row that settled a shelter
        self.pool_rows: dict[tuple, str] = {}

    def problem(self, row: RegistryRow, column: str | None, message: str) -> None:
        self.report.problems.append(RowProblem(row.where, column, message))

    def organization(self, row: RegistryRow, region: Region) -> Organization | None:
        organization = self.organizations.get(row.organization.lower())
        if organization is not None:
            return organization
        if not self.create_organizations:
            self.problem(row, "organization", _(
                "No organization called “%(name)s” is registered; register it on the admin pages first, "
                "or load with --create-organizations.", name=row.organization))
            return None
        if row.organization_kind not in ORGANIZATION_KINDS:
            self.problem(row, "organization_kind", _("“%(value)s” is not one of %(choices)s.",
                                                     value=row.organization_kind, choices=", ".join(ORGANIZATION_KINDS)))
            return None
        organization = admin.create_organization(row.organization, row.organization_kind, region.id)
        self.organizations[organization.name.lower()] = organization
        self.report.changes.append(Change("organization", "add", organization.name, row.where))
        return organization

    def shelter(self, row: RegistryRow, organization: Organization, region: Region) -> Shelter:
        key = (organization.id, row.shelter.lower())
        shelter = self.shelters.get(key)
        if key in self.first_row:
            self._same_shelter(row, self.first_row[key], shelter)
            return shelter
        self.first_row[key] = row
        name = f"{row.shelter} ({organization.name})"
        if shelter is None:
            shelter = admin.create_shelter(organization.id, region.id, row.shelter, row.address or "",
                                           row.phone or "", row.status or "open", row.languages or [])
            self.shelters[key] = shelter
            self.report.changes.append(Change("shelter", "add", name, row.where))
            return shelter
        before = _shelter_state(shelter)
        admin.update_shelter(
            shelter, organization.id, region.id, shelter.name,
            shelter.address if row.address is None else row.address,
            shelter.phone if row.phone is None else row.phone,
            row.status or shelter.status,
            shelter.languages if row.languages is None else row.languages,
            shelter.services, shelter.accessibility)
        db.session.refresh(shelter, ["region"])
        changes = _diff(before, _shelter_state(shelter))
        self.report.changes.append(Change("shelter", "update" if changes else "unchanged", name, row.where, changes))
        return shelter

    def _same_shelter(self, row: RegistryRow, first: RegistryRow, shelter: Shelter | None) -> None:
        """A shelter's rows after its first must say the same of it, or say nothing."""
        for column in ("region", "address", "phone", "languages", "status"):
            value, settled = getattr(row, column), getattr(first, column)
            if column == "region":
                value, settled = value.lower(), settled.lower()
            if value is not None and settled is not None and value != settled:
                raise _RowRefused(column, _(
                    "The same shelter has another %(column)s in %(first)s; give each of its rows the same one.",
                    column=column, first=first.where))

    def pool(self, row: RegistryRow, shelter: Shelter) -> None:
        key = (shelter.id, row.pool.lower())
        if key in self.pool_rows:
            raise _RowRefused("pool", _("The same pool is already in %(first)s.", first=self.pool_rows[key]))
        self.pool_rows[key] = row.where
        name = f"{shelter.name} / {row.pool}"
        pool = next((p for p in shelter.pools if p.label.lower() == row.pool.lower()), None)
        if pool is None:
            admin.add_pool(shelter, self.by, row.pool, row.admits, row.min_age, row.max_age, row.capacity)
            self.report.changes.append(Change("pool", "add", name, row.where))
            return
        before = _pool_state(pool)
        try:
            admin.update_pool(pool, self.by, pool.label, row.admits, row.min_age, row.max_age, row.capacity)
        except DomainError as refusal:
            column = "capacity" if row.capacity != before["capacity"] else None
            raise _RowRefused(column, refusal.message) from None
        changes = _diff(before, _pool_state(pool))
        self.report.changes.append(Change("pool", "update" if changes else "unchanged", name, row.where, changes))

    def load(self, row: RegistryRow) -> None:
        region = self.regions.get(row.region.lower())
        if region is None:
            self.problem(row, "region", _("No region has the code “%(code)s”; the codes are %(codes)s.",
                                          code=row.region, codes=", ".join(sorted(r.code for r in self.regions.values()))))
            return
        recorded = len(self.report.changes)
        known = (set(self.organizations), set(self.shelters), set(self.first_row), set(self.pool_rows))
        try:
            # One savepoint a row: a refused row undoes only itself, and the rows after it
            # are still checked, so one run names every problem in the file.
            with db.session.begin_nested():
                organization = self.organization(row, region)
                if organization is None:
                    return
                shelter = self.shelter(row, organization, region)
                if shelter is not None:
                    self.pool(row, shelter)
        except DomainError as refusal:
            # What this row made is gone with its savepoint: forget it here too.
            del self.report.changes[recorded:]
            for kept, remembered in zip(known, (self.organizations, self.shelters, self.first_row, self.pool_rows)):
                for key in set(remembered) - kept:
                    del remembered[key]
            self.problem(row, getattr(refusal, "column", None) or getattr(refusal, "field", None), refusal.message)


class _RowRefused(DomainError):
    def __init__(self, column: str | None, message: str):
        super().__init__(message)
        self.column = column


def load_registry(registry: Registry, by: User, *, create_organizations: bool = False) -> LoadReport:
    """Add and update the registry's shelters and pools as `by` (an admin), and say what
    changed. When any row has a problem, the report names each one and the caller must roll
    back: a registry is loaded whole or not at all. Never commits."""
    report = LoadReport(registry.source, problems=list(registry.problems))
    loader = _Loader(by, create_organizations, report)
    for row in registry.rows:
        loader.load(row)
    if report.changed and not report.problems:
        # The file's name as the object (an audit id holds 40 characters), its whole path in the details.
        audit.record("directory.import", "registry", Path(registry.source).name[-40:], {
            "source": registry.source[:500],
            **{kind: {action: report.count(kind, action) for action in ("add", "update", "unchanged")}
               for kind in ("organization", "shelter", "pool")}})
    db.session.flush()
    return report
