"""Emergency placements in the reports: a child taken in before the guardianship decision
whose placement guardianship then rejects is a rejection by guardianship, not a placement,
while the child is moving out and after the discharge too (when only the referral's
timeline still says so); the approval or rejection of an emergency placement is the
guardianship decision of the waiting times.

The known history of conftest.py, and four emergency referrals to Baku House built by hand
(times UTC, each step counted from submission):

  e1  B1  Y  discharged        sub 5 May 10:00  taken in +1h  rejected +3h   discharged +30h
  e2  B1  Y  placed            sub 6 May 10:00  taken in +1h  approved +4h
  e3  B1  Y  moving_out        sub 7 May 10:00  taken in +1h  rejected +8h
  e4  B1  Y  emergency_placed  sub 8 May 10:00  taken in +1h  (decision due)
"""
import pytest

from coordination.extensions import db
from coordination.referrals.models import ReferralEvent

from .conftest import HOUR, NAMES, utc
from .helpers import report


@pytest.fixture
def emergencies(history, make):
    caseworker = make.user("caseworker", organization=history.org_y)
    staff = make.user("shelter_staff", organization=history.baku_house.organization)
    guardian = make.user("guardianship", organization=make.organization(kind="state", region=history.baku))

    def emergency(status, submitted, steps, **values):
        child = make.child(registered_by=caseworker, given_name=NAMES[0], family_name=NAMES[1], estimated_age=15)
        referral = make.referral(pool=history.b1, child=child, urgency="emergency")
        referral.status, referral.submitted_at = status, submitted
        referral.accepted_at = referral.arrived_at = submitted + HOUR
        for name, after in values.items():
            setattr(referral, name, submitted + after)
        before = "draft"
        for to_status, after, who in [("submitted", 0 * HOUR, caseworker),
                                      ("emergency_placed", 1 * HOUR, staff)] + steps:
            db.session.add(ReferralEvent(referral_id=referral.id, from_status=before, to_status=to_status,
                                         user_id=who.id, created_at=submitted + after))
            before = to_status
        db.session.commit()
        return referral

    emergency("discharged", utc(2026, 5, 5, 10), [("moving_out", 3 * HOUR, guardian),
                                                 ("discharged", 30 * HOUR, staff)], ended_at=30 * HOUR)
    emergency("placed", utc(2026, 5, 6, 10), [("placed", 4 * HOUR, guardian)], approved_at=4 * HOUR)
    emergency("moving_out", utc(2026, 5, 7, 10), [("moving_out", 8 * HOUR, guardian)])
    emergency("emergency_placed", utc(2026, 5, 8, 10), [], decision_due_at=73 * HOUR)
    return history


def test_a_rejected_emergency_placement_is_a_rejection_by_guardianship_not_a_placement(emergencies, login_as):
    # month, placed, declined, rejected, withdrawn, expired, still open
    may = ["May 2026", "2", "0", "2", "1", "0", "1"]  # e2 approved and e4 awaiting the decision are placed
    assert report(login_as("admin"), "referrals")[1] == may
    assert report(login_as("oversight"), "referrals")[1] == ["May 2026", "<5", "0", "<5", "<5", "0", "<5"]
    in_baku = f"date_from=2026-04-01&date_to=2026-06-15&region={emergencies.baku.id}"
    assert report(login_as("admin"), "referrals", in_baku)[1] == ["May 2026", "2", "0", "2", "0", "0", "0"]


def test_rejections_after_an_emergency_placement_count_among_guardianships_rejections(emergencies, login_as):
    assert report(login_as("admin"), "reasons")[-1] == ["Rejected by guardianship", "3"]  # r4, e1, e3
    # The shelter's reasons stay as they were: a discharge's outcome is no decline.
    assert report(login_as("admin"), "reasons")[:4] == [
        ["No capacity", "1"], ["Not eligible", "1"], ["Needs not met", "0"], ["Other", "0"]]


def test_approving_or_rejecting_an_emergency_placement_is_the_guardianship_decision(emergencies, login_as):
    rows = [row for row in report(login_as("admin"), "waiting") if row[:2] == ["Baku", "May 2026"]]
    assert rows == [
        ["Baku", "May 2026", "Shelter's answer", "4", "1 h 00 min", "1 h 00 min"],   # taken in: answered at once
        ["Baku", "May 2026", "Guardianship decision", "3", "4 h 00 min", "8 h 00 min"],  # 3, 4, 8 hours; e4 waits
        ["Baku", "May 2026", "Arrival", "4", "1 h 00 min", "1 h 00 min"],
    ]
