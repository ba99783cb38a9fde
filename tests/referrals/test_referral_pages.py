"""Referrals through their pages: choosing a pool that fits (ranked, with reasons), holding a
bed on submit, falling back to another pool when the bed is gone, every step of the state
machine through htmx and as a plain form, the buttons each person sees, and the list."""
import re
from datetime import date, timedelta

import pytest

from coordination import clock, paging
from coordination.beds.models import BedPool
from coordination.extensions import db
from coordination.referrals.models import Referral
from coordination.referrals.services import MOVES
from coordination.words import timeline_step, word

from .pages import (
    NOW,
    assert_fragment_only,
    assert_whole_page,
    body,
    fresh,
    messages,
    offered_moves,
    pager_link,
    pager_links,
    raw,
    redirect_id,
    redirect_path,
    referral_count,
    says,
    section,
    shown_status,
)

OFFERED = re.compile(r'<input type="radio" name="pool" value="(\d+)".*?<span class="why">(.*?)</span>', re.S)
ALTERNATIVE = re.compile(r'<input type="hidden" name="pool" value="(\d+)">')
LISTED = re.compile(r'<a href="/referrals/(\d+)">UC-')
TIMELINE_ENTRY = re.compile(r"<li>\s*<time[^>]*>[^<]*</time>\s*<span class=\"step\">([^<]+)</span>(.*?)</li>", re.S)


@pytest.fixture(autouse=True)
def frozen_clock(app):
    clock.freeze(NOW)
    yield
    clock.freeze(None)


@pytest.fixture
def caseworker(login_as):
    return login_as("caseworker")


def a_girl_of_13(make, caseworker, **values):
    """A girl of the caseworker's organization, 13 on NOW, in the organization's region."""
    values.setdefault("sex", "female")
    values.setdefault("birth_date", date(2012, 5, 1))
    values.setdefault("estimated_age", None)
    return make.child(registered_by=caseworker.user, **values)


def offered(response) -> list[tuple[int, str]]:
    """The pools the referral form offers, best first, each with its reasons."""
    assert response.status_code == 200, raw(response)[:2000]
    return [(int(pool_id), reasons) for pool_id, reasons in OFFERED.findall(body(response))]


def offered_ids(response) -> list[int]:
    return [pool_id for pool_id, _ in offered(response)]


def held_and_occupied(pool: BedPool) -> tuple[int, int]:
    pool = fresh(pool)
    return pool.held, pool.occupied


def timeline(text: str) -> list[tuple[str, str]]:
    """(what happened and who did it, the rest) of each step of the timeline, oldest first."""
    ol = re.search(r'<ol class="timeline">(.*?)</ol>', section(text, "referral-state"), re.S).group(1)
    return [(status, re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", rest)).strip())
            for status, rest in TIMELINE_ENTRY.findall(ol)]


# --- choosing a pool -------------------------------------------------------------------------

def test_the_form_offers_only_pools_whose_sex_and_age_rules_fit_the_child(make, caseworker):
    child = a_girl_of_13(make, caseworker)
    girls = make.pool(admits_sex="female", min_age=12, max_age=17)
    anyone = make.pool(admits_sex="any", min_age=0, max_age=17)
    exactly_13 = make.pool(admits_sex="any", min_age=13, max_age=13)
    boys = make.pool(admits_sex="male", min_age=12, max_age=17)
    too_old = make.pool(admits_sex="any", min_age=0, max_age=12)
    too_young = make.pool(admits_sex="female", min_age=14, max_age=17)
    closed = make.pool(make.shelter(status="suspended"), admits_sex="any")

    shown = offered_ids(caseworker.get(f"/referrals/new?child={child.id}"))

    assert sorted(shown) == sorted([girls.id, anyone.id, exactly_13.id])
    for refused in (boys, too_old, too_young, closed):
        assert refused.id not in shown


def test_a_boy_is_offered_the_boys_pool_and_not_the_girls(make, caseworker):
    boy = a_girl_of_13(make, caseworker, sex="male")
    girls = make.pool(admits_sex="female")
    boys = make.pool(admits_sex="male")

    assert offered_ids(caseworker.get(f"/referrals/new?child={boy.id}")) == [boys.id]
    assert girls.id not in offered_ids(caseworker.get(f"/referrals/new?child={boy.id}"))


def test_pools_are_ranked_free_beds_then_region_then_language_then_needs_then_fresh_counts(make, caseworker):
    child = a_girl_of_13(make, caseworker, languages=["ru"], needs=["medical"])
    home = caseworker.user.organization.region
    elsewhere = make.region("Ganja-Dashkasan")

    def pool(region=home, languages=("ru",), services=("medical",), occupied=0, confirmed=NOW):
        shelter = make.shelter(region=region, languages=list(languages), services=list(services))
        return make.pool(shelter, capacity=4, occupied=occupied, last_confirmed_at=confirmed).id

    # Each pool misses exactly one thing the best pool has; made in scrambled order.
    full = pool(occupied=4)
    other_region = pool(region=elsewhere)
    stale = pool(confirmed=NOW - timedelta(days=3))
    no_language = pool(languages=("az",))
    best = pool()
    needs_unmet = pool(services=())

    ranked = offered(caseworker.get(f"/referrals/new?child={child.id}"))

    assert [pool_id for pool_id, _ in ranked] == [best, stale, needs_unmet, no_language, other_region, full]
    reasons = dict(ranked)
    assert reasons[best] == ("beds free · in the child's region · speaks Russian · offers medical care · "
                             "counts fresh")
    assert "counts stale" in reasons[stale]
    assert "offers none of the child's needs" in reasons[needs_unmet]
    assert "no language in common" in reasons[no_language]
    assert "in Ganja-Dashkasan" in reasons[other_region] and "in the child's region" not in reasons[other_region]
    assert "no bed free now" in reasons[full]


def test_a_farsi_speaking_boy_sees_the_pools_whose_staff_speak_farsi_first_with_the_reason(make, caseworker):
    boy = a_girl_of_13(make, caseworker, sex="male", languages=["fa"])
    made = [make.pool(make.shelter(name=name, languages=list(spoken)), admits_sex="male")
            for name, spoken in (("Azerbaijani only", ["az"]), ("Farsi and Russian", ["ru", "fa"]),
                                 ("Arabic", ["ar", "en"]), ("Farsi", ["fa"]))]

    ranked = offered(caseworker.get(f"/referrals/new?child={boy.id}"))

    farsi = {made[1].id, made[3].id}
    assert {pool_id for pool_id, _ in ranked[:2]} == farsi
    for pool_id, reasons in ranked:
        assert ("speaks Persian" in reasons) == (pool_id in farsi), reasons
        assert ("no language in common" in reasons) == (pool_id not in farsi), reasons


def test_the_reason_names_every_language_in_common_in_the_childs_order(make, caseworker):
    child = a_girl_of_13(make, caseworker, languages=["ru", "ar", "fa"])
    pool = make.pool(make.shelter(languages=["fa", "az", "ru"]))

    [(pool_id, reasons)] = offered(caseworker.get(f"/referrals/new?child={child.id}"))

    assert pool_id == pool.id and "speaks Russian, Persian" in reasons


def test_the_referral_form_shows_no_pools_before_a_child_is_chosen(make, caseworker):
    make.pool()

    response = caseworker.get("/referrals/new")

    assert response.status_code == 200
    assert offered(response) == []
    assert "Choose a child to see the pools that fit" in body(response)


def test_choosing_a_child_through_htmx_returns_only_the_suggestions(make, caseworker):
    child = a_girl_of_13(make, caseworker)
    pool = make.pool()

    response = caseworker.get(f"/referrals/new?child={child.id}", htmx=True)

    text = raw(response)
    assert text.lstrip().startswith('<fieldset id="suggestions"') and "<html" not in text
    assert f'value="{pool.id}"' in text


def test_another_organizations_child_cannot_be_referred(make, caseworker):
    stranger = make.child()
    pool = make.pool()

    shown = caseworker.get(f"/referrals/new?child={stranger.id}")
    posted = caseworker.post("/referrals/new", {"child": str(stranger.id), "pool": str(pool.id),
                                                "urgency": "routine", "then": "submit"})

    assert offered(shown) == []
    assert stranger.case_reference not in raw(shown)
    assert posted.status_code == 422
    assert says(posted, "Choose one of your organization's children")
    assert referral_count() == 0 and held_and_occupied(pool) == (0, 0)


# --- creating a referral ---------------------------------------------------------------------

def test_submitting_a_new_referral_holds_a_bed_and_opens_the_referral(make, caseworker):
    child = a_girl_of_13(make, caseworker)
    pool = make.pool(capacity=3, occupied=1)

    response = caseworker.post("/referrals/new", {"child": str(child.id), "pool": str(pool.id), "urgency": "urgent",
                                                  "note": "Arrives by night train", "then": "submit"})

    referral = db.session.get(Referral, redirect_id(response, "/referrals/"))
    assert (referral.child_id, referral.pool_id, referral.status) == (child.id, pool.id, "submitted")
    assert (referral.urgency, referral.note) == ("urgent", "Arrives by night train")
    assert referral.holds_bed and referral.hold_until == NOW + timedelta(hours=24)  # HOLD_HOURS_URGENT
    assert held_and_occupied(pool) == (1, 1)
    page = caseworker.get(f"/referrals/{referral.id}")
    assert shown_status(raw(page)) == "submitted"
    assert "one bed is held until" in body(page)


def test_saving_a_new_referral_as_a_draft_holds_nothing(make, caseworker):
    child = a_girl_of_13(make, caseworker)
    pool = make.pool()

    response = caseworker.post("/referrals/new", {"child": str(child.id), "pool": str(pool.id), "urgency": "routine",
                                                  "then": "draft"})

    referral = db.session.get(Referral, redirect_id(response, "/referrals/"))
    assert referral.status == "draft" and not referral.holds_bed
    assert held_and_occupied(pool) == (0, 0)


@pytest.mark.parametrize("changes, message", [
    ({"pool": ""}, "Choose a bed pool."),
    ({"pool": "999999"}, "Choose one of the pools offered."),
    ({"pool": "abc"}, "Choose one of the pools offered."),
    ({"urgency": "whenever"}, "Not a valid choice"),
    ({"note": "n" * 2001}, "longer than 2000 characters"),
    ({"child": ""}, "Choose"),
])
def test_a_bad_new_referral_is_refused_with_a_message_and_nothing_saved(make, caseworker, changes, message):
    child = a_girl_of_13(make, caseworker)
    pool = make.pool()
    data = {"child": str(child.id), "pool": str(pool.id), "urgency": "routine", "note": "", "then": "submit"}
    data.update(changes)

    response = caseworker.post("/referrals/new", data)

    assert 400 <= response.status_code < 500, raw(response)[:2000]
    assert says(response, message), messages(response)
    assert referral_count() == 0 and held_and_occupied(pool) == (0, 0)


def test_a_pool_that_does_not_admit_the_child_is_refused_even_if_posted(make, caseworker):
    child = a_girl_of_13(make, caseworker)
    boys = make.pool(admits_sex="male")

    response = caseworker.post("/referrals/new", {"child": str(child.id), "pool": str(boys.id),
                                                  "urgency": "routine", "then": "submit"})

    assert response.status_code == 422
    assert says(response, "does not admit this child")
    assert referral_count() == 0 and held_and_occupied(boys) == (0, 0)


def test_when_the_chosen_pool_filled_up_meanwhile_nothing_is_held_the_draft_stays_and_others_are_offered(
        make, caseworker):
    child = a_girl_of_13(make, caseworker)
    last_bed = make.pool(capacity=1)
    other = make.pool(capacity=2)
    assert last_bed.id in offered_ids(caseworker.get(f"/referrals/new?child={child.id}"))
    make.referral(pool=last_bed, status="submitted")  # someone else takes the last bed

    response = caseworker.post("/referrals/new", {"child": str(child.id), "pool": str(last_bed.id),
                                                  "urgency": "emergency", "then": "submit"})

    referral = db.session.get(Referral, redirect_id(response, "/referrals/"))
    assert referral.status == "draft" and not referral.holds_bed and referral.pool_id == last_bed.id
    assert held_and_occupied(last_bed) == (1, 0) and held_and_occupied(other) == (0, 0)
    page = caseworker.get(f"/referrals/{referral.id}")
    assert "No bed is free in this pool now" in body(page)
    assert shown_status(raw(page)) == "draft"
    assert ALTERNATIVE.findall(section(raw(page), "referral-state")) == [str(other.id)]
    assert "Refer to this pool instead" in raw(page)


@pytest.mark.parametrize("htmx", [True, False], ids=["htmx", "plain"])
def test_submitting_a_draft_whose_pool_is_full_says_so_and_offers_the_pools_that_fit(make, caseworker, htmx):
    full = make.pool(capacity=1, occupied=1)
    other = make.pool(capacity=2)
    referral = make.referral(pool=full, child=a_girl_of_13(make, caseworker))

    response = caseworker.post(f"/referrals/{referral.id}/submit", htmx=htmx)

    assert response.status_code == 409
    text = assert_fragment_only(response, "referral-state") if htmx else assert_whole_page(response)
    assert says(response, "No bed is free in this pool now")
    assert "Other pools that fit" in text
    assert ALTERNATIVE.findall(section(text, "referral-state")) == [str(other.id)]
    assert fresh(referral).status == "draft"
    assert held_and_occupied(full) == (0, 1)


def test_referring_a_draft_to_another_pool_submits_it_there(make, caseworker):
    full = make.pool(capacity=1, occupied=1)
    other = make.pool(capacity=2)
    referral = make.referral(pool=full, child=a_girl_of_13(make, caseworker))

    response = caseworker.post(f"/referrals/{referral.id}/repoint", {"pool": str(other.id)})

    assert redirect_path(response) == f"/referrals/{referral.id}"
    referral = fresh(referral)
    assert (referral.pool_id, referral.status, referral.holds_bed) == (other.id, "submitted", True)
    assert held_and_occupied(other) == (1, 0) and held_and_occupied(full) == (0, 1)


def test_referring_a_draft_to_another_pool_through_htmx_answers_with_the_state_panel(make, caseworker):
    full = make.pool(capacity=1, occupied=1)
    other = make.pool(capacity=2)
    referral = make.referral(pool=full, child=a_girl_of_13(make, caseworker))

    response = caseworker.post(f"/referrals/{referral.id}/repoint", {"pool": str(other.id)}, htmx=True)

    assert response.status_code == 200
    text = assert_fragment_only(response, "referral-state")
    assert shown_status(text) == "submitted"
    assert "bedsChanged" in response.headers.get("HX-Trigger", "")
    assert held_and_occupied(other) == (1, 0)


@pytest.mark.parametrize("target, status, message", [
    ("boys", 422, "does not admit this child"),
    ("unknown", 422, "Choose one of the pools offered."),
    ("full", 409, "No bed is free in this pool now"),
])
def test_a_refused_repoint_changes_nothing(make, caseworker, target, status, message):
    first = make.pool(capacity=1, occupied=1)
    pools = {"boys": make.pool(admits_sex="male").id, "unknown": 999999,
             "full": make.pool(capacity=2, occupied=2).id}
    referral = make.referral(pool=first, child=a_girl_of_13(make, caseworker))

    response = caseworker.post(f"/referrals/{referral.id}/repoint", {"pool": str(pools[target])}, htmx=True)

    assert response.status_code == status
    assert_fragment_only(response, "referral-state")
    assert says(response, message), messages(response)
    referral = fresh(referral)
    assert (referral.pool_id, referral.status, referral.holds_bed) == (first.id, "draft", False)


def test_a_repoint_with_a_bad_field_changes_nothing(make, caseworker):
    first = make.pool(capacity=1, occupied=1)
    other = make.pool(capacity=2)
    referral = make.referral(pool=first, child=a_girl_of_13(make, caseworker))

    response = caseworker.post(f"/referrals/{referral.id}/repoint", {"pool": str(other.id), "reason_code": "bored"})

    assert response.status_code == 422
    referral = fresh(referral)
    assert (referral.pool_id, referral.status) == (first.id, "draft")
    assert held_and_occupied(other) == (0, 0)


def test_only_a_draft_can_be_sent_to_another_pool(make, caseworker):
    referral = make.referral(child=a_girl_of_13(make, caseworker), status="submitted")
    first_pool = referral.pool_id
    other = make.pool()

    response = caseworker.post(f"/referrals/{referral.id}/repoint", {"pool": str(other.id)})

    assert response.status_code == 409
    assert says(response, "Only a draft can be sent to another pool")
    assert fresh(referral).pool_id == first_pool and held_and_occupied(other) == (0, 0)


# --- each step, through htmx and as a plain form --------------------------------------------

STEPS = {
    # action: (from, form, to, (held, occupied) of the pool after)
    "submit": ("draft", {}, "submitted", (1, 0)),
    "accept": ("submitted", {}, "accepted", (1, 0)),
    "decline": ("submitted", {"reason_code": "no_capacity", "reason_text": "Every bed is promised tonight"},
                "declined", (0, 0)),
    "approve": ("accepted", {}, "approved", (1, 0)),
    "reject": ("accepted", {"reason_text": "An aunt in Ganja takes her"}, "rejected", (0, 0)),
    "place": ("approved", {}, "placed", (0, 1)),
    "discharge": ("placed", {"reason_code": "family_reunification", "reason_text": "Reunited with her family"}, "discharged", (0, 0)),
    "withdraw": ("submitted", {"reason_text": "The child was found by her mother"}, "withdrawn", (0, 0)),
}


@pytest.mark.parametrize("action", STEPS)
def test_each_step_through_htmx_answers_with_the_new_state_and_its_timeline_entry(make, login_as, action):
    start, form, target, counts = STEPS[action]
    pool = make.pool(capacity=3)
    referral = make.referral(pool=pool, status=start)
    actor = make.actor_for(action, referral)
    person = login_as(actor)

    response = person.post(f"/referrals/{referral.id}/{action}", form, htmx=True)

    assert response.status_code == 200, raw(response)[:2000]
    text = assert_fragment_only(response, "referral-state")
    assert shown_status(text) == target
    last_step, last_rest = timeline(body(response))[-1]
    assert last_step == timeline_step(target, f"{actor.name} ({actor.organization.name})")
    if form.get("reason_text"):
        assert form["reason_text"] in last_rest
    assert "bedsChanged" in response.headers["HX-Trigger"]
    assert fresh(referral).status == target
    assert held_and_occupied(pool) == counts


@pytest.mark.parametrize("action", STEPS)
def test_each_step_as_a_plain_form_redirects_to_the_referral_page(make, login_as, action):
    start, form, target, counts = STEPS[action]
    pool = make.pool(capacity=3)
    referral = make.referral(pool=pool, status=start)
    person = login_as(make.actor_for(action, referral))

    response = person.post(f"/referrals/{referral.id}/{action}", form)

    assert redirect_path(response) == f"/referrals/{referral.id}"
    assert fresh(referral).status == target
    assert held_and_occupied(pool) == counts
    page = person.get(f"/referrals/{referral.id}")
    assert shown_status(raw(page)) == target
    assert f"Done: the referral is now {word(target)}." in body(page)


def test_placing_records_the_arrival_time_given(make, login_as):
    referral = make.referral(status="approved")  # submitted at NOW
    clock.freeze(NOW + timedelta(hours=3))
    staff = login_as(make.actor_for("place", referral))

    response = staff.post(f"/referrals/{referral.id}/place", {"arrived_at": "2026-03-02T17:15"}, htmx=True)

    assert response.status_code == 200
    assert fresh(referral).arrived_at == NOW.replace(hour=13, minute=15)  # typed 17:15 in Baku (UTC+4)


def test_an_arrival_before_the_referral_was_submitted_is_refused(make, login_as):
    referral = make.referral(status="approved")  # submitted at NOW
    staff = login_as(make.actor_for("place", referral))

    response = staff.post(f"/referrals/{referral.id}/place", {"arrived_at": "2026-03-02T11:15"}, htmx=True)

    assert response.status_code == 422
    assert says(response, "cannot be before the referral was submitted")
    assert fresh(referral).status == "approved"


REFUSALS = {
    # who presses what, on a referral in which status → status code and message
    "caseworker accepts": ("caseworker", "accept", "submitted", {}, 403,
                           "Only staff of the organization running this shelter can do that."),
    "staff withdraws": ("staff", "withdraw", "submitted", {"reason_text": "no"}, 403,
                        "Only a caseworker of the referring organization can do that."),
    "staff approves": ("staff", "approve", "accepted", {}, 403,
                       "Only a guardianship officer of the shelter's region can do that."),
    "decline without a reason code": ("staff", "decline", "submitted", {"reason_text": "full"}, 422,
                                      "Choose why you decline"),
    "decline with an unknown code": ("staff", "decline", "submitted",
                                     {"reason_code": "bored", "reason_text": "full"}, 422, "Not a valid choice"),
    "decline without a reason text": ("staff", "decline", "submitted", {"reason_code": "other"}, 422,
                                      "Give a reason"),
    "reject without a reason": ("guardian", "reject", "accepted", {"reason_text": "   "}, 422, "Give a reason"),
    "accept twice": ("staff", "accept", "accepted", {}, 409, "it cannot be moved that way now"),
    "place before approval": ("staff", "place", "accepted", {}, 409, "it cannot be moved that way now"),
    "arrival in the future": ("staff", "place", "approved", {"arrived_at": "2026-03-02T18:00"}, 422,
                              "cannot be in the future"),
    "arrival not a time": ("staff", "place", "approved", {"arrived_at": "soon"}, 422, "Not a valid datetime"),
    "reason too long": ("caseworker", "withdraw", "submitted", {"reason_text": "x" * 2001}, 422,
                        "longer than 2000 characters"),
}


def _person(make, login_as, who, referral):
    action = {"caseworker": "withdraw", "staff": "accept", "guardian": "approve"}[who]
    return login_as(make.actor_for(action, referral))


@pytest.mark.parametrize("who, action, start, form, status, message", REFUSALS.values(), ids=REFUSALS.keys())
def test_a_refused_step_through_htmx_answers_the_panel_with_the_reason_and_changes_nothing(
        make, login_as, who, action, start, form, status, message):
    pool = make.pool(capacity=3)
    referral = make.referral(pool=pool, status=start)
    before = held_and_occupied(pool)
    person = _person(make, login_as, who, referral)

    response = person.post(f"/referrals/{referral.id}/{action}", form, htmx=True)

    assert response.status_code == status, raw(response)[:2000]
    text = assert_fragment_only(response, "referral-state")
    assert says(response, message), messages(response)
    assert shown_status(text) == start
    assert "bedsChanged" not in response.headers.get("HX-Trigger", "")
    assert fresh(referral).status == start and held_and_occupied(pool) == before
    assert len(fresh(referral).events) == len(referral.events)


@pytest.mark.parametrize("who, action, start, form, status, message", REFUSALS.values(), ids=REFUSALS.keys())
def test_a_refused_step_as_a_plain_form_answers_the_whole_page_with_the_reason(
        make, login_as, who, action, start, form, status, message):
    pool = make.pool(capacity=3)
    referral = make.referral(pool=pool, status=start)
    person = _person(make, login_as, who, referral)

    response = person.post(f"/referrals/{referral.id}/{action}", form)

    assert response.status_code == status, raw(response)[:2000]
    text = assert_whole_page(response)
    assert says(response, message), messages(response)
    assert referral.child.case_reference in text and shown_status(text) == start
    assert fresh(referral).status == start


def test_a_step_on_another_organizations_referral_answers_404_as_if_it_did_not_exist(make, login_as):
    referral = make.referral(status="submitted")
    outsider = login_as("shelter_staff")

    response = outsider.post(f"/referrals/{referral.id}/accept", htmx=True)

    assert response.status_code == 404
    assert fresh(referral).status == "submitted"


def test_an_unknown_step_answers_404(make, caseworker):
    referral = make.referral(child=a_girl_of_13(make, caseworker), status="submitted")

    assert caseworker.post(f"/referrals/{referral.id}/teleport").status_code == 404
    assert fresh(referral).status == "submitted"


def test_a_step_without_the_csrf_token_is_refused(make, login_as):
    referral = make.referral(status="submitted")
    staff = login_as(make.actor_for("accept", referral))

    response = staff.post(f"/referrals/{referral.id}/accept", csrf=False, htmx=True)

    assert response.status_code == 400
    assert fresh(referral).status == "submitted"


# --- the buttons each person sees ------------------------------------------------------------

BUTTONS = {
    # status: {who: the actions offered}
    "draft": {"caseworker": {"submit"}},
    "submitted": {"caseworker": {"withdraw"}, "staff": {"accept", "decline"}, "guardian": set()},
    "accepted": {"caseworker": {"withdraw"}, "staff": set(), "guardian": {"approve", "reject"}},
    "approved": {"caseworker": {"withdraw"}, "staff": {"place"}, "guardian": set()},
    "placed": {"caseworker": set(), "staff": {"discharge"}, "guardian": set()},
    "declined": {"caseworker": set(), "staff": set(), "guardian": set()},
}


@pytest.mark.parametrize("status, who", [(s, w) for s, people in BUTTONS.items() for w in people])
def test_the_referral_page_shows_only_the_buttons_the_person_may_press(make, login_as, status, who):
    referral = make.referral(status=status)
    person = _person(make, login_as, who, referral)

    response = person.get(f"/referrals/{referral.id}")

    assert response.status_code == 200
    assert offered_moves(raw(response)) == BUTTONS[status][who]


def test_the_buttons_of_a_step_with_a_reason_ask_for_it(make, login_as):
    referral = make.referral(status="submitted")
    staff = login_as(make.actor_for("accept", referral))

    text = raw(staff.get(f"/referrals/{referral.id}"))

    decline = re.search(r'<form[^>]*action="/referrals/\d+/decline".*?</form>', text, re.S).group(0)
    assert 'name="reason_code"' in decline and 'name="reason_text"' in decline
    assert f'hx-post="/referrals/{referral.id}/decline"' in decline and 'hx-target="#referral-state"' in decline


def test_a_draft_is_invisible_to_shelter_staff_and_guardianship(make, login_as):
    referral = make.referral(status="draft")
    staff = login_as(make.actor_for("accept", referral))
    guardian = login_as(make.actor_for("approve", referral))

    assert staff.get(f"/referrals/{referral.id}").status_code == 404
    assert guardian.get(f"/referrals/{referral.id}").status_code == 404


def test_shelter_staff_learn_the_childs_name_only_after_accepting(make, login_as):
    referral = make.referral(status="submitted", child=make.child(given_name="Ayşə", family_name="Məmmədova"))
    staff = login_as(make.actor_for("accept", referral))

    before = raw(staff.get(f"/referrals/{referral.id}"))
    staff.post(f"/referrals/{referral.id}/accept", htmx=True)
    after = raw(staff.get(f"/referrals/{referral.id}"))

    assert "Məmmədova" not in before and referral.child.case_reference in before
    assert "Ayşə Məmmədova" in after


# --- the list --------------------------------------------------------------------------------

def listed(response) -> list[int]:
    assert response.status_code == 200, raw(response)[:2000]
    return [int(i) for i in LISTED.findall(raw(response))]


def test_the_list_shows_the_organizations_referrals_and_not_others(make, caseworker):
    own = make.referral(child=a_girl_of_13(make, caseworker), status="submitted")
    colleague = make.user("caseworker", organization=caseworker.user.organization)
    colleagues = make.referral(child=make.child(registered_by=colleague))
    elsewhere = make.referral(status="submitted")

    shown = listed(caseworker.get("/referrals"))

    assert sorted(shown) == sorted([own.id, colleagues.id])
    assert elsewhere.id not in shown


def test_shelter_staff_list_the_referrals_to_their_pools_but_no_drafts(make, login_as):
    organization = make.organization()
    pool = make.pool(make.shelter(organization=organization))
    submitted = make.referral(pool=pool, status="submitted")
    make.referral(pool=pool, status="draft")
    make.referral(status="submitted")  # to another organization's pool
    staff = login_as("shelter_staff", organization=organization)

    assert listed(staff.get("/referrals")) == [submitted.id]


def test_the_list_filters_by_status(make, caseworker):
    pool = make.pool(capacity=5)
    refer = {status: make.referral(pool=pool, child=a_girl_of_13(make, caseworker), status=status).id
             for status in ("draft", "submitted", "accepted", "declined")}

    for status, referral_id in refer.items():
        assert listed(caseworker.get(f"/referrals?status={status}")) == [referral_id]
    assert listed(caseworker.get("/referrals?status=placed")) == []


def test_the_list_filters_by_the_shelters_region(make, caseworker):
    north, south = make.region("Guba-Khachmaz"), make.region("Lankaran-Astara")
    up = make.referral(pool=make.pool(make.shelter(region=north)), child=a_girl_of_13(make, caseworker))
    down = make.referral(pool=make.pool(make.shelter(region=south)), child=a_girl_of_13(make, caseworker))

    assert listed(caseworker.get(f"/referrals?region={north.id}")) == [up.id]
    assert listed(caseworker.get(f"/referrals?region={south.id}")) == [down.id]


def test_the_list_filters_by_urgency(make, caseworker):
    pool = make.pool(capacity=5)
    urgent = make.referral(pool=pool, child=a_girl_of_13(make, caseworker), urgency="urgent").id
    routine = make.referral(pool=pool, child=a_girl_of_13(make, caseworker), urgency="routine").id

    assert listed(caseworker.get("/referrals?urgency=urgent")) == [urgent]
    assert listed(caseworker.get("/referrals?urgency=routine")) == [routine]
    assert listed(caseworker.get("/referrals?urgency=emergency")) == []
    assert listed(caseworker.get("/referrals?urgency=urgent&status=submitted")) == []


def latest_change_first(referrals) -> list[int]:
    return [r.id for r in sorted(referrals, key=lambda r: (r.status_changed_at, r.id), reverse=True)]


@pytest.fixture
def thirty_drafts(make, caseworker):
    """30 drafts whose latest changes run in another order than their ids, some at the same moment."""
    pool = make.pool(capacity=1)
    made = [make.referral(pool=pool, child=a_girl_of_13(make, caseworker)) for _ in range(30)]
    for i, referral in enumerate(made):
        referral.status_changed_at = NOW - timedelta(minutes=(i * 7) % 12)
    db.session.commit()
    return latest_change_first(made)


def test_the_list_pages_25_referrals_at_a_time_latest_change_first(caseworker, thirty_drafts):
    first = caseworker.get("/referrals?status=draft")
    second = caseworker.get(pager_link(raw(first), "next"))

    assert listed(first) == thirty_drafts[:25]
    assert listed(second) == thirty_drafts[25:]
    assert set(pager_links(raw(first))) == {"next"}  # the latest: nothing newer
    assert set(pager_links(raw(second))) == {"first", "prev"}  # the last page: nothing older


def test_previous_goes_back_to_the_page_before(caseworker, thirty_drafts):
    second = caseworker.get(pager_link(raw(caseworker.get("/referrals?status=draft")), "next"))

    back = caseworker.get(pager_link(raw(second), "prev"))
    first_again = caseworker.get(pager_link(raw(second), "first"))

    assert listed(back) == listed(first_again) == thirty_drafts[:25]
    assert set(pager_links(raw(back))) == {"next"}


def test_the_pager_keeps_the_filters_and_drops_the_old_cursor(make, caseworker, thirty_drafts):
    first = caseworker.get("/referrals?status=draft&urgency=routine")
    second = caseworker.get(pager_link(raw(first), "next"))

    links = pager_links(raw(first))["next"]
    assert links["status"] == "draft" and links["urgency"] == "routine" and set(links) == {
        "path", "status", "urgency", "before"}
    assert set(pager_links(raw(second))["prev"]) == {"path", "status", "urgency", "after"}
    assert set(pager_links(raw(second))["first"]) == {"path", "status", "urgency"}


def test_a_referral_changed_while_reading_does_not_shift_the_next_page(make, caseworker, thirty_drafts):
    """With page numbers, a new change pushes the first page's last row onto the next one, shown twice."""
    first = caseworker.get("/referrals?status=draft")
    clock.freeze(NOW + timedelta(minutes=1))
    make.referral(pool=make.pool(), child=a_girl_of_13(make, caseworker))

    second = caseworker.get(pager_link(raw(first), "next"))

    assert listed(second) == thirty_drafts[25:]


@pytest.mark.parametrize("most_across", [200, 2], ids=["each pool apart", "all pools at once"])
@pytest.mark.parametrize("reader", ["shelter_staff", "guardianship"])
def test_shelter_staff_and_guardianship_page_through_all_their_pools_latest_change_first(make, login_as, reader,
                                                                                         most_across, monkeypatch):
    """Their referrals are those of several pools, each read on its own (or, when they see
    very many pools, all at once): the pages still run in one order across them all, and
    other shelters' referrals and drafts stay out."""
    monkeypatch.setattr(paging, "MOST_ACROSS", most_across)
    shelter = make.shelter()
    pools = [make.pool(shelter=shelter, capacity=30) for _ in range(3)]
    other_organization_elsewhere = make.shelter(region=make.region())
    made = [make.referral(pool=pools[i % 3], status="submitted") for i in range(31)]
    make.referral(pool=make.pool(shelter=other_organization_elsewhere), status="submitted")
    make.referral(pool=pools[0])  # a draft
    for i, referral in enumerate(made):
        referral.status_changed_at = NOW - timedelta(minutes=(i * 7) % 12)
    db.session.commit()
    person = login_as(make.actor_for("accept" if reader == "shelter_staff" else "approve", made[0]))

    first = person.get("/referrals")
    second = person.get(pager_link(raw(first), "next"))
    back = person.get(pager_link(raw(second), "prev"))

    assert listed(first) == listed(back) == latest_change_first(made)[:25]
    assert listed(second) == latest_change_first(made)[25:]
    assert set(pager_links(raw(second))) == {"first", "prev"}


def test_a_list_that_fits_one_page_has_no_pager(make, caseworker):
    make.referral(child=a_girl_of_13(make, caseworker))

    assert pager_links(raw(caseworker.get("/referrals"))) == {}


def test_htmx_gets_only_the_referral_list(make, caseworker):
    referral = make.referral(child=a_girl_of_13(make, caseworker))

    response = caseworker.get("/referrals?status=draft", htmx=True)

    assert response.status_code == 200
    assert referral.child.case_reference in assert_fragment_only(response, "referral-list")


def test_a_normal_request_gets_the_whole_referral_list_page(make, caseworker):
    response = caseworker.get("/referrals")

    assert response.status_code == 200
    page = assert_whole_page(response)
    assert '<section id="referral-list"' in page and 'id="referral-filters"' in page


@pytest.mark.parametrize("query", ["status=lost", "status=DRAFT", "region=abc", "region=999999", "region=-1",
                                   "urgency=asap", "before=abc", "after=-2", "before=20260302T120000000000",
                                   "before=20261302T120000000000.4", "after=20260302T120000000000.99999999999",
                                   "before=20260302T120000000000.4&after=20260302T120000000000.9"])
@pytest.mark.parametrize("htmx", [False, True], ids=["page", "htmx"])
def test_bad_list_filters_answer_400_with_a_message(caseworker, query, htmx):
    response = caseworker.get(f"/referrals?{query}", htmx=htmx)

    assert response.status_code == 400
    assert messages(response), raw(response)[:2000]
    if htmx:
        assert_fragment_only(response, "referral-list")
    else:
        assert_whole_page(response)


def test_a_cut_off_page_link_says_to_follow_the_lists_own_links(caseworker, thirty_drafts):
    cursor = pager_links(raw(caseworker.get("/referrals?status=draft")))["next"]["before"]

    cut_off = cursor.rpartition(".")[0] + "."  # the time without the id: no row of the list

    response = caseworker.get(f"/referrals?status=draft&before={cut_off}")

    assert response.status_code == 400
    assert messages(response) == ["Page: Not a page of this list: follow the list's own Next and Previous links."]


@pytest.mark.parametrize("status, action", [("submitted", "accept"), ("submitted", "decline"),
                                            ("accepted", "approve"), ("accepted", "reject"),
                                            ("placed", "discharge")])
def test_a_decision_that_changes_a_childs_life_says_what_will_happen_and_asks_once(make, login_as, status, action):
    referral = make.referral(status=status)
    person = login_as(make.actor_for(action, referral))
    page = body(person.get(f"/referrals/{referral.id}"))
    decision = re.search(rf'<details class="decision decision-{action}">(.*?)</details>', page, re.S)
    assert decision, f"{action} is not asked as a decision"
    assert str(MOVES[action].consequence) in decision.group(1)
    assert f"Confirm: {MOVES[action].label}" in decision.group(1)


def test_recording_an_arrival_is_not_asked_twice(make, login_as):
    referral = make.referral(status="approved")
    page = body(login_as(make.actor_for("place", referral)).get(f"/referrals/{referral.id}"))
    assert "decision-place" not in page and ">Record arrival</button>" in page
