"""Emergency placement as people see it: the caseworker reads how long each urgency holds a
bed where they choose it; the shelter is offered "take the child in now" only for an
emergency, and sees the name once it did; the page says plainly that the guardianship
decision is due and by when, in the reader's zone; guardianship finds the emergency
placements awaiting a decision at the top of its queue, nearest deadline first; a
rejection says the child must move out and is not put out at once."""
import re
from datetime import timedelta

import pytest

from coordination import clock
from coordination.i18n import when

from .pages import NOW, assert_fragment_only, body, fresh, offered_moves, raw, section, shown_status
from .test_work_queues import queue


@pytest.fixture(autouse=True)
def frozen_clock(app):
    clock.freeze(NOW)
    yield
    clock.freeze(None)


def emergency(make, status="submitted", **values):
    return make.referral(status=status, urgency="emergency", **values)


def test_the_referral_form_says_how_long_each_urgency_holds_the_bed(login_as, app, monkeypatch):
    monkeypatch.setitem(app.config, "HOLD_HOURS_EMERGENCY", 4.5)
    text = body(login_as("caseworker").get("/referrals/new"))

    help_text = re.search(r'<span class="muted" id="urgency-help">(.*?)</span>', text, re.S).group(1)
    assert "routine 48 h, urgent 24 h, emergency 4.5 h" in help_text
    assert 'aria-describedby="urgency-help"' in text


def test_the_form_says_the_hold_lengths_in_the_readers_language(make, login_as):
    person = login_as(make.user("caseworker", locale="ru"))
    help_text = re.search(r'id="urgency-help">(.*?)</span>', body(person.get("/referrals/new")), re.S).group(1)
    assert "48" in help_text and "routine" not in help_text


def test_shelter_staff_take_an_emergency_in_at_once_and_then_see_the_childs_name(make, login_as):
    referral = emergency(make)
    staff = login_as(make.actor_for("place_now", referral))
    before = body(staff.get(f"/referrals/{referral.id}"))
    assert "place_now" in offered_moves(before)
    assert referral.child.given_name not in before

    response = staff.post(f"/referrals/{referral.id}/place_now", {}, htmx=True)

    assert response.status_code == 200, raw(response)[:2000]
    assert shown_status(assert_fragment_only(response, "referral-state")) == "emergency_placed"
    referral = fresh(referral)
    assert (referral.status, fresh(referral.pool).occupied) == ("emergency_placed", 1)
    assert referral.child.given_name in body(staff.get(f"/referrals/{referral.id}"))


def test_a_routine_referral_offers_no_emergency_placement_and_a_posted_one_is_refused(make, login_as):
    referral = make.referral(status="submitted", urgency="urgent")
    staff = login_as(make.actor_for("place_now", referral))
    assert "place_now" not in offered_moves(body(staff.get(f"/referrals/{referral.id}")))

    response = staff.post(f"/referrals/{referral.id}/place_now", {}, htmx=True)

    assert response.status_code == 409, raw(response)[:2000]
    assert "Only an emergency referral can be placed before the guardianship decision" in body(response)
    assert fresh(referral).status == "submitted"


def test_the_page_says_by_when_the_decision_is_due_in_the_readers_zone(make, login_as, app):
    referral = emergency(make, "emergency_placed")
    guardian = login_as(make.actor_for("approve_emergency", referral))

    text = body(guardian.get(f"/referrals/{referral.id}"))

    with app.test_request_context():
        due = when(referral.decision_due_at)  # Asia/Baku, the default zone
    panel = section(text, "referral-state")
    assert f"must approve or reject the placement by {due}" in panel
    assert referral.decision_due_at == NOW + timedelta(hours=72)
    assert {"approve_emergency", "reject_emergency"} <= offered_moves(text)


def test_once_the_deadline_passed_the_page_says_the_decision_is_overdue(make, login_as):
    referral = emergency(make, "emergency_placed")
    clock.freeze(NOW + timedelta(hours=73))
    guardian = login_as(make.actor_for("approve_emergency", referral))

    panel = section(body(guardian.get(f"/referrals/{referral.id}")), "referral-state")

    assert "has not been made yet" in panel and 'class="refusal"' in panel


def test_guardianship_finds_emergency_placements_first_nearest_deadline_first(make, login_as):
    pool = make.pool(capacity=5)
    first = emergency(make, "emergency_placed", pool=pool)
    clock.freeze(NOW + timedelta(hours=1))
    second = emergency(make, "emergency_placed", pool=pool)
    accepted = make.referral(pool=pool, status="accepted")
    guardian = login_as(make.actor_for("approve_emergency", first))

    response = guardian.get("/")
    parts = queue(response)

    assert list(parts)[0] == "emergencies"
    assert [referral_id for referral_id, _waited in parts["emergencies"]] == [first.id, second.id]
    assert [referral_id for referral_id, _waited in parts["decisions"]] == [accepted.id]
    assert "decision due by" in section(raw(response), "queue")


def test_a_rejection_after_placement_tells_the_caseworker_to_find_another_place(make, login_as):
    referral = emergency(make, "emergency_placed")
    guardian = login_as(make.actor_for("reject_emergency", referral))

    response = guardian.post(f"/referrals/{referral.id}/reject_emergency",
                             {"reason_text": "Her aunt is her legal guardian."}, htmx=True)

    assert shown_status(body(response)) == "moving_out"
    assert "the child must move out" in body(response)
    assert fresh(fresh(referral).pool).occupied == 1
    caseworker = login_as(referral.caseworker)
    parts = queue(caseworker.get("/"))
    assert [referral_id for referral_id, _waited in parts["moving_out"]] == [referral.id]
    staff = login_as(make.actor_for("discharge", referral))
    assert [referral_id for referral_id, _waited in queue(staff.get("/"))["moving_out"]] == [referral.id]
    assert offered_moves(body(staff.get(f"/referrals/{referral.id}"))) == {"discharge"}
