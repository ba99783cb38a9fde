"""After placement: a discharge says how the stay ended (and a child who left without notice
raises the alarm at once), and a placed child is transferred to another shelter as one
referral that holds the new bed and frees the old one on arrival."""
import re
from datetime import timedelta

import pytest
from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError

from coordination import clock
from coordination.audit.models import AuditEvent
from coordination.beds.models import BedUpdate
from coordination.errors import InvalidFields, InvalidInput, InvalidMove, NoBedAvailable, NotAllowed
from coordination.extensions import db
from coordination.notifications.models import Notification
from coordination.notifications.services import text_of
from coordination.referrals import services, transfers
from coordination.referrals.models import DISCHARGE_CODES, Referral, ReferralEvent

from ..conftest import _acting
from .referral_cast import T0, Cast, assert_refused, count, move_as, notified, person, pool_counts, snapshot


@pytest.fixture
def cast(make):
    clock.freeze(T0)
    return Cast(make)


def audits(action: str, referral: Referral) -> list[AuditEvent]:
    return list(db.session.scalars(select(AuditEvent).where(
        AuditEvent.action == action, AuditEvent.object_id == str(referral.id))))


# --- discharge outcomes -----------------------------------------------------------------------

@pytest.mark.parametrize("code", DISCHARGE_CODES)
def test_a_discharge_records_the_outcome_chosen_with_its_text(cast, code):
    referral = cast.referral("placed")
    move_as(referral, "discharge", cast["pool staff"], reason_code=code, reason_text="  Picked up at 10:00.  ")
    assert (referral.status, referral.reason_code, referral.reason_text) == ("discharged", code, "Picked up at 10:00.")
    assert (referral.events[-1].reason_code, referral.events[-1].reason_text) == (code, "Picked up at 10:00.")
    assert audits("referral.discharged", referral)[0].details["reason_code"] == code
    assert pool_counts(cast.pool) == (0, 0, 0)


@pytest.mark.parametrize("code", ["", "no_capacity", "runaway", " "])
def test_a_discharge_without_a_listed_outcome_is_refused_and_changes_nothing(cast, code):
    referral = cast.referral("placed")
    refusal = assert_refused(InvalidInput, referral, "discharge", cast["pool staff"], reason_code=code,
                             reason_text="She left.")
    assert "how the stay ended" in refusal.message
    assert (referral.status, pool_counts(cast.pool)) == ("placed", (0, 1, 0))


def test_the_discharge_form_offers_every_outcome_in_the_readers_language(cast, login_as):
    referral = cast.referral("placed")
    page = login_as(cast["pool staff"]).get(f"/referrals/{referral.id}").get_data(as_text=True)
    form = page[page.index('class="move move-discharge"'):]
    options = re.findall(r'<option value="([a-z_]*)">([^<]*)</option>', form[:form.index("</form>")])
    assert options == [("", "Choose an outcome"), ("family_reunification", "Family reunification"),
                       ("foster_care", "Foster care"), ("other_guardian", "Another guardian"),
                       ("aged_out", "Came of age (18)"), ("missing", "Left without notice (missing)"),
                       ("transferred", "Transferred elsewhere"), ("other", "Other")]
    staff = cast["pool staff"]
    staff.locale = "ru"
    db.session.commit()
    russian = login_as(staff).get(f"/referrals/{referral.id}", headers={"Accept-Language": "ru"})
    assert "Воссоединение с семьёй" in russian.get_data(as_text=True)


def test_a_discharge_through_the_page_keeps_the_outcome_and_shows_it(cast, login_as):
    referral = cast.referral("placed")
    staff = login_as(cast["pool staff"])
    response = staff.post(f"/referrals/{referral.id}/discharge",
                          {"reason_code": "foster_care", "reason_text": "A foster family in Sumgayit."})
    assert response.status_code == 303
    db.session.refresh(referral)
    assert (referral.status, referral.reason_code) == ("discharged", "foster_care")
    page = staff.get(f"/referrals/{referral.id}").get_data(as_text=True)
    assert "Outcome: Foster care" in page


def test_a_discharge_recorded_before_outcomes_were_asked_shows_not_recorded(cast, login_as):
    referral = cast.referral("placed")
    move_as(referral, "discharge", cast["pool staff"])
    # As the migration leaves a discharge recorded before the codes: no code at all.
    db.session.execute(update(Referral).where(Referral.id == referral.id).values(reason_code=""))
    db.session.execute(update(ReferralEvent).where(ReferralEvent.referral_id == referral.id).values(reason_code=""))
    db.session.commit()
    page = login_as(cast.caseworker).get(f"/referrals/{referral.id}").get_data(as_text=True)
    assert "Outcome: not recorded" in page
    assert re.search(r'<dd class="outcome">not recorded</dd>', page)


# --- a child who left without notice ------------------------------------------------------------

def test_a_child_who_left_without_notice_alerts_the_caseworkers_and_the_regions_guardians_at_once(cast):
    referral = cast.referral("placed")
    colleague, guardian, staff = cast["colleague caseworker"], cast["regional guardian"], cast["pool staff"]
    another_guardian = person("guardianship", cast.guardian_org)
    away = person("caseworker", cast.referring_org, active=False)
    elsewhere = (cast["guardianship of another region"], cast["caseworker of another org"],
                 cast["guardianship of the operator's home region"], cast["oversight"])

    move_as(referral, "discharge", staff, reason_code="missing", reason_text="Not back from school by 18:00.")

    told = notified(referral, "referral.missing")
    assert told == {cast.caseworker.id, colleague.id, guardian.id, another_guardian.id}
    assert away.id not in told and staff.id not in told and not told & {u.id for u in elsewhere}
    assert notified(referral, "referral.discharged") == set()  # the alarm, not the ordinary notice
    alarm = audits("referral.missing", referral)
    assert len(alarm) == 1 and alarm[0].user_id == staff.id
    assert set(alarm[0].details["told"]) == told
    notification = db.session.scalars(select(Notification).where(
        Notification.referral_id == referral.id, Notification.text_key == "referral.missing")).first()
    said = text_of(notification)
    assert referral.child.case_reference in said and "without notice" in said
    assert referral.child.family_name not in said and referral.child.given_name not in said


def test_a_discharge_for_any_other_outcome_raises_no_alarm(cast):
    referral = cast.referral("placed")
    cast["regional guardian"]
    move_as(referral, "discharge", cast["pool staff"], reason_code="aged_out", reason_text="Turned 18.")
    assert notified(referral, "referral.missing") == set()
    assert notified(referral, "referral.discharged") == {cast.caseworker.id}
    assert audits("referral.missing", referral) == []


# --- transfers ----------------------------------------------------------------------------------

class Elsewhere:
    """A second shelter, of another NGO in another region, with its own staff and guardians."""

    def __init__(self, make, capacity: int = 3):
        self.make = make
        region = make.region()
        self.operator = make.organization("ngo", region)
        self.shelter = make.shelter(organization=self.operator, region=region)
        self.pool = make.pool(self.shelter, capacity=capacity)
        self.staff = person("shelter_staff", self.operator)
        self.guardian = person("guardianship", make.organization("state", region))

    def take(self, transfer: Referral, *actions) -> Referral:
        for action in actions:
            move_as(transfer, action, self.guardian if action in ("approve", "reject") else self.staff,
                    **({"reason_code": "no_capacity", "reason_text": "Full tonight"} if action == "decline" else {}))
        return transfer


@pytest.fixture
def elsewhere(make):
    return Elsewhere(make)


def start(cast, placement, pool, user=None) -> Referral:
    user = user or cast.caseworker
    with _acting(user):
        transfer = transfers.start_transfer(user, placement, pool, "urgent", "Nearer her school.")
    db.session.commit()
    return transfer


def test_a_transfer_holds_the_new_bed_while_the_child_stays_in_the_old_one(cast, elsewhere):
    placement = cast.referral("placed")
    old_staff = cast["pool staff"]
    transfer = start(cast, placement, elsewhere.pool)

    assert (transfer.status, transfer.transfer_of_id, transfer.child_id) == ("submitted", placement.id,
                                                                              placement.child_id)
    assert transfer.holds_bed and transfer.referring_organization_id == cast.referring_org.id
    db.session.refresh(placement)
    assert placement.status == "placed"
    assert pool_counts(cast.pool) == (0, 1, 0)
    assert pool_counts(elsewhere.pool) == (1, 0, 0)
    assert notified(transfer, "referral.submitted") == {elsewhere.staff.id}
    assert notified(placement, "referral.transfer_requested") == {old_staff.id}
    assert audits("referral.transfer", transfer)[0].details == {
        "from_referral": placement.id, "from_pool": cast.pool.id, "to_pool": elsewhere.pool.id}
    assert services.integrity_problems() == []


def test_the_arrival_of_a_transfer_occupies_the_new_bed_and_ends_the_old_placement_in_one_step(cast, elsewhere):
    placement = cast.referral("placed")
    old_staff = cast["pool staff"]
    transfer = elsewhere.take(start(cast, placement, elsewhere.pool), "accept", "approve")
    updates = count(BedUpdate)
    clock.freeze(T0 + timedelta(hours=5))

    move_as(transfer, "place", elsewhere.staff)

    db.session.refresh(placement)
    assert (transfer.status, transfer.holds_bed) == ("placed", False)
    assert (placement.status, placement.reason_code, placement.ended_at) == ("discharged", "transferred", clock.now())
    assert pool_counts(elsewhere.pool) == (0, 1, 0)
    assert pool_counts(cast.pool) == (0, 0, 0)
    assert count(BedUpdate) == updates + 2  # each pool's history says why its count moved
    # Both timelines tell it, by the person who recorded the arrival.
    step = placement.events[-1]
    assert (step.from_status, step.to_status, step.reason_code, step.user_id) == (
        "placed", "discharged", "transferred", elsewhere.staff.id)
    assert transfer.events[-1].to_status == "placed"
    assert audits("referral.discharged", placement)[0].details["reason_code"] == "transferred"
    assert audits("referral.placed", transfer)
    assert notified(placement, "referral.transferred_out") == {old_staff.id}
    assert notified(transfer, "referral.placed") == {cast.caseworker.id}
    db.session.refresh(placement.child)
    assert placement.child.reached_bed_at == placement.arrived_at  # the first bed stays the first
    assert services.integrity_problems() == []


def test_a_transferred_child_can_be_transferred_again_and_referred_no_twice(cast, elsewhere, make):
    placement = cast.referral("placed")
    transfer = elsewhere.take(start(cast, placement, elsewhere.pool), "accept", "approve", "place")
    third = Elsewhere(make)
    onward = start(cast, transfer, third.pool)
    assert (onward.status, pool_counts(third.pool)) == ("submitted", (1, 0, 0))
    # The first placement ended; a fresh referral beside the live ones is still refused.
    draft = cast.referral("draft", child=placement.child)
    assert_refused(InvalidMove, draft, "submit", cast.caseworker)
    assert services.integrity_problems() == []


@pytest.mark.parametrize("ending", ["declined", "rejected", "withdrawn", "expired"])
def test_a_transfer_that_does_not_go_ahead_leaves_the_child_placed_where_they_are(cast, elsewhere, ending):
    placement = cast.referral("placed")
    transfer = start(cast, placement, elsewhere.pool)
    if ending == "declined":
        elsewhere.take(transfer, "decline")
    elif ending == "rejected":
        elsewhere.take(transfer, "accept")
        move_as(transfer, "reject", elsewhere.guardian, reason_text="An uncle in Baku takes her.")
    elif ending == "withdrawn":
        move_as(transfer, "withdraw", cast.caseworker, reason_text="She wants to stay.")
    else:
        clock.freeze(transfer.hold_until + timedelta(minutes=1))
        services.expire_overdue_holds()
        db.session.commit()
        db.session.refresh(transfer)

    db.session.refresh(placement)
    assert (transfer.status, transfer.holds_bed) == (ending, False)
    assert (placement.status, placement.ended_at) == ("placed", None)
    assert pool_counts(cast.pool) == (0, 1, 0)
    assert pool_counts(elsewhere.pool) == (0, 0, 0)
    assert services.integrity_problems() == []
    assert start(cast, placement, elsewhere.pool).status == "submitted"  # and may be tried again


@pytest.mark.parametrize("status", ["draft", "submitted", "approved", "discharged"])
def test_only_a_placed_child_can_be_transferred(cast, elsewhere, status):
    referral = cast.referral(status)
    before = snapshot()
    with _acting(cast.caseworker), pytest.raises(InvalidMove) as refusal:
        transfers.start_transfer(cast.caseworker, referral, elsewhere.pool, "routine", "")
    db.session.rollback()
    assert "placed" in refusal.value.message
    assert snapshot() == before


def test_a_second_transfer_while_one_is_under_way_is_refused(cast, elsewhere, make):
    placement = cast.referral("placed")
    start(cast, placement, elsewhere.pool)
    third = Elsewhere(make)
    before = snapshot()
    with _acting(cast.caseworker), pytest.raises(InvalidMove) as refusal:
        transfers.start_transfer(cast.caseworker, placement, third.pool, "routine", "")
    db.session.rollback()
    assert "already under way" in refusal.value.message
    assert snapshot() == before


@pytest.mark.parametrize("kind", ["pool staff", "regional guardian", "caseworker of another org", "oversight"])
def test_only_the_referring_organizations_caseworkers_transfer_a_child(cast, elsewhere, kind):
    placement = cast.referral("placed")
    with _acting(cast[kind]), pytest.raises(NotAllowed):
        transfers.start_transfer(cast[kind], placement, elsewhere.pool, "routine", "")
    db.session.rollback()
    assert transfers.live_transfer(placement) is None
    # A colleague covering the night may.
    assert start(cast, placement, elsewhere.pool, user=cast["colleague caseworker"]).status == "submitted"


def test_a_transfer_to_the_pool_the_child_is_in_is_refused(cast):
    placement = cast.referral("placed")
    with _acting(cast.caseworker), pytest.raises(InvalidFields):
        transfers.start_transfer(cast.caseworker, placement, cast.pool, "routine", "")
    db.session.rollback()
    assert count(Referral) == 1


def test_a_transfer_to_a_full_pool_is_refused_and_nothing_is_kept(cast, make):
    placement = cast.referral("placed")
    full = Elsewhere(make, capacity=1)
    full.pool.occupied = 1
    db.session.commit()
    before = snapshot()
    with _acting(cast.caseworker), pytest.raises(NoBedAvailable):
        transfers.start_transfer(cast.caseworker, placement, full.pool, "routine", "")
    db.session.rollback()
    assert snapshot() == before


def test_a_discharge_withdraws_the_transfer_in_progress_and_frees_its_held_bed(cast, elsewhere):
    placement = cast.referral("placed")
    transfer = elsewhere.take(start(cast, placement, elsewhere.pool), "accept", "approve")
    assert pool_counts(elsewhere.pool)[0] == 1  # the transfer holds a bed there

    move_as(placement, "discharge", cast["pool staff"], reason_code="family_reunification",
            reason_text="Her mother came for her.")

    db.session.refresh(transfer)
    assert (transfer.status, transfer.holds_bed, transfer.hold_until) == ("withdrawn", False, None)
    assert pool_counts(elsewhere.pool)[0] == 0 and pool_counts(cast.pool)[1] == 0  # no bed held, none occupied
    assert notified(transfer, "referral.transfer_cancelled") == {elsewhere.staff.id, cast.caseworker.id}
    [step] = [e for e in transfer.events if e.to_status == "withdrawn"]
    assert (step.from_status, step.user_id) == ("approved", None)  # the system's, as a consequence
    assert services.integrity_problems() == []
    with _acting(elsewhere.staff), pytest.raises(InvalidMove):  # nothing left to arrive
        services.move(transfer, "place", elsewhere.staff)
    db.session.rollback()


def test_the_database_keeps_a_child_to_one_placement_and_one_hold_beside_it(cast, elsewhere, make):
    """Even a writer that skips the rules (a bug, a script) cannot give the child a second
    bed: the partial unique indexes refuse it."""
    placement = cast.referral("placed")
    transfer = start(cast, placement, elsewhere.pool)
    values = {"child_id": placement.child_id, "referring_organization_id": cast.referring_org.id,
              "caseworker_id": cast.caseworker.id, "pool_id": Elsewhere(make).pool.id}
    for status, transfer_of_id in (("submitted", None), ("submitted", placement.id), ("placed", transfer.id),
                                   ("placed", None)):
        db.session.add(Referral(status=status, transfer_of_id=transfer_of_id, **values))
        with pytest.raises(IntegrityError):
            db.session.flush()
        db.session.rollback()


# --- the pages ----------------------------------------------------------------------------------

def test_the_caseworker_starts_a_transfer_from_the_placed_childs_pages(cast, elsewhere, login_as):
    placement = cast.referral("placed")
    caseworker = login_as(cast.caseworker)
    child_page = caseworker.get(f"/children/{placement.child_id}").get_data(as_text=True)
    assert f'/referrals/{placement.id}#transfer' in child_page
    page = caseworker.get(f"/referrals/{placement.id}").get_data(as_text=True)
    section = page[page.index('id="transfer"'):]
    offered = set(map(int, re.findall(r'name="pool" value="(\d+)"', section)))
    assert elsewhere.pool.id in offered and cast.pool.id not in offered

    response = caseworker.post(f"/referrals/{placement.id}/transfer",
                               {"pool": elsewhere.pool.id, "urgency": "urgent", "note": "Nearer school"})
    assert response.status_code == 303
    transfer = transfers.live_transfer(placement)
    assert response.headers["Location"].endswith(f"/referrals/{transfer.id}")
    assert (transfer.urgency, transfer.note, transfer.pool_id) == ("urgent", "Nearer school", elsewhere.pool.id)
    new_page = caseworker.get(f"/referrals/{transfer.id}").get_data(as_text=True)
    assert "This referral transfers the child from" in new_page
    old_page = caseworker.get(f"/referrals/{placement.id}").get_data(as_text=True)
    assert "Transfer to " in old_page and "move-transfer" not in old_page  # one at a time


def test_a_refused_transfer_says_why_on_the_page_and_keeps_nothing(cast, elsewhere, login_as):
    placement = cast.referral("placed")
    caseworker = login_as(cast.caseworker)
    response = caseworker.post(f"/referrals/{placement.id}/transfer", {"pool": cast.pool.id})
    assert response.status_code == 422
    assert "Choose a pool other than the one the child is in." in response.get_data(as_text=True)
    response = caseworker.post(f"/referrals/{placement.id}/transfer", {"pool": "2147483647"})
    assert response.status_code == 422
    assert count(Referral) == 1


def test_another_organizations_caseworker_cannot_even_see_the_placement_to_transfer(cast, elsewhere, login_as):
    placement = cast.referral("placed")
    stranger = login_as(cast["caseworker of another org"])
    assert stranger.post(f"/referrals/{placement.id}/transfer", {"pool": elsewhere.pool.id}).status_code == 404
    assert count(Referral) == 1


def test_the_new_shelter_sees_no_link_to_the_placement_it_may_not_see(cast, elsewhere, login_as):
    placement = cast.referral("placed")
    transfer = start(cast, placement, elsewhere.pool)
    page = login_as(elsewhere.staff).get(f"/referrals/{transfer.id}").get_data(as_text=True)
    assert f"/referrals/{placement.id}" not in page
    assert "transfers the child from another shelter" in page


def test_the_audit_trail_tells_the_transfer_and_the_alarm_in_words(cast, elsewhere, login_as):
    placement = cast.referral("placed")
    transfer = start(cast, placement, elsewhere.pool)
    move_as(transfer, "withdraw", cast.caseworker, reason_text="She stays.")
    move_as(placement, "discharge", cast["pool staff"], reason_code="missing", reason_text="Gone.")
    monitor = login_as("oversight")
    case = placement.child.case_reference
    started = re.sub(r"<[^>]+>", "", monitor.get("/audit?action=referral.transfer").get_data(as_text=True))
    assert f"started a transfer of {case} to another shelter" in started
    assert f"{cast.pool.label} at {cast.shelter.name} to {elsewhere.pool.label} at {elsewhere.shelter.name}" in started
    alarm = re.sub(r"<[^>]+>", "", monitor.get("/audit?action=referral.missing").get_data(as_text=True))
    assert f"raised the alarm that {case} left without notice" in alarm
    assert placement.child.family_name not in started + alarm


def test_the_printed_record_says_how_each_stay_ended(cast, login_as):
    placement = cast.referral("placed")
    move_as(placement, "discharge", cast["pool staff"], reason_code="other_guardian", reason_text="Her aunt.")
    page = login_as(cast.caseworker).get(f"/children/{placement.child_id}/print").get_data(as_text=True)
    assert "Another guardian" in page
