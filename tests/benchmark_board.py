"""How long the bed board takes as the registry grows, all in the reader's region: the page
(its first 100 pools), the htmx fragment a poll draws, and a poll of an unchanged page (204).
Prints numbers; asserts nothing.

    .venv/bin/python -m tests.benchmark_board            # SQLite in a temporary folder
    TEST_DATABASE_URL=postgresql+psycopg://postgres@127.0.0.1:5432/test .venv/bin/python -m tests.benchmark_board
"""
import os
import re
import statistics
import tempfile
import time
from pathlib import Path

from flask_migrate import upgrade
from sqlalchemy import event

from coordination import clock
from coordination.accounts.models import Organization, Region, User
from coordination.beds.models import BedPool, Shelter
from coordination.extensions import db

from .conftest import PASSWORD, Client, _drop_schema, _own_schema, make_app

SIZES = (10, 100, 500, 2000)
RUNS = 20


def add_shelters(count: int, org: Organization, region: Region) -> None:
    shelters = [Shelter(organization=org, region=region, name=f"Bench shelter {i:05d}", languages=["az"],
                        services=[]) for i in range(count)]
    db.session.add_all(shelters)
    db.session.add_all(BedPool(shelter=s, label=label, capacity=8, occupied=i % 9 if i % 9 <= 8 else 0,
                               out_of_service=0, held=0, version=1, last_confirmed_at=clock.now())
                       for i, s in enumerate(shelters) for label in ("Girls", "Boys"))
    db.session.commit()


def main() -> None:
    base = os.environ.get("TEST_DATABASE_URL") or f"sqlite:///{Path(tempfile.mkdtemp()) / 'bench.sqlite3'}"
    url, schema = _own_schema(base)
    app = make_app(url)
    try:
        with app.app_context():
            upgrade()
            region = Region(code="B", name="Bench")
            org = Organization(name="Bench NGO", kind="ngo", region=region)
            user = User(email="bench@example.org", name="Bench", role="caseworker", organization=org)
            user.set_password(PASSWORD)
            db.session.add_all([region, org, user])
            db.session.commit()
            client = Client(app)
            client.login(user.email)
            statements = []
            event.listen(db.engine, "before_cursor_execute", lambda *a: statements.append(1))
            print(f"database: {db.engine.dialect.name}")
            print(f"{'shelters':>9} {'pools':>6} {'request':>10} {'median ms':>10} {'p90 ms':>8} {'statements':>11}")
            total = 0
            for size in SIZES:
                add_shelters(size - total, org, region)
                total = size
                version = re.search(r'"X-Board-Version": "([0-9a-f]+)"',
                                    client.get("/beds").get_data(as_text=True)).group(1)
                for name, headers, status in (
                        ("page", {}, 200),
                        ("poll", {"HX-Request": "true", "X-Poll": "1"}, 200),
                        ("unchanged", {"HX-Request": "true", "X-Poll": "1", "X-Board-Version": version}, 204)):
                    timings = []
                    for _ in range(RUNS):
                        statements.clear()
                        started = time.perf_counter()
                        response = client.get("/beds", headers=headers)
                        timings.append((time.perf_counter() - started) * 1000)
                        assert response.status_code == status, response.status_code
                    timings.sort()
                    print(f"{size:>9} {size * 2:>6} {name:>10} {statistics.median(timings):>10.1f} "
                          f"{timings[int(RUNS * 0.9) - 1]:>8.1f} {len(statements):>11}")
            db.engine.dispose()
    finally:
        if schema:
            _drop_schema(base, schema)


if __name__ == "__main__":
    main()
