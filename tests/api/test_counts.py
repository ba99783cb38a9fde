"""Changing bed counts through the API: the shelter page's operations, with its version guard
(a stale version answers 409 with the pool as it is now), its refusals in its words, and its
audit lines, signed by the token's account."""
from sqlalchemy import select

from coordination.audit.models import AuditEvent
from coordination.beds.models import BedUpdate
from coordination.extensions import db


def test_staff_move_a_count_by_one_and_get_the_pool_back(make, make_token):
    pool = make.pool(capacity=5)
    api, token = make_token("shelter_staff", organization=pool.shelter.organization)

    response = api.post(f"/api/v1/pools/{pool.id}/adjust", {"field": "occupied", "delta": 1, "version": 1})

    assert response.status_code == 200
    shown = response.get_json()
    assert (shown["occupied"], shown["available"], shown["version"]) == (1, 4, 2)
    assert pool.occupied == 1
    update = db.session.scalars(select(BedUpdate).where(BedUpdate.pool_id == pool.id)
                                .order_by(BedUpdate.id.desc())).first()
    assert update.user_id == token.account_id and update.reason == "occupied +1"
    counts = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "pool.counts")).one()
    assert counts.user_id == token.account_id and counts.object_id == str(pool.id)


def test_staff_set_both_counts_and_confirm_them(make, make_token):
    pool = make.pool(capacity=5)
    api, _token = make_token("shelter_staff", organization=pool.shelter.organization)

    set_counts = api.post(f"/api/v1/pools/{pool.id}/counts",
                          {"occupied": 2, "out_of_service": 1, "out_of_service_reason": "broken bed", "version": 1})
    confirmed = api.post(f"/api/v1/pools/{pool.id}/confirm", {"version": 2})

    assert set_counts.status_code == 200 and confirmed.status_code == 200
    assert (pool.occupied, pool.out_of_service, pool.out_of_service_reason, pool.version) == (2, 1, "broken bed", 3)
    assert confirmed.get_json()["freshness"] == "fresh"


def test_a_stale_version_is_refused_409_with_the_current_pool(make, make_token, login_as):
    pool = make.pool(capacity=5)
    api, _token = make_token("shelter_staff", organization=pool.shelter.organization)
    person = login_as("shelter_staff", organization=pool.shelter.organization)
    person.post(f"/shelters/{pool.shelter_id}/pools/{pool.id}/adjust", {"field": "occupied", "delta": 1,
                                                                       "version": 1})

    response = api.post(f"/api/v1/pools/{pool.id}/adjust", {"field": "occupied", "delta": 1, "version": 1})

    assert response.status_code == 409
    body = response.get_json()
    assert body["detail"] == ("Someone else changed this pool while you were looking at it. "
                              "These are the current numbers; nothing of yours was saved.")
    assert body["current_version"] == 2 and body["pool"]["occupied"] == 1
    assert body["type"] == "urn:coordination:problem:edit-conflict"
    assert pool.occupied == 1


def test_occupied_cannot_go_below_the_children_placed_as_on_the_page(make, make_token, login_as):
    pool = make.pool(capacity=5)
    make.referral(pool=pool, status="placed")
    api, _token = make_token("shelter_staff", organization=pool.shelter.organization)
    message = ("1 child placed here through a referral is still in this pool; record the discharge on the "
               "referral instead of lowering the count.")
    page = login_as("shelter_staff", organization=pool.shelter.organization).post(
        f"/shelters/{pool.shelter_id}/pools/{pool.id}/counts",
        {"occupied": 0, "out_of_service": 0, "version": pool.version})

    response = api.post(f"/api/v1/pools/{pool.id}/counts", {"occupied": 0, "out_of_service": 0,
                                                            "version": pool.version})

    assert page.status_code == response.status_code == 422
    assert message in page.get_data(as_text=True)
    assert response.get_json()["detail"] == message
    assert pool.occupied == 1


def test_counts_that_do_not_fit_the_pool_are_refused_in_the_pages_words(make, make_token):
    pool = make.pool(capacity=3)
    api, _token = make_token("shelter_staff", organization=pool.shelter.organization)

    response = api.post(f"/api/v1/pools/{pool.id}/counts", {"occupied": 2, "out_of_service": 2, "version": 1})

    assert response.status_code == 422
    assert response.get_json()["detail"] == (
        "That would make 4 beds occupied, out of service or held in a pool of 3. Nothing was changed.")


def test_staff_of_another_organization_may_not_change_the_counts(make, make_token):
    pool = make.pool()
    api, _token = make_token("shelter_staff")

    response = api.post(f"/api/v1/pools/{pool.id}/confirm", {"version": 1})

    assert response.status_code == 403
    assert response.get_json()["detail"] == "You are not allowed to do that; nothing was changed."
    assert db.session.scalars(select(AuditEvent).where(AuditEvent.action == "pool.counts")).all() == []


def test_an_unknown_pool_is_404(make_token):
    api, _token = make_token("shelter_staff")

    assert api.post("/api/v1/pools/999999/confirm", {"version": 1}).status_code == 404
    assert api.get("/api/v1/pools/999999").status_code == 404
