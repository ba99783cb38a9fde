"""The HSDS 3.1 export: organizations, their shelters (locations), bed pools (services) and
each pool's free beds (service_capacity), as a Tabular Data Package (datapackage.json and
one CSV a table, the form the spec's validator reads) with the same records as HSDS JSON
(services.json, each service compiled as schema/compiled/service.json describes it).

What it never holds: anything about a child, any referral, and any shelter's street
address. The app shows an address only to the shelter's own staff, its region's
guardianship officers and admins (beds.services.can_see_address), never to every signed-in
person, and a safe house's address must not leave the app; so no address is exported.
The rest is what the bed board and the shelter pages show every signed-in role: names,
region, phone, languages, whom each pool admits, its capacity and free beds, and when its
counts were last confirmed."""
import csv
import io
import json
import zipfile
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

from sqlalchemy import func, select
from sqlalchemy.orm import joinedload, selectinload

from .. import languages as spoken
from ..accounts.models import Organization, Region
from ..availability import with_live_holds
from ..beds.models import BedPool, BedUpdate, Shelter
from ..clock import now
from ..extensions import db
from . import hsds
from .hsds import stable_id

SEX_TERMS = {"female": "Girls", "male": "Boys", "any": "Girls and boys"}
KIND_WORDS = {"ngo": "Non-governmental organization", "state": "State body",
              "international": "International organization"}


def hsds_time(at: datetime) -> str:
    """UTC to the second, with a Z: what both JSON Schema's date-time and the tabular
    validator's datetime accept."""
    return at.astimezone(timezone.utc).replace(microsecond=0).strftime("%Y-%m-%dT%H:%M:%SZ")


def region_name(region: Region) -> str:
    return region.name_in("en")


@dataclass
class Package:
    """The export in memory: rows by table (the spec's resource names), and the services as
    compiled HSDS JSON."""
    tables: dict[str, list[dict]] = field(default_factory=dict)
    services: list[dict] = field(default_factory=list)
    made_at: datetime | None = None

    def files(self) -> dict[str, bytes]:
        """Each file of the package by its name: datapackage.json, the CSVs, services.json."""
        descriptor = dict(hsds.descriptor(), created=hsds_time(self.made_at))
        files = {"datapackage.json": json.dumps(descriptor, indent=2, ensure_ascii=False).encode()}
        for name in hsds.RESOURCES:
            files[hsds.path_of(name)] = table_csv(name, self.tables.get(name, []))
        files["services.json"] = json.dumps(self.services, indent=2, ensure_ascii=False).encode()
        return files

    def zip_bytes(self) -> bytes:
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
            for name, content in self.files().items():
                archive.writestr(zipfile.ZipInfo(name, date_time=self.made_at.timetuple()[:6]), content,
                                 zipfile.ZIP_DEFLATED)
        return buffer.getvalue()

    def write(self, out: Path) -> list[Path]:
        """Into a .zip file when `out` ends so, else into the directory `out` (made if need be)."""
        if out.suffix.lower() == ".zip":
            out.write_bytes(self.zip_bytes())
            return [out]
        out.mkdir(parents=True, exist_ok=True)
        written = []
        for name, content in self.files().items():
            (out / name).write_bytes(content)
            written.append(out / name)
        return written


def table_csv(resource: str, rows: list[dict]) -> bytes:
    """A table as the Tabular Data Package wants it: UTF-8, a header of exactly the
    descriptor's columns, empty cells for what we do not know. No byte order mark and no
    apostrophes before a leading + or -, unlike the downloads meant for spreadsheets
    (csvfiles.py): these files are read by programs, and "+994 12…" is a phone number."""
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=hsds.columns(resource), lineterminator="\r\n")
    writer.writeheader()
    writer.writerows(rows)
    return buffer.getvalue().encode("utf-8")


def _confirmed_times(pool_ids: list[int]) -> dict[int, datetime]:
    """When each pool's counts were last written, for pools never confirmed as such: every
    pool's history starts with its creation, with the capacity it was given."""
    if not pool_ids:
        return {}
    return dict(db.session.execute(select(BedUpdate.pool_id, func.max(BedUpdate.created_at))
                                   .where(BedUpdate.pool_id.in_(pool_ids)).group_by(BedUpdate.pool_id)).all())


def build_package(at: datetime | None = None) -> Package:
    """The whole directory as HSDS 3.1: every shelter of an active organization with its
    pools and their free beds now (holds past their deadline no longer count, as on the
    bed board). Closed and suspended shelters are in it too, their services marked
    inactive or temporarily closed, so that a directory copying it learns they closed."""
    at = at or now()
    shelters = list(db.session.scalars(
        select(Shelter).join(Shelter.organization).where(Organization.active.is_(True))
        .options(joinedload(Shelter.organization).joinedload(Organization.region), joinedload(Shelter.region))
        .order_by(Shelter.id)))
    pools = list(db.session.scalars(with_live_holds(
        select(BedPool).where(BedPool.shelter_id.in_([s.id for s in shelters])).order_by(BedPool.id), at)
        .execution_options(populate_existing=True)))
    by_shelter: dict[int, list[BedPool]] = {}
    for pool in pools:
        by_shelter.setdefault(pool.shelter_id, []).append(pool)
    written = _confirmed_times([p.id for p in pools if p.last_confirmed_at is None])
    builder = _Builder()
    for shelter in shelters:
        builder.shelter(shelter, by_shelter.get(shelter.id, []), written)
    return Package(tables=builder.tables, services=builder.services, made_at=at)


class _Builder:
    """Rows table by table, and the same records nested as HSDS JSON."""

    def __init__(self):
        self.tables = {name: [] for name in hsds.RESOURCES}
        self.services: list[dict] = []
        self._done: set[str] = set()
        self.unit = {"id": stable_id("unit", hsds.BED_UNIT), "name": "Bed", "identifier": hsds.BED_UNIT}
        self._once("unit", self.unit)
        self.taxonomies = {
            hsds.REGION_TAXONOMY: {"id": stable_id("taxonomy", hsds.REGION_TAXONOMY),
                                   "name": "Economic regions of Azerbaijan",
                                   "description": "The region a shelter is in, by the coordination platform's region code."},
            hsds.SEX_TAXONOMY: {"id": stable_id("taxonomy", hsds.SEX_TAXONOMY),
                                "name": "Children a bed pool admits",
                                "description": "Whom the beds of a pool are for: girls, boys, or either."},
        }
        for taxonomy in self.taxonomies.values():
            self._once("taxonomy", taxonomy)

    def _once(self, table: str, row: dict) -> None:
        if row["id"] not in self._done:
            self._done.add(row["id"])
            self.tables[table].append(row)

    def _attribute(self, taxonomy: str, code: str, name: str, entity: str, entity_id: str) -> dict:
        """A link from a record to a term of one of our taxonomies, as a row and as JSON."""
        term = {"id": stable_id("taxonomy_term", taxonomy, code), "code": code, "name": name,
                "description": self.taxonomies[taxonomy]["description"], "taxonomy": taxonomy,
                "taxonomy_id": self.taxonomies[taxonomy]["id"]}
        self._once("taxonomy_term", term)
        row = {"id": stable_id("attribute", entity, entity_id, taxonomy), "link_id": entity_id,
               "taxonomy_term_id": term["id"], "link_type": taxonomy, "link_entity": entity, "value": code}
        self.tables["attribute"].append(row)
        return {**row, "taxonomy_term": term}

    def _organization(self, organization: Organization) -> dict:
        row = {"id": stable_id("organization", organization.id), "name": organization.name,
               "description": f"{KIND_WORDS.get(organization.kind, organization.kind)}, "
                              f"based in {region_name(organization.region)}."}
        self._once("organization", row)
        return row

    def shelter(self, shelter: Shelter, pools: list[BedPool], written: dict[int, datetime]) -> None:
        organization = self._organization(shelter.organization)
        location_id = stable_id("location", shelter.id)
        location = {"id": location_id, "location_type": "physical", "organization_id": organization["id"],
                    "name": shelter.name}
        self.tables["location"].append(location)
        nested = dict(location)
        nested["attributes"] = [self._attribute(hsds.REGION_TAXONOMY, shelter.region.code,
                                                region_name(shelter.region), "location", location_id)]
        if shelter.phone:
            phone = {"id": stable_id("phone", shelter.id), "location_id": location_id, "number": shelter.phone}
            self.tables["phone"].append(phone)
            nested["phones"] = [phone]
        languages = [{"id": stable_id("language", shelter.id, code), "location_id": location_id,
                      "name": spoken.language_name(code, "en"), "code": code} for code in shelter.languages]
        self.tables["language"] += languages
        if languages:
            nested["languages"] = languages
        for pool in pools:
            self._pool(shelter, pool, organization, nested, written.get(pool.id))

    def _pool(self, shelter: Shelter, pool: BedPool, organization: dict, location: dict,
              written: datetime | None) -> None:
        service_id = stable_id("service", pool.id)
        service = {
            "id": service_id, "organization_id": organization["id"], "name": f"{shelter.name}: {pool.label}",
            "alternate_name": pool.label, "status": hsds.SERVICE_STATUS[shelter.status],
            "description": f"Beds for unaccompanied and separated children at {shelter.name}.",
            "eligibility_description": f"{SEX_TERMS[pool.admits_sex]} aged {pool.min_age} to {pool.max_age}.",
            "minimum_age": pool.min_age, "maximum_age": pool.max_age}
        self.tables["service"].append(service)
        link = {"id": stable_id("service_at_location", pool.id), "service_id": service_id,
                "location_id": location["id"]}
        self.tables["service_at_location"].append(link)
        nested = {**service, "organization": {k: organization[k] for k in ("id", "name", "description")},
                  "service_at_locations": [{**link, "location": location}]}
        nested["attributes"] = [self._attribute(hsds.SEX_TAXONOMY, pool.admits_sex, SEX_TERMS[pool.admits_sex],
                                                "service", service_id)]
        confirmed = pool.last_confirmed_at or written
        if confirmed is not None:  # HSDS requires the time; a pool with no history has no count to give
            capacity = {"id": stable_id("service_capacity", pool.id), "service_id": service_id,
                        "unit_id": self.unit["id"], "available": pool.available, "maximum": pool.capacity,
                        "description": "Beds free now for a child referred today.",
                        "updated": hsds_time(confirmed)}
            self.tables["service_capacity"].append(capacity)
            nested["capacities"] = [{**capacity, "unit": self.unit}]
        self.services.append(nested)
