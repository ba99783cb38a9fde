"""A search for a bed that finds none free leaves an anonymous signal of unmet demand: the
evidence reports use for where beds are short."""
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import inspect, select

from coordination import clock
from coordination.extensions import db
from coordination.referrals.models import DemandSignal

MORNING = datetime(2026, 11, 30, 6, 0, tzinfo=timezone.utc)  # 10:00 in Baku


@pytest.fixture
def caseworker(login_as):
    clock.freeze(MORNING)
    return login_as("caseworker")


def signals():
    return db.session.scalars(select(DemandSignal).order_by(DemandSignal.id)).all()


def a_boy_of_13(make, caseworker, **values):
    return make.child(registered_by=caseworker.user, sex="male", estimated_age=13, **values)


def test_a_search_that_finds_no_free_fitting_bed_is_recorded_without_naming_the_child(make, caseworker):
    boy = a_boy_of_13(make, caseworker, needs=["psychosocial"], given_name="Omid", family_name="Rahimi")
    make.pool(admits_sex="male", min_age=12, max_age=17, capacity=2, occupied=2)  # full
    make.pool(admits_sex="female", min_age=12, max_age=17, capacity=5)  # free, but not for him

    assert caseworker.get(f"/referrals/new?child={boy.id}").status_code == 200

    [signal] = signals()
    assert (signal.region_id, signal.sex, signal.age_band, signal.needs) == (
        boy.region_id, "male", "12–14", ["psychosocial"])
    assert signal.created_at == MORNING
    # Nothing in the row leads back to the child: no id, no name, no organization.
    columns = {c.key for c in inspect(DemandSignal).columns}
    assert columns == {"id", "created_at", "region_id", "sex", "age_band", "needs", "seen_key"}


def test_looking_again_the_same_day_counts_once_and_the_next_day_again(make, caseworker, login_as):
    boy = a_boy_of_13(make, caseworker)

    caseworker.get(f"/referrals/new?child={boy.id}")  # no pool at all admits him
    caseworker.get(f"/referrals/new?child={boy.id}", htmx=True)
    assert len(signals()) == 1

    clock.freeze(MORNING + timedelta(days=1))
    login_as(caseworker.user).get(f"/referrals/new?child={boy.id}")  # a new day's session
    assert len(signals()) == 2


def test_two_children_alike_on_one_day_are_two_signals(make, caseworker):
    first, second = a_boy_of_13(make, caseworker), a_boy_of_13(make, caseworker)
    caseworker.get(f"/referrals/new?child={first.id}")
    caseworker.get(f"/referrals/new?child={second.id}")
    assert len(signals()) == 2


def test_a_search_that_finds_a_free_bed_records_nothing(make, caseworker):
    boy = a_boy_of_13(make, caseworker)
    make.pool(admits_sex="any", min_age=0, max_age=17, capacity=3, occupied=2)

    caseworker.get(f"/referrals/new?child={boy.id}")
    assert signals() == []


def test_the_form_without_a_child_chosen_records_nothing(make, caseworker):
    a_boy_of_13(make, caseworker)
    caseworker.get("/referrals/new")
    assert signals() == []
