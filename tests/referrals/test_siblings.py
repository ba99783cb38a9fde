"""Sibling groups: brothers and sisters linked on their records by their own organization,
referred together to one shelter with a bed held for each (all or none), answered and
decided for all at once, placed, discharged and (deliberately) withdrawn one by one."""
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from coordination import clock
from coordination.audit.models import AuditEvent
from coordination.beds.models import BedPool
from coordination.errors import InvalidFields, InvalidMove, NoBedAvailable, NotAllowed
from coordination.extensions import db
from coordination.referrals import services, siblings
from coordination.referrals.models import Child, Referral, ReferralGroup, SiblingGroup

from ..conftest import _acting
from .pages import body, raw, redirect_path


@pytest.fixture
def family(make):
    """A caseworker's organization with two girls and a boy, not yet linked, and a shelter
    in their region with a girls' pool (two free beds) and a boys' pool (one free bed)."""
    organization = make.organization()
    caseworker = make.user("caseworker", organization=organization)
    children = [make.child(registered_by=caseworker, sex=sex, given_name=name)
                for sex, name in (("female", "Leyla"), ("female", "Nigar"), ("male", "Murad"))]
    shelter = make.shelter(region=organization.region)
    girls = make.pool(shelter=shelter, capacity=3, occupied=1, admits_sex="female")
    boys = make.pool(shelter=shelter, capacity=2, out_of_service=1, admits_sex="male")
    return caseworker, children, shelter, girls, boys


def link_all(caseworker, children):
    with _acting(caseworker):
        for other in children[1:]:
            siblings.link_siblings(caseworker, children[0], other.case_reference)
    db.session.commit()


def refer(caseworker, children, shelter, urgency="urgent"):
    with _acting(caseworker):
        referrals = siblings.refer_together(caseworker, children, shelter.id, urgency, "")
    db.session.commit()
    return referrals


def statuses(referrals) -> list[str]:
    for r in referrals:
        db.session.refresh(r)
    return [r.status for r in referrals]


def held(*pools) -> list[int]:
    return [db.session.scalar(select(BedPool.held).where(BedPool.id == p.id)) for p in pools]


def step(referral, action, user, **reason):
    with _acting(user):
        siblings.take_step(referral, action, user, **reason)
    db.session.commit()


# --- linking -------------------------------------------------------------------------------

def test_a_caseworker_links_siblings_by_case_reference_on_the_child_page_and_it_is_audited(family, login_as):
    caseworker, (leyla, nigar, murad), *_ = family
    page = login_as(caseworker)

    response = page.post(f"/children/{leyla.id}/siblings", {"case_reference": nigar.case_reference.lower()})

    assert redirect_path(response) == f"/children/{leyla.id}"
    db.session.refresh(leyla), db.session.refresh(nigar)
    assert leyla.sibling_group_id is not None and leyla.sibling_group_id == nigar.sibling_group_id
    shown = body(page.get(f"/children/{leyla.id}"))
    assert nigar.case_reference in shown and "Nigar" in shown and "Refer the siblings together" in shown
    linked = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "child.sibling_link")).all()
    assert sorted(e.object_id for e in linked) == sorted([str(leyla.id), str(nigar.id)])
    assert all("Leyla" not in str(e.details) and "Nigar" not in str(e.details) for e in linked)
    seen = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "child.view_list",
                                                       AuditEvent.object_id == "siblings")).all()
    assert seen and seen[-1].details["child_ids"] == [nigar.id]


def test_another_organizations_child_is_never_linked_and_its_page_answers_404(family, make, login_as):
    caseworker, (leyla, *_), *_ = family
    stranger = make.child(given_name="Stranger")
    page = login_as(caseworker)

    refused = page.post(f"/children/{leyla.id}/siblings", {"case_reference": stranger.case_reference})
    unknown = page.post(f"/children/{leyla.id}/siblings", {"case_reference": "UC-1999-99999"})

    assert refused.status_code == unknown.status_code == 422
    assert "No child of your organization has that case reference." in body(refused)
    assert "Stranger" not in body(refused)
    assert page.post(f"/children/{stranger.id}/siblings", {"case_reference": leyla.case_reference}).status_code == 404
    assert page.post(f"/children/{stranger.id}/siblings/unlink").status_code == 404
    assert page.get(f"/children/{stranger.id}/siblings/refer").status_code == 404
    assert db.session.scalar(select(func.count(SiblingGroup.id))) == 0
    assert db.session.scalar(select(func.count()).where(Child.sibling_group_id.is_not(None))) == 0


def test_only_the_childrens_caseworkers_link_them(family, make):
    caseworker, (leyla, nigar, _), *_ = family
    colleague_elsewhere = make.user("caseworker")
    staff = make.user("shelter_staff", organization=caseworker.organization)
    for outsider in (colleague_elsewhere, staff):
        with pytest.raises(NotAllowed) as refused:
            siblings.link_siblings(outsider, leyla, nigar.case_reference)
        assert "Only caseworkers of the children's organization" in refused.value.message
        db.session.rollback()


def test_linking_brings_two_groups_together_and_unlinking_the_last_pair_ends_the_group(family, make, login_as):
    caseworker, (leyla, nigar, murad), *_ = family
    fourth = make.child(registered_by=caseworker, sex="male")
    with _acting(caseworker):
        siblings.link_siblings(caseworker, leyla, nigar.case_reference)
        siblings.link_siblings(caseworker, murad, fourth.case_reference)
        siblings.link_siblings(caseworker, nigar, fourth.case_reference)
    db.session.commit()
    assert {c.id for c in siblings.siblings_of(leyla)} == {nigar.id, murad.id, fourth.id}
    assert db.session.scalar(select(func.count(SiblingGroup.id))) == 1

    page = login_as(caseworker)
    for child in (leyla, nigar, murad):
        assert redirect_path(page.post(f"/children/{child.id}/siblings/unlink")) == f"/children/{child.id}"

    db.session.expire_all()
    assert db.session.scalar(select(func.count()).where(Child.sibling_group_id.is_not(None))) == 0
    assert db.session.scalar(select(func.count(SiblingGroup.id))) == 0
    assert page.post(f"/children/{leyla.id}/siblings/unlink").status_code == 409  # linked to nobody now


# --- held together, all or none ------------------------------------------------------------

def test_siblings_referred_together_each_hold_a_bed_in_the_pool_that_admits_them(family):
    caseworker, children, shelter, girls, boys = family
    link_all(caseworker, children)

    referrals = refer(caseworker, children, shelter)

    assert statuses(referrals) == ["submitted"] * 3
    assert [r.pool_id for r in referrals] == [girls.id, girls.id, boys.id]
    assert len({r.group_id for r in referrals}) == 1 and referrals[0].group_id is not None
    assert len({r.hold_until for r in referrals}) == 1  # held together, they run out together
    assert held(girls, boys) == [2, 1]
    assert services.integrity_problems() == []


def test_when_one_sibling_finds_no_bed_nothing_is_held_for_any_of_them(family, make):
    caseworker, children, shelter, girls, boys = family
    link_all(caseworker, children)
    make.referral(pool=boys, child=make.child(sex="male"), status="submitted")  # the boys' last bed goes

    with _acting(caseworker), pytest.raises(NoBedAvailable) as refused:
        siblings.refer_together(caseworker, children, shelter.id, "urgent", "")
    db.session.rollback()

    assert "could not be held together" in refused.value.message
    assert "Nothing was held for any of them" in refused.value.message
    assert children[2].case_reference in refused.value.message
    assert held(girls, boys) == [0, 1]
    assert db.session.scalar(select(func.count(Referral.id)).where(
        Referral.child_id.in_([c.id for c in children]))) == 0
    assert db.session.scalar(select(func.count(ReferralGroup.id))) == 0
    assert services.integrity_problems() == []


def test_the_page_refuses_a_shelter_without_room_for_all_and_keeps_nothing(family, make, login_as):
    caseworker, children, shelter, girls, boys = family
    link_all(caseworker, children)
    make.referral(pool=boys, child=make.child(sex="male"), status="submitted")
    page = login_as(caseworker)
    data = {"children": [str(c.id) for c in children], "shelter": str(shelter.id), "urgency": "urgent"}

    response = page.post(f"/children/{children[0].id}/siblings/refer", data)

    assert response.status_code == 409
    assert "could not be held together" in body(response)
    assert db.session.scalar(select(func.count(Referral.id)).where(
        Referral.child_id.in_([c.id for c in children]))) == 0
    assert held(girls, boys) == [0, 1]


def test_the_page_refers_them_together_and_shows_the_group_on_each_referral(family, login_as):
    caseworker, children, shelter, girls, boys = family
    link_all(caseworker, children)
    page = login_as(caseworker)
    data = {"children": [str(c.id) for c in children], "shelter": str(shelter.id), "urgency": "urgent"}

    response = page.post(f"/children/{children[0].id}/siblings/refer", data)

    first = db.session.scalars(select(Referral).order_by(Referral.id)).first()
    assert redirect_path(response) == f"/referrals/{first.id}"
    shown = body(page.get(f"/referrals/{first.id}"))
    assert "Siblings referred together" in shown
    assert all(c.case_reference in shown for c in children)
    assert held(girls, boys) == [2, 1]


def test_a_child_alone_is_not_referred_as_a_group(family):
    caseworker, children, shelter, *_ = family
    with _acting(caseworker), pytest.raises(InvalidFields) as refused:
        siblings.refer_together(caseworker, children[:1], shelter.id, "routine", "")
    assert "at least two children linked as siblings" in refused.value.message


# --- the shelter and guardianship answer for the group --------------------------------------

def test_accepting_one_sibling_accepts_them_all_and_their_holds_run_out_together(family, make):
    caseworker, children, shelter, girls, boys = family
    link_all(caseworker, children)
    referrals = refer(caseworker, children, shelter)
    staff = make.user("shelter_staff", organization=shelter.organization)

    step(referrals[2], "accept", staff)

    assert statuses(referrals) == ["accepted"] * 3
    assert len({r.hold_until for r in referrals}) == 1
    assert held(girls, boys) == [2, 1]


def test_declining_one_sibling_declines_them_all_and_frees_every_bed(family, make):
    caseworker, children, shelter, girls, boys = family
    link_all(caseworker, children)
    referrals = refer(caseworker, children, shelter)
    staff = make.user("shelter_staff", organization=shelter.organization)

    step(referrals[0], "decline", staff, reason_code="no_capacity", reason_text="We cannot take three.")

    assert statuses(referrals) == ["declined"] * 3
    assert held(girls, boys) == [0, 0]
    assert services.integrity_problems() == []


def test_guardianship_decides_for_all_and_each_sibling_arrives_and_leaves_alone(family, make):
    caseworker, children, shelter, girls, boys = family
    link_all(caseworker, children)
    referrals = refer(caseworker, children, shelter)
    staff = make.user("shelter_staff", organization=shelter.organization)
    guardian = make.user("guardianship", organization=make.organization(kind="state", region=shelter.region))
    step(referrals[0], "accept", staff)

    step(referrals[1], "approve", guardian)
    assert statuses(referrals) == ["approved"] * 3

    step(referrals[2], "place", staff)
    assert statuses(referrals) == ["approved", "approved", "placed"]
    step(referrals[0], "place", staff)
    step(referrals[0], "discharge", staff, reason_code="family_reunification", reason_text="Reunited with an aunt.")
    assert statuses(referrals) == ["discharged", "approved", "placed"]
    assert held(girls, boys) == [1, 0]
    assert services.integrity_problems() == []


def test_siblings_in_an_emergency_are_taken_in_together_and_the_decision_is_for_all(family, make):
    caseworker, children, shelter, girls, boys = family
    link_all(caseworker, children)
    referrals = refer(caseworker, children, shelter, urgency="emergency")
    staff = make.user("shelter_staff", organization=shelter.organization)
    guardian = make.user("guardianship", organization=make.organization(kind="state", region=shelter.region))

    step(referrals[1], "place_now", staff)
    assert statuses(referrals) == ["emergency_placed"] * 3
    assert held(girls, boys) == [0, 0]
    assert len({r.decision_due_at for r in referrals}) == 1

    step(referrals[2], "reject_emergency", guardian, reason_text="An uncle in Ganja takes all three.")
    assert statuses(referrals) == ["moving_out"] * 3
    assert services.integrity_problems() == []


def test_a_together_step_for_one_sibling_alone_is_refused_and_changes_nothing(family, make):
    caseworker, children, shelter, *_ = family
    link_all(caseworker, children)
    referrals = refer(caseworker, children, shelter)
    staff = make.user("shelter_staff", organization=shelter.organization)

    with _acting(staff), pytest.raises(InvalidMove) as refused:
        services.move(referrals[0], "accept", staff)
    db.session.rollback()

    assert "for all of them at once" in refused.value.message
    assert statuses(referrals) == ["submitted"] * 3


def test_the_caseworker_withdraws_one_sibling_deliberately_or_all_of_them(family, make, login_as):
    caseworker, children, shelter, girls, boys = family
    link_all(caseworker, children)
    referrals = refer(caseworker, children, shelter)
    page = login_as(caseworker)

    one = page.post(f"/referrals/{referrals[2].id}/withdraw", {"reason_text": "His father was found."})
    assert one.status_code == 303
    assert statuses(referrals) == ["submitted", "submitted", "withdrawn"]

    shown = body(page.get(f"/referrals/{referrals[0].id}"))
    assert "Withdraw the referrals of all the siblings" in shown
    everyone = page.post(f"/referrals/{referrals[0].id}/withdraw_siblings", {"reason_text": "Family reunited."})
    assert everyone.status_code == 303
    assert statuses(referrals) == ["withdrawn"] * 3
    assert held(girls, boys) == [0, 0]


def test_a_referral_alone_has_no_step_for_siblings(family, make, login_as):
    caseworker, children, shelter, girls, _ = family
    referral = make.referral(pool=girls, child=children[0], status="submitted")

    assert "withdraw_siblings" not in [m.action for m in services.allowed_moves(caseworker, referral)]
    response = login_as(caseworker).post(f"/referrals/{referral.id}/withdraw_siblings", {"reason_text": "x"})
    assert response.status_code == 409
    db.session.refresh(referral)
    assert referral.status == "submitted"


# --- need to know --------------------------------------------------------------------------

def test_the_group_shows_case_references_to_the_shelter_and_names_only_after_it_accepts(family, make, login_as):
    caseworker, children, shelter, *_ = family
    link_all(caseworker, children)
    referrals = refer(caseworker, children, shelter)
    staff = login_as(make.user("shelter_staff", organization=shelter.organization))

    before = body(staff.get(f"/referrals/{referrals[0].id}"))
    assert all(c.case_reference in before for c in children)
    assert not any(name in before for name in ("Leyla", "Nigar", "Murad"))

    staff.post(f"/referrals/{referrals[0].id}/accept")
    after = body(staff.get(f"/referrals/{referrals[0].id}"))
    assert all(name in after for name in ("Leyla", "Nigar", "Murad"))
    seen = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "child.view_list",
                                                       AuditEvent.object_id == "sibling group")).all()
    assert sorted(seen[-1].details["child_ids"]) == sorted(c.id for c in children)


# --- which shelter ---------------------------------------------------------------------------

def test_shelters_that_can_take_every_sibling_now_come_first(family, make, login_as):
    caseworker, children, best, girls, boys = family
    link_all(caseworker, children)
    region = caseworker.organization.region
    girls_only = make.shelter(region=region, name="Girls Only House")
    make.pool(shelter=girls_only, capacity=10, admits_sex="female")
    full_for_boys = make.shelter(region=region, name="Full For Boys")
    make.pool(shelter=full_for_boys, capacity=10, admits_sex="any", occupied=10)
    make.pool(shelter=full_for_boys, capacity=10, admits_sex="female")
    far_but_whole = make.shelter(name="Far But Whole")
    make.pool(shelter=far_but_whole, capacity=3, admits_sex="any")

    options = siblings.shelter_options(children)

    assert [o.whole for o in options[:2]] == [True, True]
    assert options[0].shelter.id == best.id  # whole, and in the children's region
    assert options[1].shelter.name == "Far But Whole"
    assert {o.shelter.name for o in options[2:]} == {"Girls Only House", "Full For Boys"}
    page = body(login_as(caseworker).get(f"/children/{children[0].id}/siblings/refer"))
    assert page.index(best.name) < page.index("Far But Whole") < page.index("Girls Only House")
    assert "takes all 3 siblings now" in page


def test_holds_taken_together_run_out_together(family, make):
    caseworker, children, shelter, girls, boys = family
    link_all(caseworker, children)
    referrals = refer(caseworker, children, shelter)
    staff = make.user("shelter_staff", organization=shelter.organization)
    step(referrals[1], "accept", staff)
    deadline = referrals[0].hold_until
    clock.freeze(deadline + timedelta(seconds=1))

    closed = services.expire_overdue_holds(pool_id=boys.id)  # e.g. another child's submission to the boys' pool
    db.session.commit()

    assert [r.id for r in closed] == [referrals[2].id]
    assert all(services.hold_is_overdue(r) for r in referrals[:2])  # overdue is no bed held: no move, no count
    assert services.allowed_moves(staff, referrals[0]) == []
    services.expire_overdue_holds()
    db.session.commit()
    assert statuses(referrals) == ["expired"] * 3
    assert held(girls, boys) == [0, 0]


def test_an_htmx_answer_for_the_group_is_the_status_panel_and_tells_the_board(family, make, login_as):
    caseworker, children, shelter, *_ = family
    link_all(caseworker, children)
    referrals = refer(caseworker, children, shelter)
    staff = login_as(make.user("shelter_staff", organization=shelter.organization))

    response = staff.post(f"/referrals/{referrals[1].id}/accept", htmx=True)

    assert response.status_code == 200
    assert raw(response).lstrip().startswith('<section id="referral-state"')
    assert "bedsChanged" in response.headers["HX-Trigger"]
    assert "For all the siblings referred together, at once." not in raw(response)  # nothing more to do now
    assert statuses(referrals) == ["accepted"] * 3
