"""A bed-count change is the write shelter staff make most, at the busiest hours: it costs a
fixed, small number of SQL statements, on SQLite and PostgreSQL alike, whichever of the three
ways it is made and whether the page asked for the row alone (htmx) or the whole page.

The seven: the signed-in user with their organization; the pool with its shelter, its holds
past their deadline and the children placed in it; the conditional UPDATE that answers
with the row it wrote; the bed update; and the audit append (the head read and locked, the
event, the head). Holds that ran out add the statements that close them. The row drawn afterwards reads nothing again.
(SQLite's BEGIN IMMEDIATE is not counted: PostgreSQL's driver begins without a statement.)
"""
from datetime import timedelta

import pytest
from sqlalchemy import event, update

from coordination import clock
from coordination.extensions import db
from coordination.referrals.models import Referral

STATEMENTS = 7

CHANGES = {
    "adjust": {"field": "occupied", "delta": 1},
    "counts": {"occupied": 3, "out_of_service": 1, "out_of_service_reason": "broken frame"},
    "confirm": {},
}


@pytest.fixture
def pool(make):
    return make.pool(capacity=5, occupied=2)


@pytest.fixture
def staff(login_as, pool):
    staff = login_as("shelter_staff", organization=pool.shelter.organization)
    staff.csrf_token()  # the page the person is on, read before the change
    return staff


def statements_of(client, url: str, data: dict, htmx: bool) -> tuple[int, list[str]]:
    sent = []

    def remember(conn, cursor, statement, *_):
        if not statement.lstrip().upper().startswith("BEGIN"):
            sent.append(" ".join(statement.split())[:120])

    event.listen(db.engine, "before_cursor_execute", remember)
    try:
        response = client.post(url, data, htmx=htmx)
    finally:
        event.remove(db.engine, "before_cursor_execute", remember)
    return response.status_code, sent


@pytest.mark.parametrize("htmx", [True, False], ids=["htmx", "whole page"])
@pytest.mark.parametrize("action", CHANGES)
def test_a_count_change_costs_seven_statements(staff, pool, action, htmx):
    url = f"/shelters/{pool.shelter_id}/pools/{pool.id}/{action}"
    status, sent = statements_of(staff, url, {"version": pool.version, **CHANGES[action]}, htmx)
    assert status == (200 if htmx else 303)
    assert len(sent) == STATEMENTS, "\n".join(sent)
    db.session.refresh(pool)
    assert pool.version == 2  # it did change the pool


def test_the_row_drawn_after_a_change_shows_what_was_written(staff, pool, make):
    # Drawn without reading the pool again: the numbers come from the UPDATE's answer.
    make.referral(pool=pool, status="submitted")  # one bed held meanwhile, by a referral
    status, _ = statements_of(staff, f"/shelters/{pool.shelter_id}/pools/{pool.id}/counts",
                              {"version": pool.version, "occupied": 3, "out_of_service": 1}, htmx=True)
    assert status == 200
    seen = pool.version
    row = staff.post(f"/shelters/{pool.shelter_id}/pools/{pool.id}/confirm", {"version": seen},
                     htmx=True).get_data(as_text=True)
    assert 'data-free="0"' in row  # 5 beds: 3 occupied, 1 out of service, 1 held
    assert f'name="version" value="{seen + 1}"' in row
    assert 'data-count="occupied">3<' in row and 'data-count="out_of_service">1<' in row


def test_through_the_page_placed_children_bound_the_count_and_run_out_holds_are_closed(staff, pool, make):
    # What the pool is read with for a change (its placed children, its holds past their
    # deadline) is what the rules use.
    make.referral(pool=pool, status="placed")  # occupied 2 -> 3, one child placed
    overdue = make.referral(pool=pool, status="submitted")  # one bed held...
    db.session.execute(update(Referral).where(Referral.id == overdue.id)
                       .values(hold_until=clock.now() - timedelta(minutes=1)))  # ...until a minute ago
    db.session.commit()
    url = f"/shelters/{pool.shelter_id}/pools/{pool.id}/counts"

    refused = staff.post(url, {"version": pool.version, "occupied": 0, "out_of_service": 0}, htmx=True)
    assert refused.status_code == 422
    assert "1 child placed here through a referral" in refused.get_data(as_text=True)

    saved = staff.post(url, {"version": pool.version, "occupied": 4, "out_of_service": 1}, htmx=True)
    assert saved.status_code == 200  # 4 + 1 fill the 5 beds only once the run-out hold is closed
    db.session.refresh(overdue)
    db.session.refresh(pool)
    assert overdue.status == "expired" and (pool.occupied, pool.out_of_service, pool.held) == (4, 1, 0)
    assert 'data-free="0"' in saved.get_data(as_text=True)
