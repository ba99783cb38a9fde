"""Bad input to the pool actions: refused with the right status and a clear message,
never a 500, and nothing changes (invariant 3)."""
import re

import pytest
from sqlalchemy import func, select

from coordination.beds.models import BedPool, BedUpdate
from coordination.extensions import db

LONG = "x" * 10_000
HUGE = str(10**30)
REFUSAL = re.compile(r'class="refusal" role="alert"[^>]*>([^<]+)<')

VALID = {
    "adjust": {"field": "occupied", "delta": "1"},
    "counts": {"occupied": "3", "out_of_service": "1", "out_of_service_reason": "leaking roof"},
    "confirm": {},
}


class Desk:
    """A shelter's own staff member at their shelter's page, with a pool to edit and a
    pool of the same organization's other shelter."""

    def __init__(self, make, login_as):
        organization = make.organization()
        self.shelter = make.shelter(organization=organization)
        self.pool = make.pool(self.shelter, capacity=6, occupied=2, out_of_service=1,
                              out_of_service_reason="leaking roof")
        self.elsewhere = make.pool(make.shelter(organization=organization), capacity=6, occupied=2)
        self.staff = login_as(make.user("shelter_staff", organization=organization))

    def url(self, action: str, pool_id: int | str | None = None) -> str:
        return f"/shelters/{self.shelter.id}/pools/{pool_id or self.pool.id}/{action}"

    def form(self, action: str, changes: dict) -> dict:
        """A valid form for `action`, with `changes` applied (None removes a field)."""
        data = {"version": str(self.pool.version), **VALID[action]}
        for name, value in changes.items():
            if value is None:
                data.pop(name, None)
            else:
                data[name] = value
        return data


@pytest.fixture
def desk(make, login_as) -> Desk:
    return Desk(make, login_as)


def state(*pools: BedPool) -> dict:
    """What the database holds for these pools, read afresh, plus their history."""
    db.session.expire_all()
    result = {}
    for pool in pools:
        row = db.session.get(BedPool, pool.id)
        result[pool.id] = (row.capacity, row.occupied, row.out_of_service, row.out_of_service_reason,
                           row.held, row.version, row.last_confirmed_at)
    result["history"] = db.session.scalar(select(func.count()).select_from(BedUpdate))
    return result


def refusal_message(response) -> str:
    match = REFUSAL.search(response.get_data(as_text=True))
    assert match, response.get_data(as_text=True)
    return match.group(1).strip()


def test_a_valid_change_does_change_the_pool_and_its_history(desk):
    """The control for everything below: the same forms, unspoilt, are accepted."""
    for action in ("adjust", "counts", "confirm"):
        before = state(desk.pool)
        response = desk.staff.post(desk.url(action), desk.form(action, {}))
        assert response.status_code == 303, response.get_data(as_text=True)
        after = state(desk.pool)
        assert after[desk.pool.id][5] == before[desk.pool.id][5] + 1
        assert after["history"] == before["history"] + 1


INVALID_FORMS = [
    # action, changes, message
    ("adjust", {"version": None}, "The form is missing the pool's version; reload the page."),
    ("adjust", {"field": None}, "This field is required."),
    ("adjust", {"delta": None}, "This field is required."),
    ("adjust", {"version": "abc"}, "Not a valid integer value."),
    ("adjust", {"delta": "abc"}, "Not a valid integer value."),
    ("adjust", {"version": "-1"}, "Number must be between 1 and 2147483647."),
    ("adjust", {"version": HUGE}, "Number must be between 1 and 2147483647."),
    ("adjust", {"delta": HUGE}, "Counts move by one bed at a time."),
    ("adjust", {"delta": "5"}, "Counts move by one bed at a time."),
    ("adjust", {"delta": "-5"}, "Counts move by one bed at a time."),
    ("adjust", {"delta": LONG}, "Not a valid integer value."),
    ("adjust", {"field": "capacity"}, "Only occupied and out-of-service beds can be moved."),
    ("adjust", {"field": "held"}, "Only occupied and out-of-service beds can be moved."),
    ("adjust", {"field": LONG}, "Only occupied and out-of-service beds can be moved."),
    ("counts", {"version": None}, "The form is missing the pool's version; reload the page."),
    ("counts", {"occupied": None}, "Enter the number of occupied beds."),
    ("counts", {"out_of_service": None}, "Enter the number of beds out of service."),
    ("counts", {"occupied": "abc"}, "Not a valid integer value."),
    ("counts", {"out_of_service": "abc"}, "Not a valid integer value."),
    ("counts", {"occupied": "-1"}, "Occupied must be a whole number from 0 to 6."),
    ("counts", {"out_of_service": "-1"}, "Out of service must be a whole number from 0 to 6."),
    ("counts", {"occupied": HUGE}, "Occupied must be a whole number from 0 to 6."),
    ("counts", {"out_of_service": HUGE}, "Out of service must be a whole number from 0 to 6."),
    ("counts", {"occupied": LONG}, "Not a valid integer value."),
    ("counts", {"out_of_service_reason": LONG}, "Keep the reason under 500 characters."),
    ("counts", {"occupied": "6"},
     "That would make 7 beds occupied, out of service or held in a pool of 6. Nothing was changed."),
    ("confirm", {"version": None}, "The form is missing the pool's version; reload the page."),
    ("confirm", {"version": "abc"}, "Not a valid integer value."),
    ("confirm", {"version": "-1"}, "Number must be between 1 and 2147483647."),
    ("confirm", {"version": HUGE}, "Number must be between 1 and 2147483647."),
    ("confirm", {"version": LONG}, "Not a valid integer value."),
]


def _case_id(value):
    if isinstance(value, dict):
        return "-".join(f"{k}={'missing' if v is None else v[:12]}" for k, v in value.items())
    return value if value in VALID else None


@pytest.mark.parametrize("action, changes, message", INVALID_FORMS, ids=_case_id)
def test_invalid_form_input_is_refused_with_422_and_changes_nothing(desk, action, changes, message):
    before = state(desk.pool, desk.elsewhere)

    response = desk.staff.post(desk.url(action), desk.form(action, changes))

    assert response.status_code == 422
    assert refusal_message(response) == message
    assert state(desk.pool, desk.elsewhere) == before


def test_a_stale_version_is_a_conflict_that_changes_nothing(desk):
    before = state(desk.pool)
    response = desk.staff.post(desk.url("confirm"), {"version": str(desk.pool.version + 7)})
    assert response.status_code == 409
    assert "Someone else changed this pool" in refusal_message(response)
    assert state(desk.pool) == before


@pytest.mark.parametrize("action", ["adjust", "counts", "confirm"])
@pytest.mark.parametrize("which", ["unknown", "huge", "another-shelters"])
def test_a_pool_that_is_not_this_shelters_answers_404_and_changes_nothing(desk, action, which):
    pool_id = {"unknown": 999_999, "huge": "99999999999999999999",
               "another-shelters": desk.elsewhere.id}[which]
    before = state(desk.pool, desk.elsewhere)

    response = desk.staff.post(desk.url(action, pool_id), desk.form(action, {}))

    assert response.status_code == 404
    assert refusal_message(response).startswith("There is nothing here.")
    assert state(desk.pool, desk.elsewhere) == before


def test_an_unknown_shelter_answers_404_however_large_its_id(desk):
    for shelter_id in (999_999, 10**20):
        response = desk.staff.post(f"/shelters/{shelter_id}/pools/{desk.pool.id}/confirm",
                                   desk.form("confirm", {}))
        assert response.status_code == 404
        assert refusal_message(response).startswith("There is nothing here.")
        assert desk.staff.get(f"/shelters/{shelter_id}").status_code == 404


# --- the same refusals, as htmx and as a plain form post -----------------------------------

@pytest.mark.parametrize("action, changes, message", [
    ("adjust", {"field": "held"}, "Only occupied and out-of-service beds can be moved."),
    ("counts", {"occupied": "-1"}, "Occupied must be a whole number from 0 to 6."),
    ("confirm", {"version": "abc"}, "Not a valid integer value."),
], ids=["adjust-held", "counts-negative", "confirm-abc"])
def test_htmx_gets_the_row_back_with_the_message_and_no_refresh_signal(desk, action, changes, message):
    before = state(desk.pool)

    response = desk.staff.post(desk.url(action), desk.form(action, changes), htmx=True)

    body = response.get_data(as_text=True)
    assert response.status_code == 422
    assert body.lstrip().startswith(f'<tr id="pool-{desk.pool.id}"')
    assert "<html" not in body
    assert refusal_message(response) == message
    assert "HX-Trigger" not in response.headers  # nothing changed, so no panel need refresh
    assert state(desk.pool) == before


@pytest.mark.parametrize("action, changes, message", [
    ("adjust", {"delta": "5"}, "Counts move by one bed at a time."),
    ("counts", {"out_of_service_reason": LONG}, "Keep the reason under 500 characters."),
], ids=["adjust-by-five", "counts-long-reason"])
def test_plain_post_gets_the_shelter_page_with_the_message_at_the_row(desk, action, changes, message):
    before = state(desk.pool)

    response = desk.staff.post(desk.url(action), desk.form(action, changes))

    body = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "<html" in body and desk.shelter.name in body
    row = re.search(rf'<tr id="pool-{desk.pool.id}".*?</tr>', body, re.S).group(0)
    assert message in row
    assert state(desk.pool) == before


@pytest.mark.parametrize("htmx", [False, True], ids=["plain", "htmx"])
def test_another_shelters_pool_answers_404_as_htmx_and_plain(desk, htmx):
    before = state(desk.pool, desk.elsewhere)

    response = desk.staff.post(desk.url("adjust", desk.elsewhere.id), desk.form("adjust", {}), htmx=htmx)

    body = response.get_data(as_text=True)
    assert response.status_code == 404
    assert ("<html" in body) is not htmx
    assert refusal_message(response).startswith("There is nothing here.")
    assert state(desk.pool, desk.elsewhere) == before
