"""How long the situation overview takes on a national-size history. Prints numbers; asserts nothing.

    .venv/bin/python -m tests.benchmark_overview            # SQLite in a temporary folder
    TEST_DATABASE_URL=postgresql+psycopg://postgres@127.0.0.1:5432/test .venv/bin/python -m tests.benchmark_overview

14 regions, 200 shelters with 3 pools each, 100,000 children each with one referral (most of
them long over, a tenth waiting at a stage, 5,000 placed) and 10,000 demand signals.
"""
import os
import random
import statistics
import tempfile
import time
from datetime import timedelta
from pathlib import Path

from flask_migrate import upgrade
from sqlalchemy import event, insert

from coordination import clock
from coordination.accounts.models import Organization, Region, User
from coordination.beds.models import BedPool, Shelter
from coordination.extensions import db
from coordination.referrals.models import Child, DemandSignal, Referral
from coordination.reports.overview import situation

from .conftest import _drop_schema, _own_schema, make_app

SHELTERS, REFERRALS, SIGNALS, RUNS = 200, 100_000, 10_000, 20
ENDED = ["discharged"] * 60 + ["declined"] * 10 + ["expired"] * 5 + ["withdrawn"] * 5 + ["rejected"] * 5


def seed() -> dict[str, User]:
    rng = random.Random(11)
    at = clock.now()
    regions = [Region(code=f"R{i}", name=f"Region {i:02d}") for i in range(14)]
    orgs = [Organization(name=f"NGO {i}", kind="ngo", region=regions[i % 14]) for i in range(50)]
    state = Organization(name="Guardianship", kind="state", region=regions[0])
    people = {role: User(email=f"{role}@bench.example.org", name=role, role=role, locale="en",
                         organization=state if role != "caseworker" else orgs[0], password_hash="x")
              for role in ("admin", "oversight", "guardianship", "caseworker")}
    db.session.add_all([*regions, *orgs, state, *people.values()])
    db.session.flush()
    shelters = [Shelter(organization=orgs[i % 50], region=regions[i % 14], name=f"Shelter {i:03d}",
                        phone="+994 12 000 00 00", languages=["az"], services=[]) for i in range(SHELTERS)]
    db.session.add_all(shelters)
    db.session.flush()
    pools = [BedPool(shelter=s, label=label, admits_sex=sex, min_age=low, max_age=high, capacity=20, occupied=5,
                     out_of_service=0, held=0, version=1,
                     last_confirmed_at=at - timedelta(hours=rng.choice((1, 5, 30, 80))))
             for s in shelters for label, sex, low, high in (("Girls", "female", 12, 17), ("Boys", "male", 12, 17),
                                                             ("Little", "any", 0, 11))]
    db.session.add_all(pools)
    db.session.commit()
    pool_ids = [p.id for p in pools]
    caseworker = people["caseworker"]
    batch = 10_000
    for start in range(0, REFERRALS, batch):
        children = [dict(id=i + 1, case_reference=f"UC-2026-{i + 1:06d}", organization_id=caseworker.organization_id,
                         registered_by_id=caseworker.id, given_name="Bench", family_name=f"Child {i}",
                         name_key="", sex="female", estimated_age=14, region_id=regions[i % 14].id,
                         languages=[], languages_unmapped=[], needs=[], created_at=at)
                    for i in range(start, start + batch)]
        db.session.execute(insert(Child), children)
        referrals = []
        for i in range(start, start + batch):
            started = at - timedelta(hours=rng.randint(1, 24 * 365))
            roll = i % 20
            status = ("submitted", "accepted", "approved")[i % 3] if roll < 2 else "placed" if roll == 2 else \
                ENDED[i % len(ENDED)]
            holds = status in ("submitted", "accepted", "approved")
            changed = at - timedelta(hours=rng.randint(1, 47)) if holds else started
            referrals.append(dict(
                child_id=i + 1, pool_id=pool_ids[i % len(pool_ids)], referring_organization_id=caseworker.organization_id,
                caseworker_id=caseworker.id, status=status, urgency="routine", note="", holds_bed=holds,
                hold_until=changed + timedelta(hours=48) if holds else None, created_at=started,
                status_changed_at=changed, submitted_at=started,
                reason_code="no_capacity" if status == "declined" else "", reason_text=""))
        db.session.execute(insert(Referral), referrals)
        db.session.commit()
    db.session.execute(insert(DemandSignal), [
        dict(created_at=at - timedelta(hours=rng.randint(1, 24 * 90)), region_id=regions[i % 14].id, sex="female",
             age_band="12–14", needs=[], seen_key=f"bench-{i}") for i in range(SIGNALS)])
    db.session.commit()
    return people


def main() -> None:
    base = os.environ.get("TEST_DATABASE_URL") or f"sqlite:///{Path(tempfile.mkdtemp()) / 'bench.sqlite3'}"
    url, schema = _own_schema(base)
    app = make_app(url)
    try:
        with app.app_context(), app.test_request_context():
            upgrade()
            people = seed()
            if db.engine.dialect.name == "postgresql":
                with db.engine.begin() as conn:
                    conn.exec_driver_sql("ANALYZE")
            statements = []
            event.listen(db.engine, "before_cursor_execute", lambda *a: statements.append(1))
            print(f"database: {db.engine.dialect.name}; {SHELTERS} shelters, {REFERRALS} referrals, "
                  f"{SIGNALS} demand signals")
            print(f"{'reader':>13} {'median ms':>10} {'p90 ms':>8} {'statements':>11}")
            for role in ("admin", "oversight", "guardianship"):
                timings = []
                for _ in range(RUNS):
                    statements.clear()
                    db.session.expire_all()
                    started = time.perf_counter()
                    situation(people[role])
                    timings.append((time.perf_counter() - started) * 1000)
                timings.sort()
                print(f"{role:>13} {statistics.median(timings):>10.1f} {timings[int(RUNS * 0.9) - 1]:>8.1f} "
                      f"{len(statements):>11}")
    finally:
        if schema:
            _drop_schema(base, schema)


if __name__ == "__main__":
    main()
