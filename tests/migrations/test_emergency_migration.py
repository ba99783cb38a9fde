"""The migration for emergency placement (a1e2m3e4r5g6), on a database of its own: the new
statuses pass the status check, a child placed in an emergency or moving out has a live
referral (so no second one), and the downgrade gives the old schema back, refusing while a
referral is in a status the old schema has no word for."""
import pytest
import sqlalchemy as sa
from flask_migrate import downgrade, upgrade

from coordination.extensions import db

BEFORE, REVISION = "9b3e5d7f1a2c", "a1e2m3e4r5g6"


class Loose:
    """A plain database connection on which the rows stand alone: no organization, pool or
    child needs to exist for them (foreign keys are not checked); each statement commits."""

    def __init__(self):
        self.raw = db.engine.raw_connection()
        self.refused = db.engine.dialect.dbapi.IntegrityError
        self.run("PRAGMA foreign_keys = OFF" if db.engine.dialect.name == "sqlite"
                 else "SET session_replication_role = replica")

    def run(self, sql: str) -> None:
        cursor = self.raw.cursor()
        try:
            cursor.execute(sql)
            self.raw.commit()
        except Exception:
            self.raw.rollback()
            raise
        finally:
            cursor.close()

    def referral(self, referral_id: int, child_id: int, status: str) -> None:
        self.run(
            "INSERT INTO referral (id, child_id, pool_id, referring_organization_id, caseworker_id, status, urgency, "
            "note, holds_bed, created_at, status_changed_at, reason_code, reason_text) VALUES "
            f"({referral_id}, {child_id}, 1, 1, 1, '{status}', 'emergency', '', false, '2026-03-01 09:00', "
            "'2026-03-01 09:00', '', '')")

    def close(self):
        self.raw.close()


@pytest.fixture
def loose(database):
    upgrade(revision=REVISION)
    connection = Loose()
    yield connection
    connection.close()


def test_the_new_statuses_are_live_and_keep_one_live_referral_per_child(loose):
    loose.referral(1, 1, "emergency_placed")
    loose.referral(2, 2, "moving_out")
    loose.referral(3, 1, "discharged")
    for child in (1, 2):
        with pytest.raises(loose.refused):  # the child already has a live referral
            loose.referral(10 + child, child, "submitted")
    with pytest.raises(loose.refused):
        loose.referral(20, 3, "emergency")  # not a status
    assert "decision_due_at" in {c["name"] for c in sa.inspect(db.engine).get_columns("referral")}


def test_downgrade_refuses_while_a_child_is_in_an_emergency_placement_then_restores_the_old_schema(loose):
    loose.referral(1, 1, "moving_out")
    db.session.remove()
    with pytest.raises(SystemExit):  # flask-migrate reports the RuntimeError and exits
        downgrade(revision=BEFORE)
    loose.run("DELETE FROM referral")

    downgrade(revision=BEFORE)

    assert "decision_due_at" not in {c["name"] for c in sa.inspect(db.engine).get_columns("referral")}
    again = Loose()
    try:
        with pytest.raises(again.refused):
            again.referral(1, 1, "emergency_placed")
        again.referral(2, 1, "placed")
        with pytest.raises(again.refused):
            again.referral(3, 1, "submitted")
    finally:
        again.close()
