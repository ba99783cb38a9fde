"""import-shelters: a registry of shelters and pools, from our CSV or an HSDS datapackage,
loaded whole or not at all, through the admin pages' own rules, with a readable report."""
import csv
import io
import time
import zipfile

import pytest
from sqlalchemy import func, select

from coordination.audit.models import AuditEvent
from coordination.beds.models import BedPool, Shelter
from coordination.directory.export import build_package
from coordination.extensions import db

HEADER = ["organization", "region", "shelter", "address", "phone", "languages", "pool", "admits",
          "min_age", "max_age", "capacity"]


def registry_csv(rows) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(HEADER)
    writer.writerows(rows)
    return buffer.getvalue()


def national_registry(organizations, regions, shelters=500, capacity=lambda i, j: 4 + j):
    """500 shelters with two or three pools each (1,250 pools) over the regions."""
    rows = []
    for i in range(shelters):
        for j, (label, admits, low, high) in enumerate(
                [("Girls 12–17", "female", 12, 17), ("Boys 12–17", "male", 12, 17), ("Under 12", "any", 0, 11)]
                [: 3 if i % 2 else 2]):
            rows.append([organizations[i % len(organizations)].name, regions[i % len(regions)].code,
                         f"Shelter {i:03d}", f"{i} Quiet Street", f"+994 12 {i:03d} 00 00", "az ru",
                         label, admits, low, high, capacity(i, j)])
    return rows


def count(model):
    return db.session.scalar(select(func.count()).select_from(model))


@pytest.fixture
def admin(make):
    return make.user("admin", email="registry-admin@example.org")


@pytest.fixture
def load(app, admin, tmp_path):
    runner = app.test_cli_runner()

    def run(text_or_path, *flags):
        path = text_or_path
        if isinstance(text_or_path, str):
            path = tmp_path / f"registry-{time.monotonic_ns()}.csv"
            path.write_text(text_or_path, encoding="utf-8")
        result = runner.invoke(args=["import-shelters", str(path), "--as", admin.email, *flags])
        db.session.expire_all()
        return result
    return run


@pytest.fixture
def country(make):
    regions = [make.region() for _ in range(14)]
    organizations = [make.organization(region=regions[i]) for i in range(5)]
    return regions, organizations


def test_a_national_registry_loads_with_a_readable_report_and_again_changes_nothing(load, country, capsys):
    regions, organizations = country
    text = registry_csv(national_registry(organizations, regions))

    started = time.perf_counter()
    dry = load(text, "--dry-run")
    dry_took = time.perf_counter() - started
    assert dry.exit_code == 0, dry.output
    assert "Dry run: nothing was changed." in dry.output
    assert "Shelters: 500 to add, 0 to update, 0 unchanged." in dry.output
    assert "Pools: 1250 to add, 0 to update, 0 unchanged." in dry.output
    assert "+ shelter Shelter 007 (" in dry.output
    assert count(Shelter) == 0 and count(BedPool) == 0

    started = time.perf_counter()
    real = load(text)
    took = time.perf_counter() - started
    assert real.exit_code == 0, real.output
    assert "Shelters: 500 added, 0 updated, 0 unchanged." in real.output
    assert "Pools: 1250 added, 0 updated, 0 unchanged." in real.output
    assert count(Shelter) == 500 and count(BedPool) == 1250

    again = load(text)
    assert again.exit_code == 0, again.output
    assert "Shelters: 0 added, 0 updated, 500 unchanged." in again.output
    assert "Pools: 0 added, 0 updated, 1250 unchanged." in again.output
    assert "+" not in again.output.split("unchanged.")[-1]  # nothing listed as added or changed
    with capsys.disabled():
        print(f"\n[benchmark] 500 shelters, 1,250 pools: dry run {dry_took:.1f} s, load {took:.1f} s, "
              f"unchanged re-run {time.perf_counter() - started - took:.1f} s")


def test_a_changed_registry_lists_exactly_what_changes(load, country):
    regions, organizations = country
    rows = national_registry(organizations, regions, shelters=20)
    assert load(registry_csv(rows)).exit_code == 0
    rows[0][10] = 9  # Shelter 000's girls: capacity 4 → 9
    rows[1][7] = "any"  # its boys now admit anyone
    rows[0][4] = rows[1][4] = "+994 12 999 99 99"  # its phone, on both its rows
    rows.append(rows[0][:6] + ["Mothers", "female", 14, 17, 3])  # a new pool

    result = load(registry_csv(rows), "--dry-run")

    assert result.exit_code == 0, result.output
    assert "Shelters: 0 to add, 1 to update, 19 unchanged." in result.output
    assert "Pools: 1 to add, 2 to update, 48 unchanged." in result.output
    assert "~ shelter Shelter 000 (" in result.output
    assert "phone '+994 12 000 00 00' → '+994 12 999 99 99'" in result.output
    assert "~ pool Shelter 000 / Girls 12–17 (row 2): capacity 4 → 9" in result.output
    assert "~ pool Shelter 000 / Boys 12–17 (row 3): admits_sex 'male' → 'any'" in result.output
    assert "+ pool Shelter 000 / Mothers (row 52)" in result.output
    assert db.session.scalar(select(BedPool.capacity).where(BedPool.label == "Girls 12–17")
                             .join(Shelter).where(Shelter.name == "Shelter 000")) == 4  # a dry run

    assert load(registry_csv(rows)).exit_code == 0
    assert db.session.scalar(select(BedPool.capacity).where(BedPool.label == "Girls 12–17")
                             .join(Shelter).where(Shelter.name == "Shelter 000")) == 9


def test_a_registry_with_bad_rows_changes_nothing_and_names_each_error(load, country):
    regions, organizations = country
    rows = national_registry(organizations, regions, shelters=10)
    rows[2][10] = "ten"  # row 4
    rows[4][1] = "XX"  # row 6: no such region
    rows[5][0] = "Nobody's Shelters"  # row 7: no such organization
    rows[6][7] = "girls"  # row 8
    rows[7][8], rows[7][9] = 15, 9  # row 9: youngest above oldest
    rows[8][5] = "az klingon"  # row 10
    rows.append(rows[0])  # row 27: the same pool twice

    result = load(registry_csv(rows))

    assert result.exit_code == 1
    assert count(Shelter) == 0 and count(BedPool) == 0
    assert count(AuditEvent) == 0
    output = result.output
    assert "7 problem(s); nothing was changed:" in output
    assert "row 4, column capacity: “ten” is not a whole number; expected one such as 12." in output
    assert "row 6, column region: No region has the code “XX”" in output
    assert "row 7, column organization: No organization called “Nobody's Shelters” is registered" in output
    assert "row 8, column admits: “girls” is not one of female, male, any." in output
    assert "row 9: The youngest age (15) cannot be above the oldest (9)." in output
    assert "row 10, column languages: Not language codes on the list: klingon." in output
    assert "row 27, column pool: The same pool is already in row 2." in output


def test_capacity_never_drops_below_the_beds_in_use(load, make, country):
    regions, organizations = country
    shelter = make.shelter(organization=organizations[0], region=regions[0], name="Busy House")
    make.pool(shelter=shelter, label="Girls", capacity=5, occupied=3, admits_sex="female", min_age=12, max_age=17)
    row = [organizations[0].name, regions[0].code, "Busy House", "", "", "", "Girls", "female", 12, 17, 2]

    result = load(registry_csv([row]))

    assert result.exit_code == 1
    assert ("row 2, column capacity: 3 beds are in use (3 occupied, 0 out of service, 0 held for referrals), "
            "so the capacity cannot go below 3. Nothing was changed.") in result.output
    assert db.session.scalar(select(BedPool.capacity)) == 5


def test_the_audit_trail_says_who_loaded_the_registry(load, admin, country):
    regions, organizations = country
    assert load(registry_csv(national_registry(organizations, regions, shelters=2))).exit_code == 0

    events = db.session.scalars(select(AuditEvent).order_by(AuditEvent.id)).all()
    assert {e.action for e in events} == {"shelter.create", "pool.create", "directory.import"}
    assert all(e.user_id == admin.id and e.client_address == "import-shelters" for e in events)
    assert events[-1].details["pool"] == {"add": 5, "update": 0, "unchanged": 0}
    assert events[-1].object_id.startswith("registry-") and events[-1].details["source"].endswith(".csv")


def test_missing_organizations_are_created_only_when_asked(load, country):
    regions, _ = country
    row = ["New Hope", regions[0].code, "Hope House", "", "", "", "Girls", "female", 12, 17, 4]

    refused = load(registry_csv([row]))
    created = load(registry_csv([row]), "--create-organizations")

    assert refused.exit_code == 1 and "No organization called “New Hope”" in refused.output
    assert created.exit_code == 0, created.output
    assert "Organizations: 1 added." in created.output
    assert db.session.scalar(select(Shelter.name)) == "Hope House"


def test_only_an_active_admin_may_load(app, make, tmp_path):
    caseworker = make.user("caseworker")
    path = tmp_path / "r.csv"
    path.write_text(registry_csv([]), encoding="utf-8")

    result = app.test_cli_runner().invoke(args=["import-shelters", str(path), "--as", caseworker.email])

    assert result.exit_code != 0 and "is not an active admin's account" in result.output


def test_a_header_without_the_required_columns_is_refused(load):
    result = load("organization,shelter\nA,B\n")

    assert result.exit_code == 1
    assert "row 1: The header lacks the columns region, pool, admits, min_age, max_age, capacity." in result.output


def test_an_hsds_export_loads_into_an_empty_database_and_exports_the_same(app, load, make, country, tmp_path):
    regions, organizations = country
    shelter = make.shelter(organization=organizations[1], region=regions[3], name="Round House",
                           phone="+994 50 123 45 67", languages=["az", "fa"], status="suspended")
    make.pool(shelter=shelter, label="Girls 12–17", admits_sex="female", min_age=12, max_age=17, capacity=6)
    make.pool(shelter=shelter, label="Little ones", admits_sex="any", min_age=0, max_age=5, capacity=2)
    before = build_package()
    before.write(tmp_path / "hsds.zip")
    db.session.execute(BedPool.__table__.delete())
    db.session.execute(Shelter.__table__.delete())
    db.session.commit()

    result = load(tmp_path / "hsds.zip")

    assert result.exit_code == 0, result.output
    assert "Shelters: 1 added" in result.output and "Pools: 2 added" in result.output
    after = build_package()

    def comparable(package):
        return sorted((s["name"], s["alternate_name"], s["status"], s["minimum_age"], s["maximum_age"],
                       s["attributes"][0]["value"], s["service_at_locations"][0]["location"]["name"],
                       s["service_at_locations"][0]["location"]["attributes"][0]["value"],
                       s["service_at_locations"][0]["location"]["phones"][0]["number"],
                       tuple(lang["code"] for lang in s["service_at_locations"][0]["location"]["languages"]),
                       s["capacities"][0]["maximum"], s["capacities"][0]["available"],
                       s["organization"]["name"]) for s in package.services)
    assert comparable(after) == comparable(before)
    assert load(tmp_path / "hsds.zip").output.count("unchanged") == 2  # and again: nothing to change


def test_a_file_named_zip_that_is_not_one_is_said_to_be_unreadable(load, tmp_path):
    path = tmp_path / "registry.zip"
    path.write_bytes(b"organization,region\n")

    result = load(path)

    assert result.exit_code == 1
    assert isinstance(result.exception, SystemExit), result.exception  # a message, not a traceback
    assert "registry.zip cannot be read: File is not a zip file" in result.output


@pytest.mark.parametrize("tables, problem", [
    ({"services.csv": "name\nBeds\n"}, "services.csv row 1: The header lacks the columns id."),
    ({"services.csv": "id,name\n1,Beds\n", "service_at_location.csv": "service,location\n1,2\n"},
     "service_at_location.csv row 1: The header lacks the columns service_id, location_id."),
    ({"services.csv": "id,name\n1,Beds\n", "service_at_location.csv": "service_id,location_id\n1,2\n",
      "locations.csv": "name\nRound House\n"}, "locations.csv row 1: The header lacks the columns id."),
])
def test_a_datapackage_whose_tables_lack_their_key_columns_names_them(load, tmp_path, tables, problem):
    """Another publisher's package, or one cut short: each table without the column that links
    its rows is named, rather than the command failing on the first row."""
    path = tmp_path / "hsds.zip"
    with zipfile.ZipFile(path, "w") as archive:
        for name, text in tables.items():
            archive.writestr(name, text)

    result = load(path, "--dry-run")

    assert result.exit_code == 1
    assert isinstance(result.exception, SystemExit), result.exception
    assert problem in result.output


@pytest.mark.parametrize("sign", [";", "\t"])
def test_a_registry_saved_by_a_spreadsheet_with_semicolons_or_tabs_loads(load, country, tmp_path, sign):
    """A spreadsheet set to Azerbaijani or Russian, where the comma is the decimal sign, saves
    "CSV" with semicolons (and a BOM, and Windows line ends): a ministry's file as it comes."""
    regions, organizations = country
    rows = [["organization", "region", "shelter", "pool", "admits", "min_age", "max_age", "capacity"],
            [organizations[0].name, regions[0].code, "Round House", "Girls 12–17", "female", "12", "17", "6"]]
    path = tmp_path / "registry.csv"
    path.write_bytes(("\ufeff" + "".join(sign.join(row) + "\r\n" for row in rows)).encode("utf-8"))

    result = load(path)

    assert result.exit_code == 0, result.output
    pool = db.session.scalars(select(BedPool)).one()
    assert (pool.shelter.name, pool.label, pool.capacity) == ("Round House", "Girls 12–17", 6)
