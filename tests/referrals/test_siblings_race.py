"""Siblings are never split by the system, and no bed is promised twice: 32 groups of two
and three siblings referred at the same instant, each through a connection of its own (as
on several servers), to one shelter with five free beds in two pools."""
import threading
import traceback
from collections import Counter

from sqlalchemy import func, select

from coordination.accounts.models import User
from coordination.beds.models import BedPool
from coordination.errors import NoBedAvailable
from coordination.extensions import db
from coordination.referrals import services, siblings
from coordination.referrals.models import Child, Referral, ReferralGroup

from ..conftest import _acting
from .test_no_double_booking import Outcomes, run_all, servers

GROUPS = 32


def refer_in_own_session(app, barrier, child_ids: list[int], user_id: int, shelter_id: int,
                         outcomes: Outcomes) -> None:
    """One caseworker pressing "Refer together" for one family, on one server."""
    try:
        with app.app_context():
            barrier.wait()  # before any statement: on SQLite the first one takes the write lock
            user = db.session.get(User, user_id)
            children = [db.session.get(Child, i) for i in child_ids]
            with _acting(user):
                try:
                    siblings.refer_together(user, children, shelter_id, "emergency", "")
                    db.session.commit()
                except NoBedAvailable:
                    db.session.rollback()
                    outcomes.add("refused", tuple(child_ids))
                else:
                    outcomes.add("held", tuple(child_ids))
            db.session.remove()
    except Exception:  # noqa: BLE001 - every other outcome is a failure the test reports
        outcomes.add("failures", f"group {child_ids}:\n{traceback.format_exc()}")


def test_thirty_two_sibling_groups_racing_for_five_beds_are_never_split_nor_double_booked(
        app, database_url, make):
    organization = make.organization()
    caseworkers = [make.user("caseworker", organization=organization) for _ in range(4)]
    shelter = make.shelter(region=organization.region)
    girls = make.pool(shelter=shelter, capacity=4, occupied=1, admits_sex="female")   # 3 free
    boys = make.pool(shelter=shelter, capacity=3, out_of_service=1, admits_sex="male")  # 2 free
    families = []
    for i in range(GROUPS):
        caseworker = caseworkers[i % len(caseworkers)]
        sexes = ("female", "male") if i % 2 == 0 else (("female", "female", "male") if i % 4 == 1
                                                      else ("female", "male", "male"))
        children = [make.child(registered_by=caseworker, sex=sex) for sex in sexes]
        with _acting(caseworker):
            for other in children[1:]:
                siblings.link_siblings(caseworker, children[0], other.case_reference)
        db.session.commit()
        families.append(([c.id for c in children], caseworker.id, Counter(sexes)))
    shelter_id, girls_id, boys_id = shelter.id, girls.id, boys.id
    db.session.commit()
    outcomes = Outcomes()

    with servers(database_url) as server:
        barrier = threading.Barrier(GROUPS, timeout=60)
        run_all([threading.Thread(target=refer_in_own_session, name=f"family-{ids[0]}",
                                  args=(server, barrier, ids, user_id, shelter_id, outcomes))
                 for ids, user_id, _sexes in families])

    assert outcomes.failures == [], "\n".join(outcomes.failures)
    assert len(outcomes.held) + len(outcomes.refused) == GROUPS
    assert outcomes.held, "the first family to arrive finds beds for all"
    db.session.expire_all()
    pools = {p.id: p for p in db.session.scalars(select(BedPool).where(BedPool.id.in_((girls_id, boys_id))))}
    for pool in pools.values():
        assert pool.occupied + pool.out_of_service + pool.held <= pool.capacity
    composition = {tuple(ids): sexes for ids, _user, sexes in families}
    held_girls = sum(composition[ids]["female"] for ids in outcomes.held)
    held_boys = sum(composition[ids]["male"] for ids in outcomes.held)
    assert (pools[girls_id].held, pools[boys_id].held) == (held_girls, held_boys)
    # Every family held is held whole, in one group, in one shelter.
    for ids in outcomes.held:
        referrals = db.session.scalars(select(Referral).where(Referral.child_id.in_(ids))).all()
        assert sorted(r.child_id for r in referrals) == sorted(ids)
        assert {r.status for r in referrals} == {"submitted"}
        assert len({r.group_id for r in referrals}) == 1 and referrals[0].group_id is not None
        assert {r.pool.shelter_id for r in referrals} == {shelter_id}
    # Every family refused has nothing at all: no referral, no bed.
    refused_children = [i for ids in outcomes.refused for i in ids]
    assert db.session.scalar(select(func.count(Referral.id)).where(Referral.child_id.in_(refused_children))) == 0
    assert db.session.scalar(select(func.count(ReferralGroup.id))) == len(outcomes.held)
    # Nobody was refused while the beds left would have taken the whole family.
    free_girls = pools[girls_id].capacity - pools[girls_id].in_use
    free_boys = pools[boys_id].capacity - pools[boys_id].in_use
    for ids in outcomes.refused:
        assert composition[ids]["female"] > free_girls or composition[ids]["male"] > free_boys, ids
    assert services.integrity_problems() == []
