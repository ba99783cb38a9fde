"""How long the overview, the reports and the audit trail take on a national-size history.
Prints numbers; asserts nothing.

    TEST_DATABASE_URL=postgresql+psycopg://postgres@127.0.0.1:5432/test .venv/bin/python -m tests.benchmarks.reports

Seeds, in a schema of its own on PostgreSQL (generate_series makes the big tables in seconds):
14 regions, 200 shelters with 500 pools, 100,000 children with one referral each over three
years (most ended, a few thousand live), their referral events, 1,000,000 bed updates,
20,000 demand signals and 1,000,000 audit events. Then it asks for every page an admin, the
ombudsman's office and a guardianship officer read there (the overview at /, each GET page
of /reports and its CSV, the audit trail and its further pages), RUNS times each through the
app, and prints the median and slowest time and the SQL statements of each. The aims: the
overview under 200 ms, each report under one second.
"""
import argparse
import os
import statistics
import sys
import time
from datetime import datetime, timedelta, timezone

from flask_migrate import upgrade
from sqlalchemy import event, text

from coordination import clock
from coordination.accounts.models import Organization, Region, User
from coordination.beds.models import BedPool, Shelter
from coordination.extensions import db

from ..conftest import PASSWORD, Client, _drop_schema, _own_schema, make_app

RUNS = 5
REGIONS, SHELTERS = 14, 200
REFERRALS, BED_UPDATES, DEMAND_SIGNALS, AUDIT_EVENTS = 100_000, 1_000_000, 20_000, 1_000_000
START = "2024-01-01"  # the history runs from here to the benchmark's "now"
NOW = "2026-12-02 12:00"

# Of every 200 referrals, how many end in each status (the rest, here, are live or drafts).
STATUS_OF = """CASE
    WHEN g % 200 < 80 THEN 'discharged'
    WHEN g % 200 < 110 THEN 'declined'
    WHEN g % 200 < 120 THEN 'rejected'
    WHEN g % 200 < 140 THEN 'withdrawn'
    WHEN g % 200 < 160 THEN 'expired'
    WHEN g % 200 < 166 THEN 'placed'
    WHEN g % 200 < 168 THEN 'submitted'
    WHEN g % 200 < 169 THEN 'accepted'
    WHEN g % 200 < 170 THEN 'approved'
    ELSE 'draft' END"""


def seed_people_and_places() -> dict[str, User]:
    """Regions, organizations, shelters and pools, and one reader of each kind: small, so
    through the ORM."""
    regions = [Region(code=f"BR{i:02d}", name=f"Bench region {i:02d}") for i in range(REGIONS)]
    ngos = [Organization(name=f"Bench NGO {i:03d}", kind="ngo", region=regions[i % REGIONS]) for i in range(60)]
    state = Organization(name="Bench State Migration Service", kind="state", region=regions[0])
    guardians = Organization(name="Bench guardianship body", kind="state", region=regions[0])
    ombudsman = Organization(name="Bench Ombudsman's Office", kind="state", region=regions[0])
    db.session.add_all(regions + ngos + [state, guardians, ombudsman])
    readers = {
        "admin": User(email="admin@bench.example", name="Bench Admin", role="admin", organization=state),
        "oversight": User(email="ombudsman@bench.example", name="Bench Ombudsman", role="oversight",
                          organization=ombudsman),
        "guardianship": User(email="guardian@bench.example", name="Bench Guardian", role="guardianship",
                             organization=guardians),
    }
    caseworkers = [User(email=f"caseworker{i:03d}@bench.example", name=f"Bench Caseworker {i:03d}",
                        role="caseworker", organization=org) for i, org in enumerate(ngos)]
    for user in list(readers.values()) + caseworkers:
        user.set_password(PASSWORD)
    db.session.add_all(list(readers.values()) + caseworkers)
    now = clock.now()
    for i in range(SHELTERS):
        shelter = Shelter(organization=ngos[i % len(ngos)], region=regions[i % REGIONS],
                          name=f"Bench shelter {i:03d}", phone=f"+994 12 555 {i:04d}", languages=["az"],
                          services=[])
        db.session.add(shelter)
        kinds = [("Girls", "female", 0, 17), ("Boys", "male", 0, 17)] + ([("Young children", "any", 0, 5)]
                                                                         if i % 2 else [])
        for label, sex, low, high in kinds:
            occupied = i % 7
            db.session.add(BedPool(shelter=shelter, label=label, admits_sex=sex, min_age=low, max_age=high,
                                   capacity=8, occupied=occupied, out_of_service=0, held=0, version=1,
                                   # one shelter in ten has not confirmed its counts for days
                                   last_confirmed_at=now - timedelta(hours=72 + i if i % 10 == 0 else i % 12)))
    db.session.commit()
    return readers


def seed_history() -> None:
    """The big tables, in SQL on PostgreSQL."""
    statements = [
        f"""INSERT INTO child (case_reference, organization_id, registered_by_id, given_name, family_name,
                name_key, sex, birth_date, nationality, languages, languages_unmapped, needs, region_id,
                consent_given_by, child_assent, created_at)
            SELECT 'UC-B-' || lpad(g::text, 6, '0'), u.organization_id, u.id, 'Given' || g, 'Family' || g, '',
                   CASE WHEN g % 2 = 0 THEN 'female' ELSE 'male' END,
                   DATE '{NOW[:10]}' - (365 * (1 + g % 17) + g % 365), '', '[]', '[]', '[]',
                   r.id, '', false, t.at
            FROM generate_series(1, {REFERRALS}) g
            JOIN LATERAL (SELECT TIMESTAMP '{START}' + (g * (TIMESTAMP '{NOW}' - TIMESTAMP '{START}') / {REFERRALS})
                          AS at) t ON true
            JOIN (SELECT id, organization_id, row_number() OVER (ORDER BY id) - 1 AS k FROM "user"
                  WHERE role = 'caseworker') u ON u.k = g % 60
            JOIN (SELECT id, row_number() OVER (ORDER BY id) - 1 AS k FROM region) r ON r.k = g % {REGIONS}""",
        f"""INSERT INTO referral (child_id, pool_id, referring_organization_id, caseworker_id, status, urgency,
                note, holds_bed, created_at, status_changed_at, submitted_at, accepted_at, approved_at,
                arrived_at, ended_at, reason_code, reason_text)
            SELECT c.id, p.id, c.organization_id, c.registered_by_id, s.status, 'routine', '', false,
                   c.created_at, c.created_at + interval '10 days',
                   CASE WHEN s.status <> 'draft' THEN c.created_at + interval '1 hour' END,
                   CASE WHEN s.status IN ('accepted', 'approved', 'placed', 'discharged', 'rejected')
                        THEN c.created_at + (1 + c.id % 30) * interval '1 hour' END,
                   CASE WHEN s.status IN ('approved', 'placed', 'discharged')
                        THEN c.created_at + (31 + c.id % 50) * interval '1 hour' END,
                   CASE WHEN s.status IN ('placed', 'discharged')
                        THEN c.created_at + (82 + c.id % 40) * interval '1 hour' END,
                   CASE WHEN s.status IN ('discharged', 'declined', 'rejected', 'withdrawn', 'expired')
                        THEN c.created_at + (5 + c.id % 200) * interval '1 day' END,
                   CASE WHEN s.status = 'declined' THEN (ARRAY['no_capacity', 'not_eligible', 'needs_not_met',
                        'other'])[1 + c.id % 4] ELSE '' END, ''
            FROM (SELECT *, row_number() OVER (ORDER BY id) AS g FROM child) c
            JOIN LATERAL (SELECT {STATUS_OF} AS status) s ON true
            JOIN (SELECT id, row_number() OVER (ORDER BY id) - 1 AS k, count(*) OVER () AS n FROM bed_pool) p
              ON p.k = (c.g * 7919 + c.g / 1000) % p.n""",
        """UPDATE referral SET holds_bed = true, hold_until = TIMESTAMP '%s' + (id %% 96) * interval '1 hour'
           WHERE status IN ('submitted', 'accepted', 'approved')""" % NOW,
        """INSERT INTO referral_event (referral_id, from_status, to_status, user_id, created_at, reason_code,
                reason_text)
           SELECT id, NULL, 'draft', caseworker_id, created_at, '', '' FROM referral
           UNION ALL SELECT id, 'draft', 'submitted', caseworker_id, submitted_at, '', '' FROM referral
             WHERE submitted_at IS NOT NULL
           UNION ALL SELECT id, 'submitted', 'accepted', NULL, accepted_at, '', '' FROM referral
             WHERE accepted_at IS NOT NULL
           UNION ALL SELECT id, 'accepted', 'approved', NULL, approved_at, '', '' FROM referral
             WHERE approved_at IS NOT NULL
           UNION ALL SELECT id, 'approved', 'placed', NULL, arrived_at, '', '' FROM referral
             WHERE arrived_at IS NOT NULL
           UNION ALL SELECT id, NULL, status, NULL, ended_at, reason_code, '' FROM referral
             WHERE ended_at IS NOT NULL""",
        f"""INSERT INTO bed_update (pool_id, user_id, created_at, capacity, occupied, out_of_service, held, reason)
            SELECT p.id, NULL, TIMESTAMP '{START}' + (g * (TIMESTAMP '{NOW}' - TIMESTAMP '{START}') / {BED_UPDATES}),
                   8, g % 9, (g / 7) % 2, g % 3, ''
            FROM generate_series(1, {BED_UPDATES}) g
            JOIN (SELECT id, row_number() OVER (ORDER BY id) - 1 AS k, count(*) OVER () AS n FROM bed_pool) p
              ON p.k = g % p.n""",
        f"""INSERT INTO demand_signal (created_at, region_id, sex, age_band, needs, seen_key)
            SELECT TIMESTAMP '{NOW}' - (g % 1000) * interval '1 day' / 1.0 + (g % 24) * interval '1 hour', r.id,
                   CASE WHEN g % 3 = 0 THEN 'female' ELSE 'male' END,
                   (ARRAY['0–5', '6–11', '12–14', '15–17'])[1 + g % 4], '[]', md5('demand' || g)
            FROM generate_series(1, {DEMAND_SIGNALS}) g
            JOIN (SELECT id, row_number() OVER (ORDER BY id) - 1 AS k FROM region) r ON r.k = (g * 7) % {REGIONS}""",
        f"""INSERT INTO audit_event (created_at, user_id, organization_id, action, object_type, object_id, details,
                client_address, previous_hash, hash, key_id)
            SELECT TIMESTAMP '{START}' + (g * (TIMESTAMP '{NOW}' - TIMESTAMP '{START}') / {AUDIT_EVENTS}),
                   u.id, u.organization_id, a.action, a.object_type, (1 + g % {REFERRALS})::text, '{{}}',
                   '10.0.0.' || (g % 250), md5('prev' || g) || md5('p' || g), md5('hash' || g) || md5('h' || g),
                   'bench'
            FROM generate_series(1, {AUDIT_EVENTS}) g
            JOIN (SELECT id, organization_id, row_number() OVER (ORDER BY id) - 1 AS k FROM "user"
                  WHERE role = 'caseworker') u ON u.k = g % 60
            JOIN LATERAL (SELECT (ARRAY['child.view', 'referral.submitted', 'referral.accepted', 'pool.counts',
                                        'login', 'child.register'])[1 + g % 6] AS action,
                                 (ARRAY['child', 'referral', 'referral', 'pool', 'user', 'child'])[1 + g % 6]
                                   AS object_type) a ON true""",
        # Each child's first bed, from the arrivals of their referrals (as the migration that added it).
        """UPDATE child SET reached_bed_at = (SELECT min(referral.arrived_at) FROM referral
           WHERE referral.child_id = child.id AND referral.arrived_at IS NOT NULL)""",
        "ANALYZE",
    ]
    for statement in statements:
        started = time.perf_counter()
        db.session.execute(text(statement))
        db.session.commit()
        print(f"  seeded in {time.perf_counter() - started:6.1f} s: {' '.join(statement.split()[:3])}",
              flush=True)


def pages(app) -> list[str]:
    """The pages to time: the home page (the overview, for these readers) and the overview
    alone (what its refresh asks for), every GET page of /reports that takes no arguments
    (each report's CSV among them), and the audit trail and its download."""
    found = ["/", "/overview"]
    with app.test_request_context():
        for rule in sorted(app.url_map.iter_rules(), key=lambda r: r.rule):
            if rule.endpoint.startswith("reports.") and "GET" in rule.methods and not rule.arguments:
                found.append(rule.rule)
    return found + ["/audit", "/audit.csv"]


def time_pages(app, readers: dict[str, User]) -> None:
    statements = []
    event.listen(db.engine, "before_cursor_execute", lambda *a: statements.append(1))
    print(f"\n{'reader':<13} {'page':<34} {'status':>6} {'median ms':>10} {'max ms':>8} {'statements':>11}")
    for role, user in readers.items():
        client = Client(app)
        client.login(user.email)
        for url in pages(app):
            timings, status = [], None
            for _ in range(1 if url == "/audit.csv" else RUNS):  # 100,000 rows: once is enough
                statements.clear()
                started = time.perf_counter()
                response = client.get(url)
                response.get_data()  # a streamed CSV is timed to its last row
                timings.append((time.perf_counter() - started) * 1000)
                status = response.status_code
            print(f"{role:<13} {url:<34} {status:>6} {statistics.median(timings):>10.1f} {max(timings):>8.1f} "
                  f"{len(statements):>11}", flush=True)
            if url == "/audit" and status == 200:  # and a page deep in the trail, by its id
                deep = f"/audit?before={AUDIT_EVENTS // 2}"
                statements.clear()
                started = time.perf_counter()
                response = client.get(deep)
                print(f"{role:<13} {deep:<34} {response.status_code:>6} "
                      f"{(time.perf_counter() - started) * 1000:>10.1f} {'':>8} {len(statements):>11}", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.parse_args()
    base = os.environ.get("TEST_DATABASE_URL", "")
    if not base.startswith("postgresql"):
        sys.exit("This benchmark seeds with PostgreSQL's generate_series: set TEST_DATABASE_URL to a "
                 "PostgreSQL database (see the docstring).")
    url, schema = _own_schema(base)
    clock.freeze(datetime.fromisoformat(NOW).replace(tzinfo=timezone.utc))
    app = make_app(url)
    try:
        with app.app_context():
            upgrade()
            print(f"database: {db.engine.dialect.name}; seeding (a few minutes) ...", flush=True)
            readers = seed_people_and_places()
            seed_history()
            readers = {role: db.session.get(User, user.id) for role, user in readers.items()}
            time_pages(app, readers)
            db.session.remove()
            db.engine.dispose()
    finally:
        clock.freeze(None)
        if schema:
            _drop_schema(base, schema)


if __name__ == "__main__":
    main()
