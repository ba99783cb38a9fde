"""The situation overview on the home page of admins, oversight and guardianship officers,
checked figure by figure against a small history whose answers are known.

The world, at T0 (Monday 2 March 2026, 09:00 UTC, 13:00 in Baku; the day ends at 20:00 UTC):
- Alpha: shelter "Safe Haven" (fresh counts) with a pool for girls 12–17 (10 beds, 2 occupied
  by hand, 1 out of service) and one for boys 6–11 (4 beds); shelter "Quiet House" (a pool for
  all 0–17, 3 beds) last confirmed 72 hours ago: stale.
- Beta: shelter "Far Hills" (a pool for all 0–5, 2 beds) never confirmed: stale; a suspended
  shelter with 50 beds that counts nowhere.
- Gamma: no shelter at all.
Referrals: in Alpha, a girl submitted 40 h ago (her hold runs out at 17:00 UTC today), another
submitted 10 h ago, a boy submitted 45 h ago (hold runs out at 12:00 UTC today), a boy whose
hold runs out at 20:30 UTC (00:30 tomorrow in Baku: not today for the reader), one accepted
20 h ago, one placed, and one submitted 50 h ago whose hold ran out 2 h ago (not yet closed);
in Beta, one approved 5 h ago, one declined for no capacity 3 days ago, one expired 7 days ago,
and one declined for no capacity 40 days ago (outside the 30 days).
Searches that found no free bed: one in Alpha a day ago, three in Gamma two days ago, and one
in Gamma 31 days ago (outside).
"""
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import func, select

from coordination import clock
from coordination.audit.models import AuditEvent
from coordination.extensions import db
from coordination.referrals import services as referral_services
from coordination.referrals.models import DemandSignal
from coordination.reports.overview import situation

from ..conftest import _acting

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=timezone.utc)
H = timedelta(hours=1)
MINUTE = timedelta(minutes=1)
NAME = "Zümrüdxanım"  # a child's given name distinctive enough to find in any page
FAMILY = "Qaraqoyunlu"


class History:
    def __init__(self, make):
        self.make = make
        alpha, beta, gamma = make.region("Alpha"), make.region("Beta"), make.region("Gamma")
        self.alpha, self.beta, self.gamma = alpha, beta, gamma
        ngo_a = make.organization(region=alpha)
        ngo_b = make.organization(region=beta)
        self.caseworker = make.user("caseworker", organization=make.organization(region=alpha))
        clock.freeze(T0 - 60 * 24 * H)
        self.haven = make.shelter(ngo_a, name="Safe Haven", phone="+994 12 555 01 01")
        self.quiet = make.shelter(ngo_a, name="Quiet House", phone="+994 22 000 00 02")
        self.hills = make.shelter(ngo_b, name="Far Hills", phone="")
        suspended = make.shelter(ngo_b, name="Closed For Repairs", status="suspended")
        self.girls = make.pool(self.haven, capacity=10, occupied=2, out_of_service=1, admits_sex="female",
                               min_age=12, max_age=17)
        self.boys = make.pool(self.haven, capacity=4, admits_sex="male", min_age=6, max_age=11)
        self.all_ages = make.pool(self.quiet, capacity=3, admits_sex="any", min_age=0, max_age=17)
        self.little = make.pool(self.hills, capacity=2, admits_sex="any", min_age=0, max_age=5,
                                last_confirmed_at=None)
        make.pool(suspended, capacity=50, admits_sex="any", min_age=0, max_age=17)

        self.declined_long_ago = self.referral(self.little, [("submit", T0 - 41 * 24 * H),
                                                             ("decline", T0 - 40 * 24 * H)], age=3)
        self.expired = self.referral(self.little, [("submit", T0 - 10 * 24 * H)], age=3)
        clock.freeze(T0 - 7 * 24 * H)
        with_system = referral_services.expire_overdue_holds(at=T0 - 7 * 24 * H)
        assert [r.id for r in with_system] == [self.expired.id]
        db.session.commit()
        self.declined = self.referral(self.little, [("submit", T0 - 3 * 24 * H - H), ("decline", T0 - 3 * 24 * H)],
                                      age=3)
        self.placed = self.referral(self.girls, [("submit", T0 - 5 * 24 * H), ("accept", T0 - 4 * 24 * H),
                                                 ("approve", T0 - 4 * 24 * H), ("place", T0 - 3 * 24 * H)],
                                    given_name=NAME, family_name=FAMILY)
        self.overdue = self.referral(self.girls, [("submit", T0 - 50 * H)])
        self.boy = self.referral(self.boys, [("submit", T0 - 45 * H)], sex="male", age=8)
        self.after_midnight = self.referral(self.boys, [("submit", T0 - 36 * H - 30 * MINUTE)], sex="male", age=9)
        self.first = self.referral(self.girls, [("submit", T0 - 40 * H)])
        self.accepted = self.referral(self.girls, [("submit", T0 - 30 * H), ("accept", T0 - 20 * H)])
        self.second = self.referral(self.girls, [("submit", T0 - 10 * H)])
        self.approved = self.referral(self.little, [("submit", T0 - 7 * H), ("accept", T0 - 6 * H),
                                                    ("approve", T0 - 5 * H)], age=3)
        for pool, confirmed in ((self.girls, T0 - H), (self.boys, T0 - H), (self.all_ages, T0 - 72 * H)):
            pool.last_confirmed_at = confirmed
        for i, (region, at) in enumerate([(alpha, T0 - 24 * H), (gamma, T0 - 48 * H), (gamma, T0 - 48 * H),
                                          (gamma, T0 - 48 * H), (gamma, T0 - 31 * 24 * H)]):
            db.session.add(DemandSignal(created_at=at, region_id=region.id, sex="female", age_band="12–14",
                                        needs=[], seen_key=f"signal-{i}"))
        db.session.commit()
        clock.freeze(T0)

    def referral(self, pool, steps, sex="female", age=14, urgency="routine", **names):
        child = self.make.child(registered_by=self.caseworker, sex=sex, estimated_age=age, **names)
        referral = self.make.referral(pool=pool, child=child, urgency=urgency)
        for action, at in steps:
            clock.freeze(at)
            actor = self.make.actor_for(action, referral)
            with _acting(actor):
                referral_services.move(referral, action, actor, reason_code="no_capacity",
                                       reason_text="no bed")
            db.session.commit()
        return referral

    def guardian(self, region):
        return self.make.user("guardianship", organization=self.make.organization(kind="state", region=region))

    def person(self, role):
        """Someone of `role` whose organization sits in Alpha (no region of its own to count)."""
        return self.make.user(role, organization=self.make.organization(kind="state", region=self.alpha))


@pytest.fixture
def history(make):
    return History(make)


def beds(overview):
    return {r.region.name: (r.free, r.capacity, r.occupied) for r in overview.regions}


def groups(overview):
    return {(g.sex, g.band): (g.free, g.capacity) for g in overview.groups}


def stages(overview):
    return {s.status: (s.count, s.oldest_since, s.oldest_case) for s in overview.stages}


def shortfalls(overview):
    return [(s.region.name, s.searches, s.declined, s.expired, s.free) for s in overview.shortfalls]


# --- the figures, for the whole country --------------------------------------------------------

@pytest.mark.parametrize("role, children", [
    ("admin", {"placed": ["1"], "waiting": ["4", "1", "1", "0"], "shortfall": [["3", "0", "0"], ["0", "1", "1"],
                                                                        ["1", "0", "0"]],
               "free": ["8", "1", "0"], "totals": ("9", 19, "3", "1"), "shortfall_free": ["0", "1", "8"],
               "groups": {("female", "12–14"): "3", ("male", "6–11"): "2", ("any", "0–5"): "4"}}),
    # Alpha's three occupied beds are "<5"; its free beds beside its capacity would tell them,
    # and so would the totals less the other regions.
    ("oversight", {"placed": ["<5"], "waiting": ["<5", "<5", "<5", "0"],
                   "shortfall": [["<5", "0", "0"], ["0", "<5", "<5"], ["<5", "0", "0"]],
                   "free": ["—", "1", "0"], "totals": ("—", 19, "—", "—"), "shortfall_free": ["0", "1", "—"],
                   "groups": {("female", "12–14"): "3", ("male", "6–11"): "—", ("any", "0–5"): "—"}}),
])
def test_the_country_overview_counts_every_figure_of_the_known_history(make, history, role, children):
    overview = situation(history.person(role))

    # Girls' pool: 10 − 3 occupied − 1 out of service − 4 held + the 1 hold past its deadline.
    assert beds(overview) == {"Alpha": (3 + 2 + 3, 17, 3), "Beta": (1, 2, 0), "Gamma": (0, 0, 0)}
    assert [r.region.name for r in overview.regions] == ["Alpha", "Beta", "Gamma"]
    assert [overview.free_beds(r) for r in overview.regions] == children["free"]
    # The shortfall table shows the same free beds as the table of regions.
    assert [overview.shortfall_free(s) for s in overview.shortfalls] == children["shortfall_free"]
    # A group with one to four beds taken (of its capacity) keeps its free beds from oversight.
    assert {(g.sex, g.band): overview.group_free(g) for g in overview.groups
            if (g.sex, g.band) in (("female", "12–14"), ("male", "6–11"), ("any", "0–5"))} == children["groups"]
    assert (overview.free_total, overview.capacity_total, overview.occupied_total,
            overview.placed_total) == children["totals"]
    assert groups(overview) == {
        ("female", "12–14"): (3, 10), ("female", "15–17"): (3, 10),
        ("male", "6–11"): (2, 4),
        ("any", "0–5"): (3 + 1, 5), ("any", "6–11"): (3, 3), ("any", "12–14"): (3, 3), ("any", "15–17"): (3, 3),
    }
    assert [(r.name, n) for r, n in overview.placed] == [("Alpha", 1)]
    # The hold that ran out two hours ago no longer waits; the boy has waited longest.
    assert stages(overview) == {"submitted": (4, T0 - 45 * H, None), "accepted": (1, T0 - 20 * H, None),
                                "approved": (1, T0 - 5 * H, None), "emergency_placed": (0, None, None)}
    assert all(s.oldest_referral_id is None for s in overview.stages)
    assert overview.holds_today == 2
    # Two holds: oversight gets the count as "<5" and no list that would single the two out.
    assert [(h.until, h.shelter, h.region.name, h.referral_id) for h in overview.next_holds] == ([
        (T0 + 3 * H, "Safe Haven", "Alpha", None), (T0 + 8 * H, "Safe Haven", "Alpha", None)]
        if role == "admin" else [])
    assert [(s.name, s.phone, s.region.name, s.confirmed_at) for s in overview.stale] == [
        ("Far Hills", "", "Beta", None), ("Quiet House", "+994 22 000 00 02", "Alpha", T0 - 72 * H)]
    assert (overview.stale_total, overview.stale_more) == (2, 0)
    assert shortfalls(overview) == [("Gamma", 3, 0, 0, 0), ("Beta", 0, 1, 1, 1), ("Alpha", 1, 0, 0, 8)]
    # Counts of children as this reader sees them; counts of beds are never hidden.
    assert [overview.children(n) for _region, n in overview.placed] == children["placed"]
    assert [overview.children(s.count) for s in overview.stages] == children["waiting"]
    assert [[overview.children(n) for n in (s.searches, s.declined, s.expired)]
            for s in overview.shortfalls] == children["shortfall"]


def test_a_guardianship_officer_sees_their_own_region_with_the_cases_they_may_open(history):
    overview = situation(history.guardian(history.alpha))

    assert beds(overview) == {"Alpha": (8, 17, 3)}
    assert groups(overview) == {
        ("female", "12–14"): (3, 10), ("female", "15–17"): (3, 10), ("male", "6–11"): (2, 4),
        ("any", "0–5"): (3, 3), ("any", "6–11"): (3, 3), ("any", "12–14"): (3, 3), ("any", "15–17"): (3, 3),
    }
    assert [(r.name, n) for r, n in overview.placed] == [("Alpha", 1)]
    assert stages(overview) == {
        "submitted": (4, T0 - 45 * H, history.boy.child.case_reference),
        "accepted": (1, T0 - 20 * H, history.accepted.child.case_reference),
        "approved": (0, None, None),  # Beta's approved referral is not theirs
        "emergency_placed": (0, None, None),
    }
    assert [h.referral_id for h in overview.next_holds] == [history.boy.id, history.first.id]
    assert [s.name for s in overview.stale] == ["Quiet House"]
    assert shortfalls(overview) == [("Alpha", 1, 0, 0, 8)]


def test_the_stale_list_shows_the_oldest_twenty_and_counts_the_rest(make, history, monkeypatch):
    monkeypatch.setattr("coordination.reports.overview.STALE_SHOWN", 1)
    overview = situation(history.person("admin"))
    assert [s.name for s in overview.stale] == ["Far Hills"]
    assert overview.stale_more == 1


def test_a_pool_confirmed_within_the_stale_hours_is_not_stale(make, history):
    history.all_ages.last_confirmed_at = T0 - 47 * H
    db.session.commit()
    assert [s.name for s in situation(history.person("admin")).stale] == ["Far Hills"]


# --- emergency placements awaiting the guardianship decision ----------------------------------

@pytest.fixture
def emergencies(history):
    """Two girls taken in at Quiet House before the guardianship decision (due 72 hours after
    arrival): one 80 hours ago, whose decision is 8 hours overdue, and one 10 hours ago; a
    third, taken in 90 hours ago, whose placement guardianship has since approved."""
    def taken_in(hours_ago, *more):
        return history.referral(history.all_ages, [("submit", T0 - (hours_ago + 1) * H), ("place_now", T0 - hours_ago * H),
                                                *more], urgency="emergency")
    history.overdue_decision = taken_in(80)
    history.recent_emergency = taken_in(10)
    taken_in(90, ("approve_emergency", T0 - 85 * H))
    clock.freeze(T0)
    return history


def emergency_stage(overview):
    (stage,) = [s for s in overview.stages if s.status == "emergency_placed"]
    return stage


def test_emergency_placements_wait_for_the_guardianship_decision_with_the_overdue_counted(emergencies):
    admin = situation(emergencies.person("admin"))
    stage = emergency_stage(admin)
    assert (stage.count, stage.oldest_since, stage.overdue, stage.oldest_referral_id) == (2, T0 - 80 * H, 1, None)
    assert (admin.children(stage.count), admin.overdue(stage)) == ("2", "1")
    # The approved one is placed: it waits no more, and the other stages are as they were.
    assert stages(admin)["approved"] == (1, T0 - 5 * H, None)
    assert stages(admin)["submitted"][0] == 4

    oversight = situation(emergencies.person("oversight"))
    assert (oversight.children(emergency_stage(oversight).count), oversight.overdue(emergency_stage(oversight))) == (
        "<5", "<5")


def test_a_guardianship_officer_is_shown_the_longest_waiting_emergency_placement_of_their_region(emergencies):
    stage = emergency_stage(situation(emergencies.guardian(emergencies.alpha)))
    assert (stage.count, stage.overdue, stage.oldest_referral_id, stage.oldest_case) == (
        2, 1, emergencies.overdue_decision.id, emergencies.overdue_decision.child.case_reference)
    beta = emergency_stage(situation(emergencies.guardian(emergencies.beta)))
    assert (beta.count, beta.overdue, beta.oldest_since) == (0, 0, None)


@pytest.mark.parametrize("count, overdue, shown", [
    (7, 2, "<5"),   # the overdue few are a small count
    (7, 5, "—"),    # five overdue beside seven would tell the two not yet due
    (10, 5, "5"), (3, 0, "—"), (0, 0, "0")])
def test_oversight_is_not_told_a_small_count_by_subtraction_of_the_overdue(history, count, overdue, shown):
    from coordination.reports.overview import Stage
    overview = situation(history.person("oversight"))
    assert overview.overdue(Stage("emergency_placed", count, None, None, None, overdue)) == shown


def test_the_overview_page_names_the_stage_and_how_many_decisions_are_overdue(emergencies, login_as):
    page = login_as(emergencies.person("admin")).get("/").get_data(as_text=True)
    assert "Placed in an emergency, waiting for the guardianship decision" in page
    assert "past the decision's deadline: 1" in page
    assert NAME not in page and FAMILY not in page


# --- the page ----------------------------------------------------------------------------------

def test_oversight_signs_in_to_the_overview_with_small_counts_of_children_hidden(history, login_as):
    page = login_as(history.person("oversight")).get("/").get_data(as_text=True)

    assert "Situation overview" in page and "Nothing waits on you here" not in page
    assert 'hx-get="/overview"' in page and "every 30s" in page
    assert "&lt;5" in page  # one child placed in Alpha, four waiting for an answer
    assert "because the free beds beside the capacity would tell how many children" in page
    assert "of a group's beds are taken" in page
    assert "<td class=\"num\" data-label=\"Free beds now\">8</td>" not in page  # Alpha's, in the shortfall table
    assert "they are not listed, so that no child can be singled out" in page  # two holds run out today
    assert '<a href="tel:+994220000002">+994 22 000 00 02</a>' in page
    assert "Gamma" in page and "Quiet House" in page
    assert "/referrals/" not in page  # no referral oversight may not open
    assert NAME not in page and FAMILY not in page


def test_an_admin_sees_the_counts_themselves(history, login_as):
    page = login_as(history.person("admin")).get("/").get_data(as_text=True)
    assert "&lt;5" not in page and "—" not in page
    assert '<td class="num" data-label="Free beds now">8</td>' in page  # Alpha's, in the shortfall table
    assert "Situation overview" in page and "Nothing waits on you here" not in page
    assert NAME not in page and FAMILY not in page


def test_a_guardianship_officer_sees_their_region_above_their_decisions(history, login_as):
    page = login_as(history.guardian(history.alpha)).get("/").get_data(as_text=True)

    assert page.index("Situation overview") < page.index("Placements to decide")
    assert "Beta" not in page and "Gamma" not in page and "Far Hills" not in page
    assert f'/referrals/{history.boy.id}">{history.boy.child.case_reference}</a>' in page
    assert NAME not in page and FAMILY not in page


@pytest.mark.parametrize("role", ["caseworker", "shelter_staff"])
def test_caseworkers_and_shelter_staff_keep_their_work_queue(history, login_as, role):
    page = login_as(role).get("/").get_data(as_text=True)
    assert "Your work queue" in page and "Situation overview" not in page
    assert login_as(role).get("/overview").status_code == 403


def test_the_poll_answers_the_overview_alone_and_leaves_no_trace_in_the_audit_trail(history, login_as):
    oversight = login_as(history.person("oversight"))
    events = db.session.scalar(select(func.count(AuditEvent.id)))

    response = oversight.get("/overview", htmx=True, headers={"X-Poll": "1"})

    body = response.get_data(as_text=True)
    assert response.status_code == 200
    assert body.lstrip().startswith('<section id="overview"') and "<html" not in body
    assert "Far Hills" in body
    assert db.session.scalar(select(func.count(AuditEvent.id))) == events
    assert "HX-Request" in response.headers["Vary"]


def test_the_overview_alone_is_a_whole_page_for_a_browser(history, login_as):
    page = login_as(history.person("admin")).get("/overview").get_data(as_text=True)
    assert "<html" in page and '<section id="overview"' in page


def test_a_guardianship_officers_queue_refreshes_alone_without_the_overview(history, login_as):
    body = login_as(history.guardian(history.alpha)).get("/", htmx=True, headers={"X-Poll": "1"}).get_data(as_text=True)
    assert body.lstrip().startswith('<section id="queue"')
    assert "Placements to decide" in body and 'id="overview"' not in body
