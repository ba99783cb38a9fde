"""The issue's "done when": an external system keeps its own copy of the bed board current
and submits and follows a referral through the API alone, each party with its own token."""
from datetime import timedelta

from coordination import clock

from .conftest import ApiClient


def _sync(api, copy: dict, since: str | None = None) -> tuple[str, set[int]]:
    """Read every page (all, or what changed since), keep the copy; the next sync time and the ids read."""
    url = "/api/v1/pools" + (f"?changed_since={since}&limit=2" if since else "?limit=2")
    seen = set()
    while url:
        page = api.get(url).get_json()
        for pool in page["items"]:
            copy[pool["id"]] = pool
            seen.add(pool["id"])
        url, sync = page["next"], page["sync"]["changed_since"]
    return sync, seen


def test_a_case_system_keeps_the_board_and_follows_a_referral_from_registration_to_arrival(app, make, login_as):
    start = clock.now()
    sms = make.organization(kind="state", name="State Migration Service")
    ngo = make.organization(kind="ngo", name="Safe Haven")
    shelter = make.shelter(organization=ngo)
    girls = make.pool(shelter=shelter, label="Girls 12-17", admits_sex="female", min_age=12, max_age=17, capacity=3)
    others = [make.pool(shelter=make.shelter()) for _ in range(3)]
    guardians = make.organization(kind="state", region=shelter.region, name="Guardianship body")
    staff_person = login_as("shelter_staff", organization=ngo)
    admin = login_as("admin")  # the tokens are made as an admin makes them, on the page
    secrets = {}
    for name, organization, role, scopes in (
            ("sms", sms, "caseworker", ["beds:read", "referrals:read", "referrals:write", "children:write"]),
            ("shelter", ngo, "shelter_staff", ["beds:read", "referrals:read", "referrals:write"]),
            ("guardian", guardians, "guardianship", ["referrals:read", "referrals:write"])):
        made = admin.post("/admin/api-tokens/new", {"label": name, "organization": organization.id, "role": role,
                                                     "scopes": scopes})
        secrets[name] = made.get_data(as_text=True).split("data-api-token>")[1].split("<")[0]
    sms_api, shelter_api, guardian_api = (ApiClient(app, secrets[n]) for n in ("sms", "shelter", "guardian"))

    # The first sync: the whole board.
    clock.freeze(start + timedelta(minutes=5))
    board = {}
    since, seen = _sync(sms_api, board)
    assert seen == {girls.id, *(p.id for p in others)}
    assert board[girls.id]["available"] == 3

    # A person on the shelter's page takes one bed into use; the next sync sees exactly that pool.
    clock.freeze(start + timedelta(minutes=10))
    staff_person.post(f"/shelters/{shelter.id}/pools/{girls.id}/adjust",
                      {"field": "occupied", "delta": 1, "version": board[girls.id]["version"]})
    since, seen = _sync(sms_api, board, since)
    assert seen == {girls.id}
    assert (board[girls.id]["occupied"], board[girls.id]["available"]) == (1, 2)

    # Register a child, refer her to the pool the board shows free, and submit: a bed is held.
    clock.freeze(start + timedelta(minutes=15))
    child = sms_api.post("/api/v1/children", {
        "given_name": "Mariam", "family_name": "Ahmadi", "sex": "female", "estimated_age": 15,
        "languages": ["fa"], "region": sms.region_id, "found_place": "border_crossing",
        "found_region": sms.region_id, "found_at": (clock.now() - timedelta(hours=3)).isoformat(),
        "consent_given_by": "the child herself, with an interpreter", "consent_given_at": clock.now().isoformat(),
        "child_assent": True}).get_json()
    referral = sms_api.post("/api/v1/referrals", {"child": child["id"], "pool": girls.id,
                                                  "urgency": "urgent", "note": "Speaks Dari only"}).get_json()
    referral = sms_api.post(f"/api/v1/referrals/{referral['id']}/moves", {"action": "submit"}).get_json()
    assert referral["status"] == "submitted"
    since, seen = _sync(sms_api, board, since)
    assert seen == {girls.id} and board[girls.id]["held"] == 1

    # The shelter's system finds it waiting, without the child's name, and accepts.
    waiting = shelter_api.get("/api/v1/referrals?status=submitted").get_json()["items"]
    assert [r["id"] for r in waiting] == [referral["id"]]
    seen_by_shelter = shelter_api.get(f"/api/v1/referrals/{referral['id']}").get_json()
    assert "given_name" not in seen_by_shelter["child"]
    assert "accept" in [m["action"] for m in seen_by_shelter["moves"]]
    shelter_api.post(f"/api/v1/referrals/{referral['id']}/moves", {"action": "accept"})

    # The region's guardianship body approves; the shelter records the arrival.
    approved = guardian_api.post(f"/api/v1/referrals/{referral['id']}/moves", {"action": "approve"}).get_json()
    assert approved["status"] == "approved"
    clock.freeze(start + timedelta(hours=2))
    arrived_at = (clock.now() - timedelta(minutes=20)).replace(microsecond=0)
    placed = shelter_api.post(f"/api/v1/referrals/{referral['id']}/moves",
                              {"action": "place", "arrived_at": arrived_at.isoformat()}).get_json()
    assert placed["status"] == "placed"
    assert placed["arrived_at"] == arrived_at.isoformat().replace("+00:00", "Z")

    # The case system follows it to the end: the whole timeline, and the board it keeps.
    followed = sms_api.get(f"/api/v1/referrals/{referral['id']}").get_json()
    assert [(step["from"], step["to"]) for step in followed["timeline"]] == [
        (None, "draft"), ("draft", "submitted"), ("submitted", "accepted"), ("accepted", "approved"),
        ("approved", "placed")]
    assert followed["child"]["given_name"] == "Mariam" and followed["moves"] == []
    since, seen = _sync(sms_api, board, since)
    assert seen == {girls.id}
    assert (board[girls.id]["occupied"], board[girls.id]["held"], board[girls.id]["available"]) == (2, 0, 1)
