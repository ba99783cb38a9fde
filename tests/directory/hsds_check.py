"""Checking an export against HSDS 3.1 as the spec's own tools do: each service in
services.json against the compiled service schema with no property allowed beyond the
spec's (its validate_examples_json_schema.sh sets additionalProperties false everywhere),
and each CSV against the Tabular Data Package's table schemas: the header, required cells,
types and formats, enums, unique ids and foreign keys (what `frictionless validate` checks)."""
import copy
import functools
import csv
import io
import json
import re
import uuid
from datetime import datetime
from pathlib import Path

from jsonschema import Draft202012Validator, FormatChecker

HSDS = Path(__file__).parents[2] / "coordination" / "directory" / "hsds"


def _closed(schema):
    """The schema with additionalProperties false on every object that lists properties."""
    schema = copy.deepcopy(schema)

    def walk(node):
        if isinstance(node, dict):
            if "properties" in node:
                node["additionalProperties"] = False
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)
    walk(schema)
    return schema


@functools.cache
def service_validator() -> Draft202012Validator:
    """Built once per test process: checking the 50,000-line schema itself takes seconds."""
    # The compiled schemas declare no draft; the spec checks them with check-jsonschema,
    # which then takes the latest, 2020-12.
    schema = _closed(json.loads((HSDS / "compiled_service.json").read_text(encoding="utf-8")))
    Draft202012Validator.check_schema(schema)
    return Draft202012Validator(schema, format_checker=FormatChecker())


def json_problems(services: list[dict]) -> list[str]:
    validator = service_validator()
    return [f"service {i}: {'/'.join(map(str, e.absolute_path))}: {e.message}"
            for i, service in enumerate(services) for e in validator.iter_errors(service)]


def _cell_problem(field: dict, value: str) -> str | None:
    kind, fmt = field.get("type", "string"), field.get("format")
    enum = field.get("constraints", {}).get("enum")
    if enum and value not in enum:
        return f"{value!r} not in {enum}"
    try:
        if kind == "number":
            float(value)
        elif kind == "integer":
            int(value)
        elif kind == "datetime":
            if not re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)", value):
                return f"{value!r} is not an ISO 8601 date-time"
            datetime.fromisoformat(value.replace("Z", "+00:00"))
        elif kind == "date":
            datetime.strptime(value, "%Y-%m-%d")
        elif kind == "string" and fmt == "uuid":
            uuid.UUID(value)
    except ValueError:
        return f"{value!r} is not a {fmt or kind}"
    return None


def table_problems(folder: Path) -> list[str]:
    """Every resource of the package's datapackage.json against its CSV."""
    descriptor = json.loads((folder / "datapackage.json").read_text(encoding="utf-8"))
    problems, ids = [], {}
    tables = {}
    for resource in descriptor["resources"]:
        path = folder / resource["path"]
        if not path.exists():
            problems.append(f"{resource['path']}: missing")
            continue
        reader = csv.DictReader(io.StringIO(path.read_text(encoding="utf-8")))
        fields = resource["schema"]["fields"]
        if reader.fieldnames != [f["name"] for f in fields]:
            problems.append(f"{resource['path']}: header {reader.fieldnames} is not {[f['name'] for f in fields]}")
            continue
        rows = tables[resource["name"]] = list(reader)
        for number, row in enumerate(rows, start=2):
            for f in fields:
                value = row[f["name"]]
                if value == "":
                    if f.get("constraints", {}).get("required"):
                        problems.append(f"{resource['path']} row {number}: {f['name']} is required")
                    continue
                problem = _cell_problem(f, value)
                if problem:
                    problems.append(f"{resource['path']} row {number}: {f['name']}: {problem}")
        for f in fields:
            if f.get("constraints", {}).get("unique"):
                values = [r[f["name"]] for r in rows if r[f["name"]]]
                if len(values) != len(set(values)):
                    problems.append(f"{resource['path']}: {f['name']} values are not unique")
        key = resource["schema"].get("primaryKey")
        if key:
            ids[resource["name"]] = {r[key] for r in rows}
    for resource in descriptor["resources"]:
        for foreign in resource["schema"].get("foreignKeys", []):
            target = ids.get(foreign["reference"]["resource"], set())
            for number, row in enumerate(tables.get(resource["name"], []), start=2):
                value = row[foreign["fields"]]
                if value and value not in target:
                    problems.append(f"{resource['path']} row {number}: {foreign['fields']} {value} names no "
                                    f"{foreign['reference']['resource']}")
    return problems
