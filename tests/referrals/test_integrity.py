"""`flask --app app check-integrity`: silent success on a database whose pools agree with
their referrals, and a non-zero exit naming the pool or referral and the mismatch once
the counts are broken on purpose (with SQL, behind the services' back)."""
import pytest
from sqlalchemy import text

from coordination import clock
from coordination.extensions import db

from .referral_cast import STATUSES, T0, Cast


@pytest.fixture
def cast(make):
    clock.freeze(T0)
    return Cast(make, capacity=12, occupied=2)


@pytest.fixture
def busy(cast):
    """One referral in every status in the cast's pool, plus a second placed child. The
    expired one comes first: expiring it moves the clock past the others' deadlines."""
    referrals = {"expired": cast.referral("expired")}
    referrals.update({status: cast.referral(status) for status in STATUSES if status != "expired"})
    referrals["placed again"] = cast.referral("placed")
    return referrals


def check_integrity(app):
    db.session.commit()
    result = app.test_cli_runner().invoke(args=["check-integrity"])
    db.session.expire_all()
    return result


def sql(statement: str, **values) -> None:
    db.session.execute(text(statement), values)
    db.session.commit()


def test_consistent_database_with_referrals_in_every_status_passes(app, cast, busy):
    db.session.refresh(cast.pool)
    # submitted, accepted, approved hold; four children in a bed (two placed, one placed in an
    # emergency, one moving out) on top of two occupied beds
    assert (cast.pool.held, cast.pool.occupied) == (3, 6)
    result = check_integrity(app)
    assert result.exit_code == 0, result.output
    assert "All pools agree with their referrals." in result.output
    assert "MISMATCH" not in result.output


def test_empty_database_passes(app):
    assert check_integrity(app).exit_code == 0


def test_a_held_count_with_no_referral_behind_it_is_named(app, make, cast, busy):
    clean = make.pool(cast.shelter, capacity=3)
    sql("UPDATE bed_pool SET held = held + 1 WHERE id = :id", id=cast.pool.id)

    result = check_integrity(app)

    assert result.exit_code != 0
    assert f"pool {cast.pool.id} ({cast.pool.label}, shelter {cast.shelter.id}): held is 4 but 3 referrals hold a bed" \
        in result.output
    assert f"pool {clean.id} " not in result.output


def test_a_held_count_missing_a_referral_is_named(app, cast, busy):
    sql("UPDATE bed_pool SET held = held - 1 WHERE id = :id", id=cast.pool.id)
    result = check_integrity(app)
    assert result.exit_code != 0
    assert f"pool {cast.pool.id} " in result.output
    assert "held is 2 but 3 referrals hold a bed" in result.output


@pytest.mark.parametrize("status, holds_bed", [
    ("declined", True), ("withdrawn", True), ("expired", True), ("placed", True), ("draft", True),
    ("submitted", False), ("approved", False)])
def test_a_referral_whose_hold_flag_disagrees_with_its_status_is_named(app, cast, busy, status, holds_bed):
    referral = busy[status]
    sql("UPDATE referral SET holds_bed = :flag WHERE id = :id", flag=holds_bed, id=referral.id)

    result = check_integrity(app)

    assert result.exit_code != 0
    assert f"referral {referral.id}: status {status} does not match whether it holds a bed" in result.output
    # and the pool's held no longer matches the referrals that hold a bed
    recount = 3 + (1 if holds_bed else -1)
    assert f"pool {cast.pool.id} ({cast.pool.label}, shelter {cast.shelter.id}): held is 3 but {recount} " \
           f"referrals hold a bed" in result.output


def test_fewer_occupied_beds_than_placed_children_is_named(app, cast, busy):
    sql("UPDATE bed_pool SET occupied = 1 WHERE id = :id", id=cast.pool.id)

    result = check_integrity(app)

    assert result.exit_code != 0
    assert f"pool {cast.pool.id} ({cast.pool.label}, shelter {cast.shelter.id}): occupied is 1 but 4 children " \
           f"are placed" in result.output


def test_occupied_beds_beyond_the_placed_children_are_no_mismatch(app, cast, busy):
    # shelters also take children who come without a referral (staff count them in)
    sql("UPDATE bed_pool SET occupied = occupied + 3 WHERE id = :id", id=cast.pool.id)
    assert check_integrity(app).exit_code == 0


def test_a_referral_moved_to_placed_behind_the_pools_back_is_named(app, cast, busy):
    referral = busy["approved"]
    sql("UPDATE referral SET status = 'placed' WHERE id = :id", id=referral.id)

    result = check_integrity(app)

    assert result.exit_code != 0
    assert f"referral {referral.id}: status placed does not match whether it holds a bed" in result.output


def test_every_mismatch_in_every_pool_is_named(app, make, cast, busy):
    other = Cast(make, capacity=4)
    held_elsewhere = other.referral("submitted")
    sql("UPDATE bed_pool SET held = 0 WHERE id = :id", id=other.pool.id)
    sql("UPDATE bed_pool SET occupied = 0 WHERE id = :id", id=cast.pool.id)

    result = check_integrity(app)

    assert result.exit_code != 0
    lines = [line for line in result.output.splitlines() if line.startswith("MISMATCH")]
    assert len(lines) == 2, result.output
    assert any(f"pool {cast.pool.id} " in line and "occupied is 0 but 4 children are placed" in line for line in lines)
    assert any(f"pool {other.pool.id} " in line and "held is 0 but 1 referrals hold a bed" in line for line in lines)
    assert held_elsewhere.holds_bed
