"""The HSDS 3.1 export: it validates against the spec's schemas, keeps its ids, and never
carries a child's data or a shelter's address."""
import json
import zipfile

import pytest

from coordination.directory.export import build_package
from coordination.directory.hsds import stable_id

from .hsds_check import json_problems, table_problems


@pytest.fixture
def world(make):
    organization = make.organization(name="Safe Haven")
    shelter = make.shelter(organization=organization, name="Yasamal House", address="12 Hidden Lane, Baku",
                           phone="+994 12 555 01 02", languages=["az", "ru", "fa"])
    girls = make.pool(shelter=shelter, label="Girls 12–17", admits_sex="female", min_age=12, max_age=17,
                      capacity=6, occupied=2)
    boys = make.pool(shelter=shelter, label="Boys 6–11", admits_sex="male", min_age=6, max_age=11, capacity=4,
                     last_confirmed_at=None)
    referral = make.referral(pool=girls, status="submitted")
    return {"shelter": shelter, "girls": girls, "boys": boys, "referral": referral}


def test_the_export_validates_against_the_hsds_schemas(world, tmp_path):
    package = build_package()
    package.write(tmp_path)

    assert json_problems(package.services) == []
    assert table_problems(tmp_path) == []
    assert len(package.services) == 2


def test_capacity_counts_free_beds_and_when_they_were_confirmed(world):
    package = build_package()
    capacity = {c["service_id"]: c for c in package.tables["service_capacity"]}
    girls = capacity[stable_id("service", world["girls"].id)]

    assert (girls["available"], girls["maximum"]) == (3, 6)  # 6 beds, 2 occupied, 1 held for the referral
    assert girls["updated"] == world["girls"].last_confirmed_at.strftime("%Y-%m-%dT%H:%M:%SZ")
    # Never confirmed and no history (made straight in the database): HSDS requires the time,
    # so there is no count to give; the pool is still listed as a service.
    assert stable_id("service", world["boys"].id) not in capacity
    assert stable_id("service", world["boys"].id) in {s["id"] for s in package.tables["service"]}


def test_no_child_data_and_no_address_leaves_the_app(world, tmp_path):
    package = build_package()
    package.write(tmp_path)
    everything = "".join(p.read_text(encoding="utf-8") for p in tmp_path.iterdir())
    child = world["referral"].child

    for secret in (child.given_name + " " + child.family_name, child.family_name, child.case_reference,
                   "12 Hidden Lane", "Hidden Lane"):
        assert secret not in everything
    assert "address" not in package.tables
    # What every signed-in role sees on the shelter's page is there.
    assert "+994 12 555 01 02" in everything
    assert {row["code"] for row in package.tables["language"]} == {"az", "ru", "fa"}


def test_ids_are_uuids_that_stay_the_same_in_every_export(world):
    first, second = build_package(), build_package()

    assert [s["id"] for s in first.services] == [s["id"] for s in second.services]
    assert first.tables["location"][0]["id"] == stable_id("location", world["shelter"].id)


@pytest.mark.parametrize("breakage", [
    lambda s: s.update(status="open"),  # not one of HSDS's statuses
    lambda s: s.pop("name"),  # required
    lambda s: s["capacities"][0].update(updated="yesterday"),  # not a date-time
    lambda s: s["capacities"][0]["unit"].update(sex="female"),  # no such property
    lambda s: s.update(id="pool-1"),  # not a UUID
])
def test_the_validator_catches_a_broken_service(world, breakage):
    services = build_package().services
    breakage(services[0])

    assert json_problems(services)


@pytest.mark.parametrize("table, column, value", [
    ("service_capacity.csv", "updated", ""),  # required
    ("services.csv", "status", "open"),  # not in the enum
    ("service_capacity.csv", "available", "some"),  # not a number
    ("service_at_location.csv", "location_id", "11111111-1111-5111-8111-111111111111"),  # names no location
])
def test_the_table_check_catches_a_broken_row(world, tmp_path, table, column, value):
    build_package().write(tmp_path)
    path = tmp_path / table
    lines = path.read_text(encoding="utf-8").splitlines()
    header = lines[0].split(",")
    cells = lines[1].split(",")
    cells[header.index(column)] = value
    path.write_text("\r\n".join([lines[0], ",".join(cells), *lines[2:]]) + "\r\n", encoding="utf-8")

    assert table_problems(tmp_path)


def test_the_command_writes_a_zip_or_a_directory(world, app, tmp_path):
    runner = app.test_cli_runner()

    zipped = runner.invoke(args=["export-hsds", str(tmp_path / "hsds.zip")])
    folder = runner.invoke(args=["export-hsds", str(tmp_path / "hsds")])

    assert zipped.exit_code == 0 and folder.exit_code == 0, zipped.output + folder.output
    assert "1 shelter(s), 2 bed pool(s)" in zipped.output
    with zipfile.ZipFile(tmp_path / "hsds.zip") as archive:
        names = set(archive.namelist())
        services = json.loads(archive.read("services.json"))
    assert names == {p.name for p in (tmp_path / "hsds").iterdir()}
    assert {"datapackage.json", "services.csv", "service_capacity.csv", "units.csv"} <= names
    assert json_problems(services) == []


def test_the_vendored_spec_files_are_the_ones_recorded():
    import hashlib
    import re

    from .hsds_check import HSDS

    recorded = dict(re.findall(r"^(\S+)\s+\S+\s+([0-9a-f]{64})$", (HSDS / "VERSION").read_text(), re.M))
    assert set(recorded) == {p.name for p in HSDS.iterdir() if p.name != "VERSION"}
    for name, digest in recorded.items():
        assert hashlib.sha256((HSDS / name).read_bytes()).hexdigest() == digest, name
