"""Shelter staff keep their pools' counts true; nobody else may touch them."""
from datetime import timedelta

import pytest
from sqlalchemy import select

from coordination import clock
from coordination.beds.models import BedUpdate
from coordination.extensions import db


def url(pool, action: str) -> str:
    return f"/shelters/{pool.shelter_id}/pools/{pool.id}/{action}"


def history(pool) -> list[BedUpdate]:
    return db.session.scalars(select(BedUpdate).where(BedUpdate.pool_id == pool.id).order_by(BedUpdate.id)).all()


@pytest.fixture
def pool(make):
    return make.pool(capacity=5, occupied=2, last_confirmed_at=clock.now() - timedelta(days=3))


@pytest.fixture
def staff(login_as, pool):
    return login_as("shelter_staff", organization=pool.shelter.organization)


def test_plus_one_answers_htmx_with_only_the_updated_row(staff, pool):
    response = staff.post(url(pool, "adjust"), {"version": 1, "field": "occupied", "delta": 1}, htmx=True)
    assert response.status_code == 200
    body = response.get_data(as_text=True)
    assert body.lstrip().startswith(f'<tr id="pool-{pool.id}"')
    assert "<html" not in body
    assert response.headers["HX-Trigger"] == "bedsChanged"
    assert 'data-free="2"' in body
    db.session.refresh(pool)
    assert (pool.occupied, pool.version) == (3, 2)


def test_every_change_appends_a_bed_update_and_sets_last_confirmed(staff, pool):
    clock.freeze(clock.now())
    staff.post(url(pool, "adjust"), {"version": 1, "field": "out_of_service", "delta": 1}, htmx=True)
    staff.post(url(pool, "counts"), {"version": 2, "occupied": 1, "out_of_service": 1,
                                     "out_of_service_reason": "broken bed frame"}, htmx=True)
    db.session.refresh(pool)
    assert pool.last_confirmed_at == clock.now()
    updates = history(pool)
    assert [(u.occupied, u.out_of_service, u.user_id) for u in updates] == [
        (2, 1, staff.user.id), (1, 1, staff.user.id)]
    assert updates[-1].reason == "counts edited"
    assert pool.out_of_service_reason == "broken bed frame"


def test_counts_confirmed_records_unchanged_counts_as_fresh(staff, pool):
    before = pool.last_confirmed_at
    response = staff.post(url(pool, "confirm"), {"version": 1}, htmx=True)
    assert response.status_code == 200
    assert "fresh" in response.get_data(as_text=True)
    db.session.refresh(pool)
    assert pool.occupied == 2 and pool.last_confirmed_at > before
    assert [u.reason for u in history(pool)] == ["counts confirmed"]


def test_without_javascript_a_change_redirects_back_to_the_shelter_page(staff, pool):
    response = staff.post(url(pool, "adjust"), {"version": 1, "field": "occupied", "delta": -1})
    assert response.status_code == 303
    assert response.headers["Location"] == f"/shelters/{pool.shelter_id}#pool-{pool.id}"
    page = staff.get(f"/shelters/{pool.shelter_id}").get_data(as_text=True)
    assert "Saved." in page
    db.session.refresh(pool)
    assert pool.occupied == 1


@pytest.mark.parametrize("payload, message", [
    ({"field": "occupied", "delta": 1}, "That would make 6 beds"),
    ({"field": "out_of_service", "delta": 1}, "That would make 6 beds"),
])
def test_change_beyond_capacity_is_refused_in_the_row_and_changes_nothing(make, login_as, payload, message):
    full = make.pool(capacity=3, occupied=2, out_of_service=1)
    staff = login_as("shelter_staff", organization=full.shelter.organization)
    response = staff.post(url(full, "adjust"), {"version": 1, **payload}, htmx=True)
    assert response.status_code == 422
    body = response.get_data(as_text=True)
    assert f'<tr id="pool-{full.id}"' in body and "That would make 4 beds" in body
    db.session.refresh(full)
    assert (full.occupied, full.out_of_service, full.version) == (2, 1, 1)
    assert history(full) == []


def test_held_beds_count_against_capacity(make, login_as):
    pool = make.pool(capacity=4, occupied=1)
    pool.held = 2
    db.session.commit()
    staff = login_as("shelter_staff", organization=pool.shelter.organization)
    response = staff.post(url(pool, "counts"), {"version": 1, "occupied": 3, "out_of_service": 0}, htmx=True)
    assert response.status_code == 422
    assert "That would make 5 beds occupied, out of service or held in a pool of 4" in response.get_data(as_text=True)
    assert staff.post(url(pool, "counts"), {"version": 1, "occupied": 2, "out_of_service": 0},
                      htmx=True).status_code == 200


def test_count_below_zero_is_refused(staff, pool):
    response = staff.post(url(pool, "counts"), {"version": 1, "occupied": 0, "out_of_service": 0}, htmx=True)
    assert response.status_code == 200
    response = staff.post(url(pool, "adjust"), {"version": 2, "field": "occupied", "delta": -1}, htmx=True)
    assert response.status_code == 422
    assert "cannot go below zero" in response.get_data(as_text=True)
    db.session.refresh(pool)
    assert (pool.occupied, pool.version) == (0, 2)


def test_refusal_without_javascript_shows_the_page_with_the_message_in_the_row(make, login_as):
    full = make.pool(capacity=1, occupied=1)
    staff = login_as("shelter_staff", organization=full.shelter.organization)
    response = staff.post(url(full, "adjust"), {"version": 1, "field": "occupied", "delta": 1})
    assert response.status_code == 422
    body = response.get_data(as_text=True)
    assert "<html" in body and "That would make 2 beds" in body


def test_second_editor_gets_a_conflict_with_the_current_numbers(make, login_as, pool):
    first = login_as("shelter_staff", organization=pool.shelter.organization)
    second = login_as("shelter_staff", organization=pool.shelter.organization)
    # Both opened the page at version 1 with 2 occupied.
    assert first.post(url(pool, "counts"), {"version": 1, "occupied": 4, "out_of_service": 0},
                      htmx=True).status_code == 200
    response = second.post(url(pool, "adjust"), {"version": 1, "field": "occupied", "delta": 1}, htmx=True)
    assert response.status_code == 409
    body = response.get_data(as_text=True)
    assert "Someone else changed this pool" in body
    assert '<output data-count="occupied">4</output>' in body  # today's number, not the stale one
    assert 'name="version" value="2"' in body  # so the next press works
    db.session.refresh(pool)
    assert (pool.occupied, pool.version) == (4, 2)
    assert len(history(pool)) == 1


def test_stale_confirmation_is_a_conflict_too(staff, pool):
    staff.post(url(pool, "adjust"), {"version": 1, "field": "occupied", "delta": 1}, htmx=True)
    response = staff.post(url(pool, "confirm"), {"version": 1}, htmx=True)
    assert response.status_code == 409


@pytest.mark.parametrize("role", ["shelter_staff", "caseworker", "guardianship", "oversight", "admin"])
def test_nobody_but_the_operators_staff_may_edit(make, login_as, pool, role):
    outsider = login_as(role)  # in an organization of their own
    for action, data in (("adjust", {"field": "occupied", "delta": 1}),
                         ("counts", {"occupied": 1, "out_of_service": 0}), ("confirm", {})):
        response = outsider.post(url(pool, action), {"version": 1, **data}, htmx=True)
        assert response.status_code == 403, (role, action)
    page = outsider.get(f"/shelters/{pool.shelter_id}").get_data(as_text=True)
    assert "+1" not in page and "Save counts" not in page
    db.session.refresh(pool)
    assert (pool.occupied, pool.version) == (2, 1) and history(pool) == []


def test_caseworker_of_the_same_organization_may_not_edit_either(make, login_as, pool):
    caseworker = login_as("caseworker", organization=pool.shelter.organization)
    response = caseworker.post(url(pool, "adjust"), {"version": 1, "field": "occupied", "delta": 1})
    assert response.status_code == 403
    db.session.refresh(pool)
    assert pool.occupied == 2


def test_anonymous_edit_is_sent_to_sign_in_and_changes_nothing(client, pool):
    response = client.post(url(pool, "adjust"), {"version": 1, "field": "occupied", "delta": 1})
    assert response.status_code == 302 and "/login" in response.headers["Location"]
    db.session.refresh(pool)
    assert pool.occupied == 2


def test_post_without_csrf_token_is_refused(staff, pool):
    response = staff.post(url(pool, "adjust"), {"version": 1, "field": "occupied", "delta": 1},
                          htmx=True, csrf=False)
    assert response.status_code == 400
    db.session.refresh(pool)
    assert pool.occupied == 2


def test_address_is_shown_only_to_own_staff_regional_guardianship_and_admin(make, login_as, pool):
    shelter = pool.shelter
    region_guardian_org = make.organization(kind="state", region=shelter.region)
    sees = [login_as("shelter_staff", organization=shelter.organization),
            login_as("guardianship", organization=region_guardian_org), login_as("admin")]
    does_not = [login_as("guardianship"), login_as("caseworker"), login_as("oversight"),
                login_as("shelter_staff")]
    for person in sees:
        assert shelter.address in person.get(f"/shelters/{shelter.id}").get_data(as_text=True)
    for person in does_not:
        assert shelter.address not in person.get(f"/shelters/{shelter.id}").get_data(as_text=True)


def test_occupied_cannot_drop_below_the_children_placed_through_referrals(make, login_as):
    pool = make.pool(capacity=4, occupied=0)
    make.referral(pool=pool, status="placed")
    staff = login_as("shelter_staff", organization=pool.shelter.organization)
    db.session.refresh(pool)
    response = staff.post(url(pool, "counts"), {"version": pool.version, "occupied": 0, "out_of_service": 0},
                          htmx=True)
    assert response.status_code == 422
    assert "record the discharge on the referral" in response.get_data(as_text=True)
    db.session.refresh(pool)
    assert pool.occupied == 1


def steppers(staff, pool) -> dict:
    """{(field, delta): (disabled?, the reason shown beside it)} for the pool's row."""
    import re

    row = re.search(rf'<tr id="pool-{pool.id}".*?</tr>', staff.get(f"/shelters/{pool.shelter_id}")
                    .get_data(as_text=True), re.S).group(0)
    found = {}
    for field in ("occupied", "out_of_service"):
        cell = re.search(rf'name="field" value="{field}">(.*?)</form>', row, re.S).group(1)
        reason = re.search(r'class="why-not"[^>]*>([^<]*)<', cell)
        for delta in ("-1", "1"):
            button = re.search(rf'<button[^>]*value="{delta}"[^>]*>', cell).group(0)
            found[(field, int(delta))] = ("disabled" in button, reason.group(1) if reason else "")
    return found


def test_on_a_full_pool_the_plus_buttons_are_disabled_saying_why(make, login_as):
    pool = make.pool(capacity=3, occupied=2, out_of_service=1)
    staff = login_as(make.user("shelter_staff", organization=pool.shelter.organization))
    shown = steppers(staff, pool)
    assert shown[("occupied", 1)] == (True, "no bed free now")
    assert shown[("out_of_service", 1)] == (True, "no bed free now")
    assert shown[("occupied", -1)][0] is False


def test_a_count_at_zero_cannot_go_lower_and_says_so(make, login_as):
    pool = make.pool(capacity=3, occupied=0, out_of_service=1)
    staff = login_as(make.user("shelter_staff", organization=pool.shelter.organization))
    shown = steppers(staff, pool)
    assert shown[("occupied", -1)] == (True, "none to take away")
    assert shown[("occupied", 1)][0] is False
    assert shown[("out_of_service", -1)] == (False, "")
