"""How the list pages and the work queues grow from 1,000 to 200,000 referrals. Prints
numbers; asserts nothing.

    TEST_DATABASE_URL=postgresql+psycopg://postgres@127.0.0.1:5432/test .venv/bin/python -m tests.benchmarks.lists
    .venv/bin/python -m tests.benchmarks.lists            # SQLite, in a temporary file

Seeds (in a schema of its own on PostgreSQL) 14 regions, 60 caseworking organizations with
one caseworker each, 200 shelters with 500 pools, and then, one child per referral, first
1,000 referrals and then 199,000 more (older history: the same "now", more past), with
the notifications they sent. At each size it asks for the pages a caseworker, the staff of
one organization's shelters and a guardianship officer read every day: the home page and
its work queue alone (the fragment its refresh asks for), /referrals unfiltered, filtered
and its next page (the pager's own link), /children likewise, and /notifications; RUNS
times each through the app. It prints the median time and the SQL statements of each, the
ratio of the medians at 200,000 to those at 1,000, and the ratio of the fastest of each (less
swayed by other work on a busy machine). The aim: no page more than 2x.
"""
import argparse
import html
import os
import re
import shutil
import statistics
import sys
import tempfile
import time
from datetime import datetime, timedelta, timezone

from flask_migrate import upgrade
from sqlalchemy import event, insert, select, text

from coordination import clock
from coordination.accounts.models import Organization, Region, User
from coordination.beds.models import BedPool, Shelter
from coordination.extensions import db
from coordination.notifications.models import Notification
from coordination.referrals.models import Child, Referral

from ..conftest import PASSWORD, Client, _drop_schema, _own_schema, make_app

RUNS = 11
SIZES = (1_000, 200_000)
REGIONS, ORGANIZATIONS, SHELTERS = 14, 60, 200
NOW = datetime(2026, 12, 2, 12, 0, tzinfo=timezone.utc)
STEP = timedelta(minutes=5)  # referral g was made g * STEP before NOW: 200,000 span almost two years
BATCH = 10_000

# Of every 200 referrals, how many are in each status (as tests/benchmarks/reports.py).
STATUS_OF = ([("discharged", 80), ("declined", 30), ("rejected", 10), ("withdrawn", 20), ("expired", 20),
              ("placed", 6), ("submitted", 2), ("accepted", 1), ("approved", 1), ("draft", 30)])
STATUS_BY_REMAINDER = [status for status, share in STATUS_OF for _ in range(share)]
HOLDING = ("submitted", "accepted", "approved")
ARRIVED, ARRIVAL = ("placed", "discharged"), timedelta(hours=3)  # their children reached a bed, 3 hours in


def seed_people_and_places() -> dict[str, User]:
    """Regions, organizations, shelters and pools, and the three readers: small, so through the ORM.
    The shelter staff's organization runs shelters 0, 60, 120 and 180 (one in fifty of the
    referrals go there); the guardianship officer's region is region 0 (one in fourteen)."""
    regions = [Region(code=f"LR{i:02d}", name=f"List region {i:02d}") for i in range(REGIONS)]
    ngos = [Organization(name=f"List NGO {i:03d}", kind="ngo", region=regions[i % REGIONS])
            for i in range(ORGANIZATIONS)]
    guardians = Organization(name="List guardianship body", kind="state", region=regions[0])
    db.session.add_all(regions + ngos + [guardians])
    caseworkers = [User(email=f"caseworker{i:03d}@lists.example", name=f"List Caseworker {i:03d}",
                        role="caseworker", organization=org) for i, org in enumerate(ngos)]
    readers = {
        "caseworker": caseworkers[0],
        "shelter_staff": User(email="staff@lists.example", name="List Staff", role="shelter_staff",
                              organization=ngos[0]),
        "guardianship": User(email="guardian@lists.example", name="List Guardian", role="guardianship",
                             organization=guardians),
    }
    for user in caseworkers + [readers["shelter_staff"], readers["guardianship"]]:
        user.set_password(PASSWORD)
    db.session.add_all(caseworkers + [readers["shelter_staff"], readers["guardianship"]])
    for i in range(SHELTERS):
        shelter = Shelter(organization=ngos[i % ORGANIZATIONS], region=regions[i % REGIONS],
                          name=f"List shelter {i:03d}", phone=f"+994 12 555 {i:04d}", languages=["az"], services=[])
        db.session.add(shelter)
        kinds = [("Girls", "female", 0, 17), ("Boys", "male", 0, 17)] + ([("Young children", "any", 0, 5)]
                                                                         if i % 2 else [])
        for label, sex, low, high in kinds:
            db.session.add(BedPool(shelter=shelter, label=label, admits_sex=sex, min_age=low, max_age=high,
                                   capacity=40, occupied=i % 7, out_of_service=0, held=0, version=1,
                                   last_confirmed_at=NOW - timedelta(hours=i % 12)))
    db.session.commit()
    return readers


def seed_referrals(start: int, end: int, readers: dict[str, User]) -> None:
    """Referrals start+1 .. end, each with its own child and the notifications it sent: to
    its caseworker, and to the bench's shelter staff and guardian where the referral is theirs."""
    caseworkers = db.session.execute(select(User.id, User.organization_id).where(User.role == "caseworker")
                                     .order_by(User.id)).all()
    regions = db.session.scalars(select(Region.id).order_by(Region.id)).all()
    pools = db.session.execute(select(BedPool.id, Shelter.organization_id, Shelter.region_id)
                               .join(BedPool.shelter).order_by(BedPool.id)).all()
    staff, guardian = readers["shelter_staff"], readers["guardianship"]
    for low in range(start, end, BATCH):
        numbers = range(low + 1, min(low + BATCH, end) + 1)
        children, referrals = [], []
        for g in numbers:
            caseworker_id, organization_id = caseworkers[g % ORGANIZATIONS]
            at = NOW - g * STEP
            arrived = STATUS_BY_REMAINDER[g % 200] in ARRIVED
            children.append(dict(
                case_reference=f"UC-L-{g:06d}", organization_id=organization_id, registered_by_id=caseworker_id,
                given_name=f"Given{g}", family_name=f"Family{g}", name_key=f"given{g} family{g}",
                sex="female" if g % 2 else "male", estimated_age=g % 18, nationality="", languages=["az"],
                languages_unmapped=[], needs=[], region_id=regions[g % REGIONS], consent_given_by="aunt",
                consent_given_at=at, child_assent=True, created_at=at,
                reached_bed_at=at + ARRIVAL if arrived else None))
        child_ids = db.session.scalars(insert(Child).returning(Child.id, sort_by_parameter_order=True),
                                       children).all()
        for g, child_id in zip(numbers, child_ids):
            caseworker_id, organization_id = caseworkers[g % ORGANIZATIONS]
            status = STATUS_BY_REMAINDER[g % 200]
            at = NOW - g * STEP
            referrals.append(dict(
                child_id=child_id, pool_id=pools[(g * 7919) % len(pools)].id,
                referring_organization_id=organization_id, caseworker_id=caseworker_id, status=status,
                urgency="emergency" if g % 20 == 0 else "urgent" if g % 5 == 0 else "routine", note="",
                holds_bed=status in HOLDING, hold_until=NOW + (g % 96) * timedelta(hours=1) if status in HOLDING
                else None, created_at=at, status_changed_at=at + (g % 10) * timedelta(hours=1),
                submitted_at=at + timedelta(minutes=30) if status != "draft" else None,
                accepted_at=at + timedelta(hours=2) if status in ("accepted", "approved", "placed", "discharged")
                else None, arrived_at=at + ARRIVAL if status in ARRIVED else None,
                reason_code="", reason_text=""))
        referral_ids = db.session.scalars(insert(Referral).returning(Referral.id, sort_by_parameter_order=True),
                                          referrals).all()
        notifications = []
        for g, row, referral_id in zip(numbers, referrals, referral_ids):
            _id, shelter_organization_id, shelter_region_id = pools[(g * 7919) % len(pools)]
            key = f"referral.{row['status']}"
            told = [row["caseworker_id"]] if row["status"] != "draft" else []
            if row["status"] != "draft" and shelter_organization_id == staff.organization_id:
                told.append(staff.id)
            if row["status"] not in ("draft", "submitted") and shelter_region_id == guardian.region_id:
                told.append(guardian.id)
            notifications += [dict(user_id=user_id, referral_id=referral_id, text_key=key,
                                   created_at=row["status_changed_at"],
                                   read_at=row["status_changed_at"] if g > 300 else None) for user_id in told]
        if notifications:
            db.session.execute(insert(Notification), notifications)
        db.session.commit()
    if db.engine.dialect.name == "postgresql":
        with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            connection.execute(text("VACUUM ANALYZE"))
    else:
        db.session.execute(text("ANALYZE"))
        db.session.commit()


def pages_of(role: str, region_id: int) -> list[str]:
    """What each reader opens. "next:" means: follow the pager's rel="next" link of that page."""
    common = ["/", "/ (queue)", "/referrals", "next:/referrals", "/referrals?status=submitted",
              "/referrals?urgency=emergency", f"/referrals?region={region_id}", "/notifications"]
    if role == "caseworker":
        return common + ["/referrals?status=draft", "/children", "next:/children", "/children?status=placed",
                         f"/children?region={region_id}"]
    if role == "guardianship":
        return common + ["/referrals?status=accepted"]
    return common


NEXT = re.compile(r'<nav class="pager".*?<a href="([^"]+)" rel="next"', re.S)


def time_pages(app, readers: dict[str, User], statements: list,
               explain: bool = False) -> dict[tuple[str, str], tuple[float, int, int]]:
    """(role, page) → (median ms, fastest ms, status, statements) over RUNS requests after one warm-up."""
    results = {}
    for role, user in readers.items():
        client = Client(app)
        client.login(user.email)
        region_id = db.session.scalars(select(Region.id).order_by(Region.id)).first()
        for page in pages_of(role, region_id):
            url, htmx = page, False
            if page == "/ (queue)":
                url, htmx = "/", True
            elif page.startswith("next:"):
                first = client.get(page[5:]).get_data(as_text=True)
                found = NEXT.search(first)
                if not found:
                    results[(role, page)] = (float("nan"), float("nan"), 0, 0)
                    continue
                url = html.unescape(found.group(1))
            client.get(url, htmx=htmx)  # warm-up: a first visit may remember things
            timings = []
            for _ in range(RUNS):
                statements.clear()
                started = time.perf_counter()
                response = client.get(url, htmx=htmx)
                response.get_data()
                timings.append((time.perf_counter() - started) * 1000)
            results[(role, page)] = (statistics.median(timings), min(timings), response.status_code, len(statements))
            if explain:
                print_plans(role, page, list(statements))
    return results


def print_plans(role: str, page: str, statements: list) -> None:
    """How the database reads each of a page's queries of referrals, children and
    notifications: the plan's scans, sorts and limits, one line each."""
    print(f"\n{role} {page}", flush=True)
    with db.engine.connect() as connection:
        for statement, parameters in statements:
            if not statement.lstrip().upper().startswith("SELECT") or not any(
                    f"FROM {table}" in statement for table in ("referral", "child", "notification")):
                continue
            if connection.dialect.name == "sqlite":  # SCAN (all rows), SEARCH (by index), TEMP B-TREE (a sort)
                plan = [row[-1] for row in connection.exec_driver_sql(f"EXPLAIN QUERY PLAN {statement}", parameters)]
            else:
                plan = connection.exec_driver_sql(f"EXPLAIN {statement}", parameters).scalars().all()
            steps = [line.strip() for line in plan if any(word in line for word in (
                "Scan", "Sort", "Limit", "SCAN", "SEARCH", "B-TREE"))]
            print("   " + " | ".join(steps)[:400], flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default=",".join(map(str, SIZES)),
                        help="the two numbers of referrals to compare (default %(default)s)")
    parser.add_argument("--explain", action="store_true",
                        help="print how the database reads each page's queries at the larger size")
    arguments = parser.parse_args()
    sizes, explain = tuple(int(n) for n in arguments.sizes.split(",")), arguments.explain
    base = os.environ.get("TEST_DATABASE_URL", "")
    scratch = None
    if not base:
        scratch = tempfile.mkdtemp(prefix="lists-benchmark-")
        base = f"sqlite:///{scratch}/lists.sqlite3"
    url, schema = _own_schema(base)
    clock.freeze(NOW)
    app = make_app(url)
    try:
        with app.app_context():
            upgrade()
            statements = []
            event.listen(db.engine, "before_cursor_execute",
                         lambda _conn, _cursor, statement, parameters, *_: statements.append((statement, parameters)))
            print(f"database: {db.engine.dialect.name}", flush=True)
            readers = seed_people_and_places()
            reader_ids = {role: user.id for role, user in readers.items()}
            results, have = {}, 0
            for size in sizes:
                started = time.perf_counter()
                seed_referrals(have, size, readers)
                have = size
                print(f"  {size:,} referrals seeded ({time.perf_counter() - started:.1f} s)", flush=True)
                readers = {role: db.session.get(User, user_id) for role, user_id in reader_ids.items()}
                results[size] = time_pages(app, readers, statements, explain=explain and size == sizes[-1])
            small, large = sizes
            print(f"\n{'reader':<13} {'page':<32} {'status':>6} {f'ms at {small:,}':>12} "
                  f"{f'ms at {large:,}':>14} {'ratio':>6} {'fastest':>8} {'statements':>11}")
            for role, page in results[small]:
                ms_small, best_small, status_small, count_small = results[small][(role, page)]
                ms_large, best_large, status_large, count_large = results[large][(role, page)]
                status = status_large if status_small == status_large else f"{status_small}/{status_large}"
                counts = count_large if count_small == count_large else f"{count_small}/{count_large}"
                there = ms_small == ms_small  # nan: no such page at the smaller size (a single page)
                ratio = f"{ms_large / ms_small:.2f}" if there else "-"
                best = f"{best_large / best_small:.2f}" if there else "-"
                print(f"{role:<13} {page:<32} {status:>6} {ms_small:>12.1f} {ms_large:>14.1f} {ratio:>6} {best:>8} "
                      f"{counts:>11}", flush=True)
            db.session.remove()
            db.engine.dispose()
    finally:
        clock.freeze(None)
        if schema:
            _drop_schema(base, schema)
        if scratch:
            shutil.rmtree(scratch)


if __name__ == "__main__":
    main()
