"""The migration that notes when each child first reached a bed (b1w2a3i4t5e6): children of a
database from before get it from their referrals' arrivals, the earliest one, and the
downgrade takes it away again."""
from datetime import datetime, timezone

import sqlalchemy as sa
from flask_migrate import downgrade, upgrade

from coordination.accounts.models import Organization, Region, User
from coordination.beds.models import BedPool, Shelter
from coordination.extensions import db
from coordination.referrals.models import Child, Referral

BEFORE, REVISION = "a9p1t2o3k4e5", "b1w2a3i4t5e6"
FIRST, LATER = datetime(2026, 3, 1, 8, tzinfo=timezone.utc), datetime(2026, 5, 1, 8, tzinfo=timezone.utc)


def test_each_child_gets_its_earliest_arrival_and_the_downgrade_removes_it(database):
    upgrade()
    region = Region(code="R", name="R")
    organization = Organization(name="O", kind="ngo", region=region)
    caseworker = User(email="c@example.org", name="C", role="caseworker", organization=organization,
                      password_hash="x")
    pool = BedPool(shelter=Shelter(organization=organization, region=region, name="S"), label="P", capacity=5)

    def child(*arrivals):
        kid = Child(organization=organization, registered_by=caseworker, given_name="A", family_name="B",
                    sex="female", estimated_age=12, region=region)
        for arrived in arrivals:
            db.session.add(Referral(child=kid, pool=pool, referring_organization=organization, caseworker=caseworker,
                                    status="discharged" if arrived else "declined", arrived_at=arrived))
        db.session.add(kid)
        return kid

    moved, declined, alone = child(LATER, FIRST), child(None), child()
    db.session.commit()
    ids = moved.id, declined.id, alone.id
    db.session.remove()
    downgrade(revision=BEFORE)
    assert "reached_bed_at" not in {c["name"] for c in sa.inspect(db.engine).get_columns("child")}

    upgrade(revision=REVISION)

    noted = dict(db.session.execute(sa.select(Child.id, Child.reached_bed_at)).all())
    db.session.remove()
    assert [noted[i] for i in ids] == [FIRST, None, None]
    assert index_exists("ix_child_waiting_for_bed")
    downgrade(revision=BEFORE)
    assert "reached_bed_at" not in {c["name"] for c in sa.inspect(db.engine).get_columns("child")}
    assert not index_exists("ix_child_waiting_for_bed")


def index_exists(name: str) -> bool:
    """Asked of the catalogue: SQLAlchemy does not reflect an index on an expression from SQLite."""
    catalogue = ("SELECT 1 FROM sqlite_master WHERE type = 'index' AND name = :name"
                 if db.engine.dialect.name == "sqlite" else "SELECT 1 FROM pg_indexes WHERE indexname = :name AND schemaname = current_schema()")
    with db.engine.connect() as connection:
        return connection.execute(sa.text(catalogue), {"name": name}).first() is not None
