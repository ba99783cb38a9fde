"""What HSDS 3.1 itself says: the spec's Tabular Data Package descriptor, vendored in `hsds/`
(see hsds/VERSION), the tables this app publishes, and the stable ids of its records.

HSDS wants every id to be a UUID. Ours are derived (UUID 5) from a fixed namespace and the
record's kind and id in this database, so an export made tomorrow names the same shelter
with the same id, and a directory that keeps its own copy can tell an update from a new
record."""
import copy
import functools
import json
import uuid
from pathlib import Path

HERE = Path(__file__).parent / "hsds"

# The namespace of every id this app publishes. Fixed, never configurable: a changed
# namespace would give every record a new id in the directories that copied them.
NAMESPACE = uuid.UUID("5d0e4a33-8c1f-5b6e-9a43-0c7a1e2f6b10")

# The tables published, by the spec's resource names, in the order they are written.
RESOURCES = ("organization", "location", "service", "service_at_location", "service_capacity", "unit",
             "phone", "language", "taxonomy", "taxonomy_term", "attribute")

# Taxonomies of our own for the two facts HSDS has no field for: the region a shelter is in,
# and whom a bed pool admits. Their terms' codes are the app's own codes.
REGION_TAXONOMY = "coordination-region"
SEX_TAXONOMY = "coordination-admits-sex"
BED_UNIT = "bed"

# Shelter status in the app → service status in HSDS, and back.
SERVICE_STATUS = {"open": "active", "suspended": "temporarily closed", "closed": "inactive"}
SHELTER_STATUS = {hsds: ours for ours, hsds in SERVICE_STATUS.items()} | {"defunct": "closed"}


def stable_id(kind: str, *key) -> str:
    """The HSDS id of one of our records: the same for the same record in every export."""
    return str(uuid.uuid5(NAMESPACE, "/".join([kind, *map(str, key)])))


def _load(name: str) -> dict:
    return json.loads((HERE / name).read_text(encoding="utf-8"))


def _field(name: str, prop: dict, required: bool) -> dict:
    """A table schema field from a property of the canonical JSON schema, as the spec's own
    descriptor writes them (a date-time string is a `datetime` column)."""
    kind, fmt = prop.get("type"), prop.get("format")
    field = {"name": name, "type": kind, "title": prop.get("title", name), "description": prop.get("description", "")}
    if kind == "string" and fmt == "date-time":
        field["type"] = "datetime"
    elif fmt:
        field["format"] = fmt
    field["constraints"] = {"required": required, "unique": name == "id"}
    return field


def _completed(resource: dict) -> dict:
    """The 3.1 descriptor in the vendored commit lists only the link columns of
    `service_capacity` and none of `unit` (the tool that compiles it skipped the new
    schemas' other fields); complete them from the canonical schemas, in their order."""
    schema = _load(f"{resource['name']}.json")
    required = set(schema.get("required", [])) | set(schema.get("tabular_required", []))
    resource["schema"]["fields"] = [
        _field(name, prop, name in required) for name, prop in schema["properties"].items()
        if "$ref" not in prop and prop.get("type") != "array"]
    return resource


@functools.lru_cache(maxsize=1)
def descriptor() -> dict:
    """The spec's datapackage.json cut down to the tables we publish, as the spec's own
    examples/make_datapackages.py does it: only those resources, and only foreign keys to
    them (a descriptor naming absent files stops the validator)."""
    package = _load("datapackage.json")
    resources = {r["name"]: r for r in package["resources"]}
    kept = []
    for name in RESOURCES:
        resource = copy.deepcopy(resources[name])
        if name in ("service_capacity", "unit"):
            resource = _completed(resource)
        keys = [key for key in resource["schema"].get("foreignKeys", [])
                if key["reference"]["resource"] in RESOURCES]
        resource["schema"].pop("foreignKeys", None)
        if keys:
            resource["schema"]["foreignKeys"] = keys
        kept.append(resource)
    package["resources"] = kept
    return package


def columns(resource: str) -> list[str]:
    """The columns of a table, in the descriptor's order: the CSV's header."""
    return [field["name"] for field in resource_of(resource)["schema"]["fields"]]


def resource_of(name: str) -> dict:
    return next(r for r in descriptor()["resources"] if r["name"] == name)


def path_of(name: str) -> str:
    return resource_of(name)["path"]
