"""The work queue on the home page: what waits on each person, most urgent and then oldest
first, with how long
it has waited; and the notifications that tell the next person a referral moved."""
import re
from datetime import timedelta

import pytest
from flask import current_app

from coordination import clock
from coordination.extensions import db

from .pages import (
    NOW,
    assert_fragment_only,
    assert_whole_page,
    body,
    fresh,
    raw,
    redirect_path,
    section,
)

QUEUE_PART = re.compile(r'<h2 id="queue-(\w+)">(.*?)(?=<h2 id="queue-|</section>)', re.S)
QUEUE_ROW = re.compile(r'<tr>\s*<td[^>]*><a href="/referrals/(\d+)">[^<]*</a></td>.*?<td[^>]*>([^<]*)</td>\s*</tr>', re.S)
BADGE = re.compile(r'<span class="badge">(\d+)')


def at(moment):
    clock.freeze(moment)


@pytest.fixture(autouse=True)
def frozen_clock(app):
    at(NOW)
    yield
    clock.freeze(None)


def queue(response) -> dict[str, list[tuple[int, str]]]:
    """Each part of the queue: (referral id, how long it has waited), top to bottom."""
    assert response.status_code == 200, raw(response)[:2000]
    return {key: [(int(referral_id), waited.strip()) for referral_id, waited in QUEUE_ROW.findall(part)]
            for key, part in QUEUE_PART.findall(section(raw(response), "queue"))}


def unread_badge(person) -> int:
    response = person.get("/notifications/count", htmx=True)
    assert response.status_code == 200
    found = BADGE.search(raw(response))
    return int(found.group(1)) if found else 0


# --- caseworker ------------------------------------------------------------------------------

@pytest.fixture
def caseworker_user(make):
    return make.user("caseworker")


def refer(make, caseworker, status, **values):
    return make.referral(child=make.child(registered_by=caseworker), status=status, **values)


def test_caseworker_sees_drafts_oldest_first_with_how_long_they_waited(make, login_as, caseworker_user):
    first = refer(make, caseworker_user, "draft")
    at(NOW + timedelta(hours=1))
    second = refer(make, caseworker_user, "draft")
    make.referral(status="draft")  # another organization's draft
    refer(make, caseworker_user, "submitted")
    at(NOW + timedelta(hours=3))

    parts = queue(login_as(caseworker_user).get("/"))

    assert parts["drafts"] == [(first.id, "3 h 00 min"), (second.id, "2 h 00 min")]


@pytest.mark.parametrize("role, part, status", [
    ("caseworker", "drafts", "draft"), ("shelter_staff", "to_answer", "submitted"),
    ("guardianship", "decisions", "accepted"), ("shelter_staff", "arrivals", "approved"),
])
def test_every_queue_puts_the_most_urgent_first_and_then_the_oldest(make, login_as, role, part, status):
    """A routine referral that has waited longest still comes after an emergency sent a minute ago."""
    caseworker = make.user("caseworker")
    shelter = make.shelter()
    pool = make.pool(shelter, capacity=10)
    made = {}
    for minutes, urgency in ((0, "routine"), (10, "urgent"), (20, "emergency"), (30, "routine"), (40, "emergency")):
        at(NOW + timedelta(minutes=minutes))
        made[minutes] = refer(make, caseworker, status, urgency=urgency, pool=pool)
    at(NOW + timedelta(hours=1))
    reader = {"caseworker": caseworker, "shelter_staff": make.user("shelter_staff", organization=shelter.organization),
              "guardianship": make.user("guardianship", organization=make.organization(kind="state", region=shelter.region))}[role]

    shown = [referral_id for referral_id, _waited in queue(login_as(reader).get("/"))[part]]

    assert shown == [made[20].id, made[40].id, made[10].id, made[0].id, made[30].id]


def test_a_long_part_shows_its_most_urgent_and_links_to_the_list_of_them_all(make, login_as, caseworker_user):
    """Past QUEUE_SHOWN, a part of the queue says there are more and where to find them all,
    instead of a count that stops silently where the page does."""
    from coordination.referrals.services import QUEUE_SHOWN

    drafts = [refer(make, caseworker_user, "draft", urgency="emergency" if n == QUEUE_SHOWN else "routine")
              for n in range(QUEUE_SHOWN + 1)]
    refer(make, caseworker_user, "moving_out", urgency="emergency")
    response = login_as(caseworker_user).get("/")

    shown = [referral_id for referral_id, _waited in queue(response)["drafts"]]
    assert len(shown) == QUEUE_SHOWN and shown[0] == drafts[-1].id  # the emergency first, the newest routine left out
    assert drafts[-2].id not in shown
    drafts_part = QUEUE_PART.search(section(raw(response), "queue"))
    assert f'<span class="count">{QUEUE_SHOWN}+</span>' in drafts_part.group(2)
    assert 'href="/referrals?status=draft"' in drafts_part.group(2)
    # A part with no more than it shows says nothing of the kind.
    moving_out = dict((key, part) for key, part in QUEUE_PART.findall(section(raw(response), "queue")))["moving_out"]
    assert '<span class="count">1</span>' in moving_out and "/referrals?status" not in moving_out


def test_caseworker_sees_answers_received_oldest_first(make, login_as, caseworker_user):
    at(NOW - timedelta(hours=48, minutes=10))
    expired = refer(make, caseworker_user, "submitted")  # its hold runs out at NOW - 10 min
    at(NOW)
    declined = refer(make, caseworker_user, "declined")
    at(NOW + timedelta(minutes=30))
    approved = refer(make, caseworker_user, "approved")
    at(NOW + timedelta(hours=1))
    accepted = refer(make, caseworker_user, "accepted")
    at(NOW + timedelta(hours=1, minutes=30))
    db.session.commit()
    assert run_expire_holds() == 1 and fresh(expired).status == "expired"
    at(NOW + timedelta(hours=2))
    rejected = refer(make, caseworker_user, "rejected")
    for not_an_answer in ("draft", "submitted", "placed", "withdrawn", "discharged"):
        refer(make, caseworker_user, not_an_answer)
    at(NOW + timedelta(hours=3))

    parts = queue(login_as(caseworker_user).get("/"))

    assert parts["answers"] == [(declined.id, "3 h 00 min"), (approved.id, "2 h 30 min"),
                                (accepted.id, "2 h 00 min"), (expired.id, "1 h 30 min"),
                                (rejected.id, "1 h 00 min")]


def run_expire_holds() -> int:
    """What the minute-by-minute job does: `flask expire-holds`; how many holds it closed."""
    result = current_app.test_cli_runner().invoke(args=["expire-holds"])
    db.session.expire_all()
    assert result.exit_code == 0, result.output
    return int(re.search(r"Expired (\d+) hold", result.output).group(1))


def test_caseworker_sees_holds_running_out_within_6_hours_and_not_later_ones(make, login_as, caseworker_user):
    view = NOW + timedelta(hours=3)
    at(view - timedelta(hours=45))
    accepted = refer(make, caseworker_user, "accepted")  # hold renewed on acceptance: runs out in 3 h
    at(view - timedelta(hours=44))
    four_left = refer(make, caseworker_user, "submitted")
    at(view - timedelta(hours=43))
    five_left = refer(make, caseworker_user, "submitted")
    at(view - timedelta(hours=38))
    ten_left = refer(make, caseworker_user, "submitted")
    at(view)

    parts = queue(login_as(caseworker_user).get("/"))

    assert parts["expiring"] == [(accepted.id, "45 h 00 min"), (four_left.id, "44 h 00 min"),
                                 (five_left.id, "43 h 00 min")]
    assert ten_left.id not in dict(parts["expiring"])


def test_a_hold_that_has_already_run_out_is_not_shown_as_running_out(make, login_as, caseworker_user):
    at(NOW - timedelta(hours=49))
    overdue = refer(make, caseworker_user, "submitted")
    at(NOW)

    parts = queue(login_as(caseworker_user).get("/"))

    assert overdue.id not in dict(parts["expiring"])


# --- shelter staff ---------------------------------------------------------------------------

def test_shelter_staff_see_referrals_to_answer_and_arrivals_expected(make, login_as):
    organization = make.organization()
    pool = make.pool(make.shelter(organization=organization), capacity=10)
    other_pool = make.pool(capacity=10)  # another organization's shelter
    first = make.referral(pool=pool, status="submitted")
    make.referral(pool=other_pool, status="submitted")
    make.referral(pool=pool, status="draft")
    at(NOW + timedelta(minutes=30))
    arriving = make.referral(pool=pool, status="approved")
    make.referral(pool=other_pool, status="approved")
    make.referral(pool=pool, status="accepted")  # waits on guardianship, not on the shelter
    make.referral(pool=pool, status="placed")
    at(NOW + timedelta(hours=1))
    second = make.referral(pool=pool, status="submitted")
    at(NOW + timedelta(hours=2))

    parts = queue(login_as("shelter_staff", organization=organization).get("/"))

    assert parts["to_answer"] == [(first.id, "2 h 00 min"), (second.id, "1 h 00 min")]
    assert parts["arrivals"] == [(arriving.id, "1 h 30 min")]


# --- guardianship ----------------------------------------------------------------------------

def test_guardianship_sees_placements_to_decide_in_its_own_region_only(make, login_as):
    region, elsewhere = make.region(), make.region()
    pool = make.pool(make.shelter(region=region), capacity=10)
    other_pool = make.pool(make.shelter(region=elsewhere), capacity=10)
    first = make.referral(pool=pool, status="accepted")
    make.referral(pool=other_pool, status="accepted")
    make.referral(pool=pool, status="submitted")
    make.referral(pool=pool, status="approved")
    at(NOW + timedelta(minutes=20))
    second = make.referral(pool=pool, status="accepted")
    at(NOW + timedelta(hours=1))
    guardian = login_as("guardianship", organization=make.organization(kind="state", region=region))

    parts = queue(guardian.get("/"))

    assert parts == {"emergencies": [], "decisions": [(first.id, "1 h 00 min"), (second.id, "40 min")]}


@pytest.mark.parametrize("role", ["oversight", "admin"])
def test_oversight_and_admin_have_no_queue_but_the_situation_overview(make, login_as, role):
    referral = make.referral(status="accepted")

    text = body(login_as(role).get("/"))

    assert '<section id="queue"' not in text and "Nothing waits on you here." not in text
    assert '<section id="overview"' in text  # tests/reports/test_overview.py checks its figures
    assert f"/referrals/{referral.id}" not in text and referral.child.case_reference not in text


def test_long_waits_are_counted_in_days(make, login_as, caseworker_user):
    draft = refer(make, caseworker_user, "draft")
    at(NOW + timedelta(days=2, hours=5, minutes=10))

    assert queue(login_as(caseworker_user).get("/"))["drafts"] == [(draft.id, "2 days 5 h")]


# --- htmx ------------------------------------------------------------------------------------

def test_htmx_gets_only_the_queue_which_asks_again_every_30_seconds(make, login_as, caseworker_user):
    draft = refer(make, caseworker_user, "draft")
    caseworker = login_as(caseworker_user)

    response = caseworker.get("/", htmx=True)

    assert response.status_code == 200
    fragment = assert_fragment_only(response, "queue")
    opening = re.match(r"<section[^>]*>", fragment).group(0)
    trigger = re.search(r'hx-trigger="([^"]*)"', opening).group(1)
    assert "every 30s" in trigger
    assert 'hx-get="/"' in opening
    assert draft.child.case_reference in fragment


def test_a_normal_request_gets_the_whole_home_page_with_the_queue(make, login_as, caseworker_user):
    response = login_as(caseworker_user).get("/")

    page = assert_whole_page(response)
    assert '<section id="queue"' in page and "Your work queue" in page


# --- notifications ---------------------------------------------------------------------------

@pytest.fixture
def story(make, login_as):
    """A caseworker, a shelter with one staff member and the region's guardianship officer,
    each signed in; a girl with a name the notifications must never tell."""

    class Story:
        pass

    s = Story()
    s.shelter = make.shelter()
    s.pool = make.pool(s.shelter, capacity=3)
    s.caseworker = login_as("caseworker")
    s.staff = login_as("shelter_staff", organization=s.shelter.organization)
    s.guardian = login_as("guardianship", organization=make.organization(kind="state", region=s.shelter.region))
    s.child = make.child(registered_by=s.caseworker.user, given_name="Ayşə", family_name="Zeynalova")
    return s


def submit_through_the_page(s) -> int:
    response = s.caseworker.post("/referrals/new", {"child": str(s.child.id), "pool": str(s.pool.id),
                                                    "urgency": "urgent", "then": "submit"})
    return int(redirect_path(response).rsplit("/", 1)[1])


def test_after_a_submit_the_shelter_staffs_badge_counts_the_unread_notification(story):
    assert unread_badge(story.staff) == 0

    submit_through_the_page(story)

    assert unread_badge(story.staff) == 1
    assert unread_badge(story.guardian) == 0  # nothing for guardianship to do yet
    assert unread_badge(story.caseworker) == 0  # nobody is told of their own move


def test_the_badge_answers_htmx_with_the_badge_alone(story):
    submit_through_the_page(story)

    response = story.staff.get("/notifications/count", htmx=True)

    text = raw(response)
    assert text.lstrip().startswith('<a id="notification-badge"') and "<html" not in text
    assert "every 30s" in text


def test_a_badge_past_99_unread_says_99_plus_and_counts_no_further(story):
    """Someone back from a month away sees "99+", not a count of every notice kept."""
    from coordination.notifications.models import Notification

    staff = story.staff.user
    db.session.add_all(Notification(user_id=staff.id, text_key="account.sign_in_paused", params={}) for _ in range(99))
    db.session.commit()
    assert unread_badge(story.staff) == 99

    db.session.add_all(Notification(user_id=staff.id, text_key="account.sign_in_paused", params={}) for _ in range(150))
    db.session.commit()
    assert '<span class="badge">99+<' in raw(story.staff.get("/notifications/count", htmx=True))


def test_the_notifications_page_lists_case_references_and_never_child_names(story):
    referral_id = submit_through_the_page(story)

    page = raw(story.staff.get("/notifications"))

    assert story.child.case_reference in page
    assert f'href="/referrals/{referral_id}"' in page
    assert "Ayşə" not in page and "Zeynalova" not in page
    assert "waits for your answer" in page


def test_the_notifications_come_a_page_at_a_time_newest_first(story):
    """Back from a month away, a person reads the newest first, then the older by the pager."""
    from coordination.notifications.models import Notification
    from coordination.notifications.services import PER_PAGE

    staff = story.staff.user
    notices = [Notification(user_id=staff.id, text_key="account.sign_in_paused", params={},
                            created_at=NOW - timedelta(minutes=n)) for n in range(PER_PAGE + 5)]
    db.session.add_all(notices)
    db.session.commit()

    first = raw(story.staff.get("/notifications"))
    assert first.count("<li class=") == PER_PAGE
    older = re.search(r'<a href="([^"]+)" rel="next"', first).group(1).replace("&amp;", "&")
    second = raw(story.staff.get(older))
    assert second.count("<li class=") == 5 and 'rel="next"' not in second and 'rel="prev"' in second


def test_a_notifications_page_address_that_names_no_page_is_refused_and_says_so(story):
    response = story.staff.get("/notifications?before=yesterday")

    assert response.status_code == 400
    assert 'role="alert"' in raw(response) and 'href="/notifications"' in raw(response)


def test_opening_the_referral_marks_its_notifications_read(story, make):
    referral_id = submit_through_the_page(story)
    other_child = make.child(registered_by=story.caseworker.user)
    story.caseworker.post("/referrals/new", {"child": str(other_child.id), "pool": str(story.pool.id),
                                             "urgency": "routine", "then": "submit"})
    assert unread_badge(story.staff) == 2

    assert story.staff.get(f"/referrals/{referral_id}").status_code == 200

    assert unread_badge(story.staff) == 1  # the other referral's notification stays unread


def test_each_move_tells_whoever_acts_next(story):
    referral_id = submit_through_the_page(story)
    story.staff.get(f"/referrals/{referral_id}")

    response = story.staff.post(f"/referrals/{referral_id}/accept", htmx=True)

    assert response.status_code == 200
    assert unread_badge(story.guardian) == 1
    assert unread_badge(story.caseworker) == 1
    assert unread_badge(story.staff) == 0
    caseworker_page = raw(story.caseworker.get("/notifications"))
    assert story.child.case_reference in caseworker_page and "accepted by the shelter" in caseworker_page
    assert "Zeynalova" not in caseworker_page


def test_mark_all_read_clears_the_badge_and_the_new_tags(story):
    referral_id = submit_through_the_page(story)
    story.staff.post(f"/referrals/{referral_id}/accept")
    assert unread_badge(story.caseworker) == 1

    response = story.caseworker.post("/notifications/read")

    assert redirect_path(response) == "/notifications"
    assert unread_badge(story.caseworker) == 0
    page = story.caseworker.get("/notifications")
    assert "All notifications marked as read." in body(page)
    assert 'class="unread"' not in raw(page) and story.child.case_reference in raw(page)
    assert unread_badge(story.guardian) == 1  # only the caseworker's own were marked


def test_mark_all_read_without_the_csrf_token_marks_nothing(story):
    submit_through_the_page(story)

    story.staff.post("/notifications/read", csrf=False)

    assert unread_badge(story.staff) == 1
