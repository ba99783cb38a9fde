"""Reading the bed board through the API: shelters and pools with their availability and
freshness, a page at a time, by region, and only what changed since the last sync."""
from datetime import timedelta

from coordination import clock
from coordination.beds import operations
from coordination.extensions import db

from ..conftest import _acting


def _ids(response) -> list[int]:
    return [item["id"] for item in response.get_json()["items"]]


def test_a_pool_reads_with_its_availability_and_freshness(make, make_token):
    pool = make.pool(capacity=6, occupied=2, out_of_service=1, out_of_service_reason="leak",
                     last_confirmed_at=clock.now() - timedelta(hours=20))
    make.referral(pool=pool, status="submitted")
    api, _token = make_token("oversight")

    (shown,) = api.get("/api/v1/pools").get_json()["items"]

    assert {k: shown[k] for k in ("id", "capacity", "occupied", "out_of_service", "out_of_service_reason",
                                  "held", "available", "freshness", "offered")} == {
        "id": pool.id, "capacity": 6, "occupied": 2, "out_of_service": 1, "out_of_service_reason": "leak",
        "held": 1, "available": 2, "freshness": "aging", "offered": True}
    assert shown["shelter"]["organization_id"] == pool.shelter.organization_id
    assert shown["version"] == pool.version


def test_a_hold_past_its_deadline_no_longer_counts(make, make_token):
    pool = make.pool(capacity=1)
    make.referral(pool=pool, status="submitted")
    api, _token = make_token("caseworker")
    assert api.get(f"/api/v1/pools/{pool.id}").get_json()["available"] == 0

    clock.freeze(clock.now() + timedelta(hours=49))

    assert api.get(f"/api/v1/pools/{pool.id}").get_json()["available"] == 1


def test_pools_come_a_page_at_a_time_and_by_region(make, make_token):
    region = make.region()
    here = [make.pool(shelter=make.shelter(region=region)) for _ in range(3)]
    make.pool()
    api, _token = make_token("caseworker")

    first = api.get(f"/api/v1/pools?region={region.id}&limit=2").get_json()
    second = api.get(first["next"]).get_json()

    assert [p["id"] for p in first["items"]] == [here[0].id, here[1].id]
    assert [p["id"] for p in second["items"]] == [here[2].id]
    assert second["next"] is None
    assert second["sync"] == first["sync"]  # the sync time of the whole listing, on each page


def test_a_page_cursor_that_names_no_page_is_refused(make_token):
    api, _token = make_token("caseworker")

    response = api.get("/api/v1/pools?after=garbage")

    assert response.status_code == 422
    assert response.get_json()["errors"] == {
        "after": "Not a page of this list: follow the list's own Next and Previous links."}


def test_changed_since_gives_only_the_pools_that_changed(make, make_token):
    start = clock.now()
    staff = make.user("shelter_staff")
    counted, held, closed, quiet = (make.pool(shelter=make.shelter(organization=staff.organization))
                                    for _ in range(4))
    api, _token = make_token("caseworker")
    clock.freeze(start + timedelta(minutes=5))
    since = api.get("/api/v1/pools").get_json()["sync"]["changed_since"]
    clock.freeze(start + timedelta(minutes=10))

    with _acting(staff):
        operations.adjust_count(operations.pool_to_change(counted.id), staff, "occupied", 1, counted.version)
    db.session.commit()
    make.referral(pool=held, status="submitted")
    closed.shelter.status = "closed"
    db.session.commit()

    changed = api.get(f"/api/v1/pools?changed_since={since}").get_json()

    assert sorted(p["id"] for p in changed["items"]) == sorted([counted.id, held.id, closed.id])
    assert {p["id"]: p["offered"] for p in changed["items"]}[closed.id] is False
    assert quiet.id not in [p["id"] for p in changed["items"]]


def test_a_hold_running_out_and_counts_turning_stale_are_changes_too(make, make_token):
    start = clock.now()
    aging = make.pool(last_confirmed_at=start - timedelta(hours=47, minutes=30))
    holding = make.pool(last_confirmed_at=start)
    referral = make.referral(pool=holding, status="submitted", urgency="emergency")  # held 6 hours
    api, _token = make_token("caseworker")
    clock.freeze(start + timedelta(minutes=5))
    since = api.get("/api/v1/pools").get_json()["sync"]["changed_since"]

    clock.freeze(referral.hold_until + timedelta(minutes=1))  # past the hold, and 48 h since `aging` was confirmed
    changed = api.get(f"/api/v1/pools?changed_since={since}").get_json()["items"]

    assert {p["id"]: (p["freshness"], p["available"]) for p in changed} == {
        aging.id: ("stale", aging.capacity), holding.id: ("fresh", holding.capacity)}


def test_changed_since_must_be_a_time_with_its_offset(make_token):
    api, _token = make_token("caseworker")

    response = api.get("/api/v1/pools?changed_since=yesterday")

    assert response.status_code == 422
    assert list(response.get_json()["errors"]) == ["changed_since"]


def test_shelters_read_with_organization_and_region_and_the_address_only_for_whom_may_see_it(make, make_token):
    shelter = make.shelter(address="12 Nizami Street")
    make.pool(shelter=shelter)
    own_staff, _ = make_token("shelter_staff", organization=shelter.organization)
    stranger, _ = make_token("caseworker")

    (own,) = own_staff.get("/api/v1/shelters").get_json()["items"]
    (theirs,) = stranger.get("/api/v1/shelters").get_json()["items"]

    assert own["address"] == "12 Nizami Street"
    assert "address" not in theirs
    assert theirs["organization"]["name"] == shelter.organization.name
    assert theirs["region"]["id"] == shelter.region_id
    assert theirs["pools"] == [p.id for p in shelter.pools]


def test_shelters_changed_since_gives_those_whose_organization_was_deactivated(make, make_token):
    start = clock.now()
    kept, dropped = make.shelter(), make.shelter()
    api, _token = make_token("oversight")
    clock.freeze(start + timedelta(minutes=5))
    since = api.get("/api/v1/shelters").get_json()["sync"]["changed_since"]
    clock.freeze(start + timedelta(minutes=10))
    dropped.organization.active = False
    db.session.commit()

    changed = api.get(f"/api/v1/shelters?changed_since={since}")

    assert _ids(changed) == [dropped.id]
    assert changed.get_json()["items"][0]["organization"]["active"] is False
    assert kept.id not in _ids(changed)


def test_no_child_is_ever_named_on_the_board(make, make_token):
    pool = make.pool()
    child = make.child(given_name="Aysel")
    make.referral(pool=pool, child=child, status="submitted")
    api, _token = make_token("oversight")

    listed = api.get("/api/v1/pools").get_data(as_text=True) + api.get("/api/v1/shelters").get_data(as_text=True)

    assert "Aysel" not in listed and child.case_reference not in listed
