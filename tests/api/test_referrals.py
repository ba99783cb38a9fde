"""Children and referrals through the API: the pages' operations, refusals and need-to-know."""
from datetime import timedelta

from sqlalchemy import select

from coordination import clock
from coordination.audit.models import AuditEvent
from coordination.extensions import db
from coordination.referrals.models import Child, Referral

FOUND = {"found_place": "border_crossing"}


def _child_body(region_id: int, **values) -> dict:
    body = {"given_name": "Leyla", "family_name": "Hasanova", "sex": "female", "estimated_age": 13,
            "languages": ["fa", "az"], "needs": ["psychosocial"], "region": region_id, **FOUND,
            "found_region": region_id, "found_at": (clock.now() - timedelta(hours=2)).isoformat(),
            "consent_given_by": "the child's uncle", "consent_given_at": clock.now().isoformat(), "child_assent": True}
    body.update(values)
    return {k: v for k, v in body.items() if v is not None}


def test_a_caseworker_registers_a_child(make, make_token):
    organization = make.organization()
    api, token = make_token("caseworker", organization=organization)

    response = api.post("/api/v1/children", _child_body(organization.region_id))

    assert response.status_code == 201
    shown = response.get_json()
    child = db.session.get(Child, shown["id"])
    assert shown["case_reference"] == child.case_reference and shown["given_name"] == "Leyla"
    assert (child.languages, child.needs, child.registered_by_id) == (["fa", "az"], ["psychosocial"],
                                                                      token.account_id)
    assert child.has_consent and child.child_assent


def test_registering_names_every_problem_under_its_field(make, make_token):
    organization = make.organization()
    api, _token = make_token("caseworker", organization=organization)

    response = api.post("/api/v1/children", _child_body(organization.region_id, given_name="", sex="other",
                                                        estimated_age=30, languages=["xx-not-a-language"]))

    assert response.status_code == 422
    errors = response.get_json()["errors"]
    assert set(errors) >= {"given_name", "sex", "estimated_age", "languages"}
    assert errors["given_name"] == "Enter the given name."
    assert errors["estimated_age"] == "An unaccompanied child is 0 to 17 years old."
    assert db.session.scalar(select(Child)) is None


def test_a_likely_duplicate_is_pointed_out_until_confirmed(make, make_token):
    organization = make.organization()
    api, _token = make_token("caseworker", organization=organization)
    first = api.post("/api/v1/children", _child_body(organization.region_id)).get_json()

    again = api.post("/api/v1/children", _child_body(organization.region_id))
    confirmed = api.post("/api/v1/children", _child_body(organization.region_id, confirm_not_duplicate=True))

    assert again.status_code == 409
    assert again.get_json()["duplicates"][0]["case_reference"] == first["case_reference"]
    assert again.get_json()["detail"].startswith("This may be a child your organization has already registered")
    assert confirmed.status_code == 201


def test_only_caseworkers_register_children(make, make_token):
    api, _token = make_token("shelter_staff", scopes=["beds:read"])

    assert api.post("/api/v1/children", {}).status_code == 403


def test_submitting_needs_consent_then_holds_a_bed(make, make_token):
    organization = make.organization()
    pool = make.pool(capacity=2)
    api, _token = make_token("caseworker", organization=organization)
    child = api.post("/api/v1/children", _child_body(organization.region_id, consent_given_by=None,
                                                     consent_given_at=None)).get_json()
    draft = api.post("/api/v1/referrals", {"child": child["id"], "pool": pool.id, "urgency": "urgent"})
    assert draft.status_code == 201
    referral_id = draft.get_json()["id"]
    assert [m["action"] for m in draft.get_json()["moves"]] == ["submit"]

    refused = api.post(f"/api/v1/referrals/{referral_id}/moves", {"action": "submit"})
    consent = api.post(f"/api/v1/children/{child['id']}/consent",
                       {"consent_given_by": "the child's aunt", "consent_given_at": clock.now().isoformat()})
    submitted = api.post(f"/api/v1/referrals/{referral_id}/moves", {"action": "submit"})

    assert refused.status_code == 422
    assert refused.get_json()["detail"] == ("Record who gave consent to share this child's data, and when, "
                                            "before submitting.")
    assert consent.status_code == 200 and consent.get_json()["has_consent"] is True
    assert submitted.status_code == 200
    assert submitted.get_json()["status"] == "submitted" and submitted.get_json()["hold_until"]
    assert pool.held == 1


def test_a_referral_to_a_full_pool_is_refused_as_on_the_page(make, make_token, login_as):
    pool = make.pool(capacity=1, occupied=1)
    caseworker = make.user("caseworker")
    api, _token = make_token("caseworker", organization=caseworker.organization)
    mine = make.referral(pool=pool, child=make.child(registered_by=caseworker), caseworker=caseworker)
    theirs = make.referral(pool=pool, child=make.child(registered_by=caseworker), caseworker=caseworker)
    message = ("No bed is free in this pool now. Nothing was held; the referral stays a draft. "
               "Other pools that fit are listed below.")
    page = login_as(caseworker).post(f"/referrals/{theirs.id}/submit", {})

    response = api.post(f"/api/v1/referrals/{mine.id}/moves", {"action": "submit"})

    assert page.status_code == response.status_code == 409
    assert message in page.get_data(as_text=True)
    body = response.get_json()
    assert body["detail"] == message and body["type"] == "urn:coordination:problem:no-bed-available"
    assert (mine.status, pool.held) == ("draft", 0)


def test_a_move_the_role_may_not_make_is_refused_with_the_pages_words(make, make_token, login_as):
    referral = make.referral(status="submitted")
    caseworker_api, _token = make_token("caseworker", organization=referral.caseworker.organization)
    staff_api, _token = make_token("shelter_staff", organization=referral.pool.shelter.organization)
    page = login_as(referral.caseworker).post(f"/referrals/{referral.id}/accept", {})

    not_theirs = caseworker_api.post(f"/api/v1/referrals/{referral.id}/moves", {"action": "accept"})
    not_now = staff_api.post(f"/api/v1/referrals/{referral.id}/moves", {"action": "place"})
    no_such = staff_api.post(f"/api/v1/referrals/{referral.id}/moves", {"action": "teleport"})

    assert page.status_code == not_theirs.status_code == 403
    assert not_theirs.get_json()["detail"] == "Only staff of the organization running this shelter can do that."
    assert not_theirs.get_json()["detail"] in page.get_data(as_text=True)
    assert not_now.status_code == 409
    assert not_now.get_json()["detail"] == "This referral is submitted; it cannot be moved that way now."
    assert no_such.status_code == 422 and list(no_such.get_json()["errors"]) == ["action"]
    assert referral.status == "submitted"


def test_a_decline_needs_its_reason_as_on_the_page(make, make_token):
    referral = make.referral(status="submitted")
    api, _token = make_token("shelter_staff", organization=referral.pool.shelter.organization)

    refused = api.post(f"/api/v1/referrals/{referral.id}/moves", {"action": "decline"})
    declined = api.post(f"/api/v1/referrals/{referral.id}/moves", {"action": "decline", "reason_code": "no_capacity",
                                                                    "reason_text": "Roof repairs"})

    assert refused.status_code == 422
    assert refused.get_json()["errors"] == {
        "reason_code": "Choose why you decline: no capacity, not eligible, needs not met, or other.",
        "reason_text": "Give a reason; the caseworker and the audit trail need it."}
    assert declined.status_code == 200 and declined.get_json()["status"] == "declined"
    assert declined.get_json()["timeline"][-1]["reason_text"] == "Roof repairs"


def test_a_referral_to_a_pool_that_does_not_admit_the_child_is_refused_under_its_field(make, make_token):
    caseworker = make.user("caseworker")
    api, _token = make_token("caseworker", organization=caseworker.organization)
    child = make.child(registered_by=caseworker, sex="female")
    boys = make.pool(admits_sex="male")

    response = api.post("/api/v1/referrals", {"child": child.id, "pool": boys.id})
    unknown = api.post("/api/v1/referrals", {"child": 999999, "pool": boys.id})

    assert response.status_code == 422
    assert response.get_json()["errors"] == {"pool": "This pool does not admit this child (sex or age)."}
    assert unknown.get_json()["errors"] == {
        "child": "Choose one of your organization's children without a live referral."}
    assert db.session.scalar(select(Referral)) is None


def test_shelter_staff_see_only_referrals_to_their_own_pools(make, make_token):
    referral = make.referral(status="submitted")
    own, _token = make_token("shelter_staff", organization=referral.pool.shelter.organization)
    other, _token = make_token("shelter_staff")

    assert other.get(f"/api/v1/referrals/{referral.id}").status_code == 404
    assert other.get("/api/v1/referrals").get_json()["items"] == []
    assert [r["id"] for r in own.get("/api/v1/referrals").get_json()["items"]] == [referral.id]


def test_shelter_staff_learn_the_childs_name_only_once_they_accept(make, make_token):
    referral = make.referral(status="submitted")
    api, token = make_token("shelter_staff", organization=referral.pool.shelter.organization)

    before = api.get(f"/api/v1/referrals/{referral.id}").get_json()
    accepted = api.post(f"/api/v1/referrals/{referral.id}/moves", {"action": "accept"}).get_json()

    assert "given_name" not in before["child"] and before["child"]["case_reference"]
    assert accepted["child"]["given_name"] == referral.child.given_name
    views = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "child.view")).all()
    assert [(v.user_id, v.details["page"]) for v in views] == [(token.account_id, "api")]


def test_the_regions_guardianship_sees_and_decides_but_oversight_reads_no_referral(make, make_token):
    referral = make.referral(status="accepted")
    guardian_org = make.organization(kind="state", region=referral.pool.shelter.region)
    guardian, _token = make_token("guardianship", organization=guardian_org)
    oversight, _token = make_token("oversight")

    shown = guardian.get(f"/api/v1/referrals/{referral.id}").get_json()
    approved = guardian.post(f"/api/v1/referrals/{referral.id}/moves", {"action": "approve"})

    assert [m["action"] for m in shown["moves"]] == ["approve", "reject"]
    assert approved.get_json()["status"] == "approved"
    assert oversight.get("/api/v1/referrals").status_code == 403
    assert oversight.get(f"/api/v1/referrals/{referral.id}").status_code == 403
