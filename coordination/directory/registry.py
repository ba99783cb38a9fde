"""Reading a registry of shelters and bed pools: a CSV file of our own columns, one row per
pool, or an HSDS datapackage as the export writes it (a directory, its datapackage.json, or
a .zip). Either becomes the same rows for directory.services.load_registry; what cannot be
read is a problem named by row and column, and reading goes on to find them all."""
import csv
import io
import re
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

from flask_babel import gettext as _

from .. import languages as spoken
from ..beds.models import SEXES, SHELTER_STATUSES
from . import hsds

# The registry's columns, in the order of a template; the first six and the last five are
# required, address/phone/languages/status may be left out (or left blank: kept as they are).
COLUMNS = ("organization", "region", "shelter", "address", "phone", "languages", "status",
           "pool", "admits", "min_age", "max_age", "capacity")
REQUIRED = ("organization", "region", "shelter", "pool", "admits", "min_age", "max_age", "capacity")
OPTIONAL = ("address", "phone", "languages", "status", "organization_kind")


@dataclass
class RowProblem:
    where: str
    column: str | None
    message: str

    def __str__(self) -> str:
        return f"{self.where}, column {self.column}: {self.message}" if self.column else f"{self.where}: {self.message}"


@dataclass
class RegistryRow:
    """One pool and the shelter it is in. None for a shelter field: keep what is recorded."""
    where: str
    organization: str
    region: str
    shelter: str
    pool: str
    admits: str
    min_age: int
    max_age: int
    capacity: int
    address: str | None = None
    phone: str | None = None
    languages: list[str] | None = None
    status: str | None = None
    organization_kind: str = "ngo"


@dataclass
class Registry:
    source: str
    rows: list[RegistryRow] = field(default_factory=list)
    problems: list[RowProblem] = field(default_factory=list)


def _whole_number(text: str) -> int | None:
    text = text.strip()
    if re.fullmatch(r"\d{1,6}", text):
        return int(text)
    if re.fullmatch(r"\d{1,6}\.0*", text):  # what a spreadsheet makes of 12
        return int(float(text))
    return None


def _parse(where: str, values: dict[str, str], problems: list[RowProblem]) -> RegistryRow | None:
    """One row's cells into a RegistryRow, or its problems (all of them) and None."""
    found = []

    def problem(column, message):
        found.append(RowProblem(where, column, message))

    cells = {key: (value or "").strip() for key, value in values.items()}
    for column in REQUIRED:
        if not cells.get(column):
            problem(column, _("This cell is empty; it is required."))
    numbers = {}
    for column in ("min_age", "max_age", "capacity"):
        if cells.get(column):
            numbers[column] = _whole_number(cells[column])
            if numbers[column] is None:
                problem(column, _("“%(value)s” is not a whole number; expected one such as 12.",
                                  value=cells[column]))
    admits = cells.get("admits", "").lower()
    if admits and admits not in SEXES:
        problem("admits", _("“%(value)s” is not one of %(choices)s.", value=cells["admits"],
                            choices=", ".join(SEXES)))
    status = cells.get("status", "").lower() or None
    if status and status not in SHELTER_STATUSES:
        problem("status", _("“%(value)s” is not one of %(choices)s.", value=cells["status"],
                            choices=", ".join(SHELTER_STATUSES)))
    kind = cells.get("organization_kind", "").lower() or "ngo"
    languages = None
    if cells.get("languages"):
        languages = [code.lower() for code in re.split(r"[\s,;]+", cells["languages"]) if code]
        unknown = spoken.unknown(languages)
        if unknown:
            problem("languages", _("Not language codes on the list: %(codes)s. Use ISO 639 codes such as az, ru, fa.",
                                   codes=", ".join(unknown)))
    if found:
        problems.extend(found)
        return None
    return RegistryRow(
        where=where, organization=cells["organization"], region=cells["region"], shelter=cells["shelter"],
        pool=cells["pool"], admits=admits, min_age=numbers["min_age"], max_age=numbers["max_age"],
        capacity=numbers["capacity"], address=cells.get("address") or None, phone=cells.get("phone") or None,
        languages=languages, status=status, organization_kind=kind)


def _delimiter(text: str) -> str:
    """What separates the cells: a comma, or the semicolon that spreadsheets write where the
    comma is the decimal sign (Azerbaijani and Russian settings among them), or a tab: the
    one that makes the most of the header's names ours."""
    first = text.split("\n", 1)[0]
    known = set(COLUMNS + OPTIONAL)
    return max((",", ";", "\t"), key=lambda sign: sum(name.strip().lower() in known for name in first.split(sign)))


def read_csv(text: str, source: str) -> Registry:
    """Our registry CSV: a header row naming the columns (any order, any case), then one row
    per pool. Rows are numbered as a spreadsheet shows them: the header is row 1."""
    registry = Registry(source)
    text = text.lstrip("\ufeff")
    reader = csv.DictReader(io.StringIO(text), delimiter=_delimiter(text))
    header = [name.strip().lower() for name in (reader.fieldnames or [])]
    missing = [column for column in REQUIRED if column not in header]
    unknown = [name for name in header if name and name not in COLUMNS + OPTIONAL]
    if missing or unknown:
        if missing:
            registry.problems.append(RowProblem("row 1", None, _(
                "The header lacks the columns %(columns)s.", columns=", ".join(missing))))
        if unknown:
            registry.problems.append(RowProblem("row 1", None, _(
                "Unknown columns %(columns)s; the columns are %(expected)s.", columns=", ".join(unknown),
                expected=", ".join(COLUMNS + OPTIONAL))))
        return registry
    reader.fieldnames = header
    for number, values in enumerate(reader, start=2):
        if not any((v or "").strip() for k, v in values.items() if k):
            continue  # a blank line
        if None in values:
            registry.problems.append(RowProblem(f"row {number}", None, _(
                "This row has more cells than the header has columns.")))
            continue
        row = _parse(f"row {number}", values, registry.problems)
        if row is not None:
            registry.rows.append(row)
    return registry


# --- HSDS -----------------------------------------------------------------------------------

def _package_files(path: Path) -> dict[str, str]:
    """The CSVs of a datapackage, by file name, from a directory, its datapackage.json or a zip."""
    if path.suffix.lower() == ".zip":
        try:
            with zipfile.ZipFile(path) as archive:
                return {Path(name).name: archive.read(name).decode("utf-8-sig")
                        for name in archive.namelist() if name.endswith(".csv")}
        except zipfile.BadZipFile as error:  # a ValueError is what the command reports as unreadable
            raise ValueError(str(error)) from None
    folder = path.parent if path.is_file() else path
    return {p.name: p.read_text(encoding="utf-8-sig") for p in folder.glob("*.csv")}


# The columns read_hsds cannot do without, in each table that is there at all.
KEY_COLUMNS = {"organization": ("id",), "location": ("id",), "service": ("id",), "unit": ("id",),
               "taxonomy": ("id",), "taxonomy_term": ("id",), "service_capacity": ("service_id",),
               "service_at_location": ("service_id", "location_id")}


def _file_of(resource: str) -> str:
    return hsds.path_of(resource) if resource in hsds.RESOURCES else f"{resource}es.csv"


def _table(files: dict[str, str], resource: str) -> list[dict]:
    text = files.get(_file_of(resource))
    return list(csv.DictReader(io.StringIO(text))) if text else []


def _lacking_key_columns(files: dict[str, str]) -> list[RowProblem]:
    """A table of the package without a column that links its rows (another publisher's, or
    one cut short): named as the CSV's header problem is, rather than read as empty cells."""
    problems = []
    for resource, columns in KEY_COLUMNS.items():
        text = files.get(_file_of(resource))
        if not text:
            continue
        header = next(csv.reader(io.StringIO(text)), [])
        missing = [column for column in columns if column not in header]
        if missing:
            problems.append(RowProblem(f"{_file_of(resource)} row 1", None, _(
                "The header lacks the columns %(columns)s.", columns=", ".join(missing))))
    return problems


def read_hsds(path: Path) -> Registry:
    """A Tabular Data Package of HSDS 3.x: each service a pool, at the location (shelter) its
    service_at_location names, run by its organization; the pool's label is the service's
    alternate name (else its name), its capacity the `maximum` of its capacity in beds, the
    region and whom it admits the terms of our two taxonomies (see export.py)."""
    registry = Registry(str(path))
    files = _package_files(path)
    if hsds.path_of("service") not in files:
        registry.problems.append(RowProblem(str(path), None, _(
            "No %(file)s here: this is not an HSDS datapackage.", file=hsds.path_of("service"))))
        return registry
    registry.problems.extend(_lacking_key_columns(files))
    if registry.problems:
        return registry
    organizations = {r["id"]: r for r in _table(files, "organization")}
    locations = {r["id"]: r for r in _table(files, "location")}
    terms = {r["id"]: r for r in _table(files, "taxonomy_term")}
    taxonomies = {r["id"]: r.get("name", "") for r in _table(files, "taxonomy")}
    units = {r["id"]: r for r in _table(files, "unit")}
    located = {r["service_id"]: r["location_id"] for r in _table(files, "service_at_location")}
    capacities = {}
    for row in _table(files, "service_capacity"):
        unit = units.get(row.get("unit_id"), {})
        if unit.get("identifier") == hsds.BED_UNIT or unit.get("name", "").lower() in ("bed", "beds"):
            capacities[row["service_id"]] = row
    codes: dict[tuple[str, str], str] = {}
    for attribute in _table(files, "attribute"):
        term = terms.get(attribute.get("taxonomy_term_id"), {})
        taxonomy = term.get("taxonomy") or attribute.get("link_type") or taxonomies.get(term.get("taxonomy_id"), "")
        codes[(attribute.get("link_id"), taxonomy)] = term.get("code") or attribute.get("value", "")
    phones = {}
    for phone in _table(files, "phone"):
        phones.setdefault(phone.get("location_id"), phone.get("number", ""))
    languages: dict[str, list[str]] = {}
    for language in _table(files, "language"):
        if language.get("location_id") and language.get("code"):
            languages.setdefault(language["location_id"], []).append(language["code"])
    addresses = {}
    for address in _table(files, "address"):  # another publisher's addresses.csv
        parts = [address.get(k, "").strip() for k in ("address_1", "address_2", "city")]
        addresses.setdefault(address.get("location_id"), ", ".join(p for p in parts if p))
    table = hsds.path_of("service")
    for number, service in enumerate(_table(files, "service"), start=2):
        where = f"{table} row {number}"
        location = locations.get(located.get(service["id"]), {})
        if not location:
            registry.problems.append(RowProblem(where, "id", _("No service_at_location puts this service at a location.")))
            continue
        organization = organizations.get(service.get("organization_id") or location.get("organization_id"), {})
        capacity = capacities.get(service["id"], {})
        values = {
            "organization": organization.get("name", ""),
            "region": codes.get((location["id"], hsds.REGION_TAXONOMY), ""),
            "shelter": location.get("name", ""),
            "pool": service.get("alternate_name") or service.get("name", ""),
            "admits": codes.get((service["id"], hsds.SEX_TAXONOMY), "any"),
            "min_age": service.get("minimum_age", ""), "max_age": service.get("maximum_age", ""),
            "capacity": capacity.get("maximum", ""),
            "address": addresses.get(location["id"], ""), "phone": phones.get(location["id"], ""),
            "languages": " ".join(languages.get(location["id"], [])),
            "status": hsds.SHELTER_STATUS.get(service.get("status", ""), ""),
        }
        row = _parse(where, values, registry.problems)
        if row is not None:
            registry.rows.append(row)
    return registry


def read(path: Path) -> Registry:
    """A registry from a file: HSDS when it is a datapackage (directory, datapackage.json or
    .zip), else our CSV."""
    if path.is_dir() or path.name == "datapackage.json" or path.suffix.lower() == ".zip":
        return read_hsds(path)
    return read_csv(path.read_text(encoding="utf-8-sig"), str(path))
