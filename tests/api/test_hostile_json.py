"""Hostile JSON and query parameters thrown at every write and list of the API by the system
that rightly uses it (the pages' forms get the same in tests/security/test_hostile_input.py):
never a 500, every answer as the description says, nothing changed when refused."""
import json
from urllib.parse import urlencode

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from coordination.extensions import db

from ..security.test_hostile_input import HOSTILE, NUMBERS
from ..security.world import build_world
from .conftest import ApiClient

SETTINGS = settings(max_examples=25, deadline=None, database=None,
                    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow,
                                           HealthCheck.data_too_large])
# Every request writes its audit event and the token's last use, refused or not.
IGNORED_TABLES = {"audit_event", "audit_head", "api_token"}

SCALARS = st.one_of(st.sampled_from(HOSTILE), st.text(max_size=30), st.sampled_from(NUMBERS),
                    st.integers(), st.floats(allow_nan=False), st.booleans(), st.none())
VALUES = st.one_of(SCALARS, st.lists(SCALARS, max_size=3), st.dictionaries(st.text(max_size=5), SCALARS, max_size=2))

# endpoint -> (who calls it, its fields, the addresses to try: the caller's own records first)
WRITES = {
    "adjust": ("shelter_staff", ("field", "delta", "version"),
               lambda w: [f"/api/v1/pools/{p.id}/adjust" for p in w.pools]),
    "counts": ("shelter_staff", ("occupied", "out_of_service", "out_of_service_reason", "version"),
               lambda w: [f"/api/v1/pools/{p.id}/counts" for p in w.pools]),
    "confirm": ("shelter_staff", ("version",), lambda w: [f"/api/v1/pools/{p.id}/confirm" for p in w.pools]),
    "moves as shelter": ("shelter_staff", ("action", "reason_code", "reason_text", "arrived_at"),
                         lambda w: [f"/api/v1/referrals/{r.id}/moves" for r in w.all_referrals()]),
    "moves as caseworker": ("caseworker", ("action", "reason_code", "reason_text", "arrived_at"),
                            lambda w: [f"/api/v1/referrals/{r.id}/moves" for r in w.all_referrals()]),
    "children": ("caseworker", ("given_name", "family_name", "sex", "birth_date", "estimated_age", "languages",
                                "needs", "region", "found_place", "found_region", "found_at", "consent_given_by",
                                "consent_given_at", "child_assent", "confirm_not_duplicate"),
                 lambda w: ["/api/v1/children"]),
    "consent": ("caseworker", ("consent_given_by", "consent_given_at", "child_assent"),
                lambda w: [f"/api/v1/children/{c.id}/consent" for c in w.children]),
    "referrals": ("caseworker", ("child", "pool", "urgency", "note"), lambda w: ["/api/v1/referrals"]),
}
LISTS = ("/api/v1/pools", "/api/v1/shelters", "/api/v1/referrals")
LIST_FIELDS = ("region", "changed_since", "after", "before", "limit", "status", "urgency")


def snapshot() -> dict:
    state = {}
    for table in db.metadata.sorted_tables:
        if table.name not in IGNORED_TABLES:
            state[table.name] = sorted(map(repr, db.session.execute(select(table))))
    db.session.rollback()
    return state


def _client(app, world, role: str) -> ApiClient:
    token, secret = world.api_tokens[role]
    return ApiClient(app, secret, token)


@pytest.mark.parametrize("endpoint", list(WRITES))
def test_hostile_bodies_never_break_a_write(app, make, endpoint):
    world = build_world(make, statuses=("submitted", "accepted", "approved", "placed"))
    role, fields, paths = WRITES[endpoint]
    api = _client(app, world, role)
    bodies = st.dictionaries(st.sampled_from(fields + ("unknown", "__proto__")), VALUES, max_size=len(fields) + 1)

    @SETTINGS
    @given(path=st.sampled_from(paths(world)), body=bodies)
    def throw(path, body):
        before = snapshot()
        response = api.post(path, body)  # checked against the description by ApiClient
        assert response.status_code < 500, response.get_data(as_text=True)[:1000]
        if response.status_code >= 400:
            assert snapshot() == before, f"{path} {body!r} answered {response.status_code} and changed something"

    throw()


def test_hostile_query_parameters_never_break_a_list(app, make):
    world = build_world(make, statuses=("submitted",))
    api = _client(app, world, "shelter_staff")
    queries = st.dictionaries(st.sampled_from(LIST_FIELDS), SCALARS.map(lambda v: v if isinstance(v, str)
                                                                        else json.dumps(v)), max_size=4)

    @SETTINGS
    @given(path=st.sampled_from(LISTS), query=queries)
    def throw(path, query):
        if any("\x00" in k or "\x00" in v for k, v in query.items()):
            return  # refused whole before the API (tests/security: test_a_nul_character_is_refused_whole)
        response = api.get(f"{path}?{urlencode(query)}")
        assert response.status_code < 500, response.get_data(as_text=True)[:1000]

    throw()


def test_a_body_over_the_size_limit_answers_413_as_a_problem(app, make):
    world = build_world(make, statuses=())
    api = _client(app, world, "shelter_staff")
    pool = world.pools[0]

    response = api.post(f"/api/v1/pools/{pool.id}/counts", {"out_of_service_reason": "x" * (2 * 1024 * 1024)})

    assert response.status_code == 413
    assert response.get_json()["detail"] == "What you sent is too large; nothing was changed."


@pytest.mark.parametrize("endpoint", list(WRITES))
def test_a_nul_anywhere_in_a_body_is_refused_whole_and_changes_nothing(app, make, endpoint):
    """JSON writes a NUL as \\u0000, past the check on form fields; PostgreSQL can store no
    text with one, so the API refuses it whole (400) as the pages do, in a value, a key or a
    list, before it can reach the database (a 500 there)."""
    world = build_world(make, statuses=("submitted",))
    role, fields, paths = WRITES[endpoint]
    api = _client(app, world, role)
    path = paths(world)[0]
    before = snapshot()

    for body in ({field: "a\x00b" for field in fields}, {"unknown\x00": 1}, {fields[-1]: ["ok", "a\x00"]}):
        response = api.post(path, body)

        assert response.status_code == 400, (body, response.get_json())
        assert response.mimetype == "application/problem+json"
    assert snapshot() == before


@pytest.mark.parametrize("raw", ["[" * 100_000, '{"a":' * 50_000 + "1" + "}" * 50_000])
def test_a_body_nested_deeper_than_the_parser_goes_answers_400(app, make, raw):
    world = build_world(make, statuses=())
    api = _client(app, world, "caseworker")

    response = api.request("POST", "/api/v1/referrals", raw=raw)

    assert response.status_code == 400
    assert response.get_json()["type"] == "urn:coordination:problem:bad-request"
