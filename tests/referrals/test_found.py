"""Where and when a child was found, how long from there to a referral and to a bed, and the
alert for a child found at a police station or a detention centre who still has no referral
six hours later: once, to the registering organization's caseworkers and oversight, naming
the case reference and never the child."""
from datetime import date, timedelta

import pytest
from sqlalchemy import select

from coordination import clock
from coordination.audit.models import AuditEvent
from coordination.errors import InvalidFields
from coordination.extensions import db
from coordination.notifications.models import Notification, OutgoingMail
from coordination.notifications.sending import compose
from coordination.notifications.services import text_of
from coordination.referrals import found, services
from coordination.referrals.models import Child

from ..at_once import on_servers_at_once
from ..conftest import _acting
from .pages import body
from .referral_cast import T0, count, person

SIX_HOURS = timedelta(hours=6)  # UNPLACED_ALERT_HOURS's default


@pytest.fixture
def frozen():
    clock.freeze(T0)


def found_child(make, place="police_station", found_at=T0, **values):
    clock.freeze(found_at + timedelta(minutes=30))  # registered half an hour after being found
    child = make.child(found_place=place, found_at=found_at, given_name="Leyla", family_name="Secretname",
                       **values)
    return child


def alert_at(moment):
    clock.freeze(moment)
    alerted = found.alert_unplaced_children()
    db.session.commit()
    return [child.id for child in alerted]


# --- the journey ----------------------------------------------------------------------------

def test_the_journey_counts_from_being_found_to_the_first_referral_and_the_first_bed(make, frozen):
    child = found_child(make, found_at=T0 - timedelta(hours=3))
    clock.freeze(T0)
    make.referral(child=child, status="declined")  # the first referral, at T0: declined
    clock.freeze(T0 + timedelta(hours=1, minutes=30))
    make.referral(child=child, status="placed")  # the second reaches a bed 4 h 30 min after being found

    clock.freeze(T0 + timedelta(days=2))
    journey = found.journey(child)

    assert journey.to_referral == timedelta(hours=3)
    assert journey.to_bed == timedelta(hours=4, minutes=30)
    assert journey.waiting is None


def test_a_child_with_no_bed_yet_has_waited_since_being_found(make, frozen):
    child = found_child(make, found_at=T0 - timedelta(hours=5))
    clock.freeze(T0)
    make.referral(child=child, status="submitted")

    journey = found.journey(child, at=T0 + timedelta(hours=2))

    assert journey.to_referral == timedelta(hours=5)
    assert journey.to_bed is None
    assert journey.waiting == timedelta(hours=7)


def test_a_child_found_at_an_unrecorded_time_has_no_durations(make, frozen):
    child = make.child()
    child.found_place, child.found_at, child.found_region_id = "not_recorded", None, None
    db.session.commit()

    journey = found.journey(child)

    assert (journey.to_referral, journey.to_bed, journey.waiting) == (None, None, None)


def test_the_childs_page_and_printed_record_say_where_when_and_how_long(make, login_as, frozen):
    child = found_child(make, found_at=T0 - timedelta(hours=5))
    clock.freeze(T0 + timedelta(hours=2))
    caseworker = login_as(child.registered_by)

    for url in (f"/children/{child.id}", f"/children/{child.id}/print"):
        page = body(caseworker.get(url))
        assert "Police station" in page
        assert child.found_region.local_name in page
        assert "still waiting for a bed: 7 h 00 min" in page


# --- registering and correcting -------------------------------------------------------------

def register(make, **found_values):
    caseworker = make.user("caseworker")
    values = dict(given_name="Leyla", family_name="", sex="female", birth_date=date(2014, 5, 1), estimated_age=None,
                  nationality="", languages=[], needs=[], region_id=caseworker.organization.region_id,
                  consent_given_by="", consent_given_at=None, child_assent=False, found_place="airport",
                  found_region_id=caseworker.organization.region_id, found_at=T0 - timedelta(hours=1))
    values.update(found_values)
    with _acting(caseworker):
        return services.register_child(caseworker, **values)


@pytest.mark.parametrize("found_values, field, message", [
    ({"found_place": "not_recorded"}, "found_place", "Choose where the child was found, from the list offered."),
    ({"found_place": "on the moon"}, "found_place", "Choose where the child was found, from the list offered."),
    ({"found_at": None}, "found_at", "Give the date and time the child was found."),
    ({"found_at": T0 + timedelta(hours=1)}, "found_at", "The child cannot have been found in the future."),
    ({"found_at": T0.replace(year=2013)}, "found_at",
     "The child cannot have been found before being born; check the date."),
    ({"found_region_id": None}, "found_region", "Choose the region where the child was found."),
])
def test_registering_refuses_an_unknown_place_time_or_region(make, frozen, found_values, field, message):
    with pytest.raises(InvalidFields) as refused:
        register(make, **found_values)

    assert refused.value.problems == {field: message}
    db.session.rollback()
    assert count(Child) == 0


def test_the_registration_form_asks_where_and_when_without_offering_not_recorded(make, login_as, frozen):
    caseworker = login_as("caseworker")

    page = body(caseworker.get("/children/new"))

    assert 'name="found_place"' in page and 'name="found_region"' in page and 'name="found_at"' in page
    assert "Detention centre for illegal migrants" in page
    assert 'value="not_recorded"' not in page


def test_a_correction_of_where_and_when_is_audited_by_field_without_values(make, frozen):
    child = found_child(make)
    other_region = make.region()

    with _acting(child.registered_by):
        changed = services.correct_child(
            child, child.registered_by, given_name=child.given_name, family_name=child.family_name, sex=child.sex,
            birth_date=child.birth_date, estimated_age=child.estimated_age, nationality=child.nationality,
            languages=child.languages, needs=child.needs, region_id=child.region_id, found_place="migrant_detention",
            found_region_id=other_region.id, found_at=T0 - timedelta(hours=2))
    db.session.commit()

    assert changed == ["found_place", "found_region", "found_at"]
    event = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "child.update")).one()
    assert event.details == {"case_reference": child.case_reference,
                             "fields": ["found_place", "found_region", "found_at"]}


# --- the alert -------------------------------------------------------------------------------

def test_the_alert_goes_out_at_six_hours_not_before_and_only_once(make, frozen):
    child = found_child(make)

    assert alert_at(T0 + SIX_HOURS - timedelta(minutes=1)) == []
    assert alert_at(T0 + SIX_HOURS) == [child.id]
    assert alert_at(T0 + SIX_HOURS + timedelta(hours=5)) == []

    assert count(AuditEvent, AuditEvent.action == "child.unplaced_alert") == 1
    assert db.session.get(Child, child.id).unplaced_alert_at == T0 + SIX_HOURS


def test_no_alert_for_a_child_with_a_live_referral_or_found_elsewhere(make, frozen):
    referred = found_child(make, place="migrant_detention")
    clock.freeze(T0 + timedelta(hours=1))
    make.referral(child=referred, status="submitted")
    found_child(make, place="border_crossing")
    found_child(make, place="airport")
    declined_only = found_child(make, place="migrant_detention")
    clock.freeze(T0 + timedelta(hours=1))
    make.referral(child=declined_only, status="declined")  # no longer live: the child still waits
    placed_and_gone = found_child(make, place="police_station")
    stay = make.referral(child=placed_and_gone, status="discharged")  # reached a bed: waits no more
    stay.arrived_at = T0 + timedelta(hours=2)
    db.session.commit()

    assert alert_at(T0 + SIX_HOURS) == [declined_only.id]


def test_the_alert_tells_the_organizations_caseworkers_and_oversight_by_reference_never_by_name(make, frozen):
    child = found_child(make)
    organization = child.organization
    colleague = person("caseworker", organization)
    away = person("caseworker", organization, active=False)
    stranger = person("caseworker", make.organization())
    monitor = person("oversight", make.organization(kind="state"))
    shelter_staff = person("shelter_staff", organization)

    alert_at(T0 + SIX_HOURS)

    notices = db.session.scalars(select(Notification).where(Notification.text_key == "found.unplaced")).all()
    told = {n.user_id for n in notices}
    assert told == {child.registered_by_id, colleague.id, monitor.id}
    assert not told & {away.id, stranger.id, shelter_staff.id}
    for notice in notices:
        text = text_of(notice)
        assert text == f"{child.case_reference} was found 6 h ago (Police station) and still has no live referral: " \
                       "find the child a bed."
        assert "Leyla" not in text and "Secretname" not in text
        assert notice.referral_id is None
    oversight_copy = next(n for n in notices if n.user_id == monitor.id)
    assert "child_id" not in oversight_copy.params  # oversight's copy leads to no child's page
    letters = [compose(row) for row in db.session.scalars(select(OutgoingMail))]
    assert {letter.to for letter in letters} == {child.registered_by.email, colleague.email, monitor.email}
    for letter in letters:
        assert child.case_reference in letter.subject
        assert "Leyla" not in letter.subject + letter.body and "Secretname" not in letter.subject + letter.body
        assert f"/children/{child.id}" not in letter.body


def test_oversight_sees_the_alert_without_a_link_to_the_child(make, login_as, frozen):
    child = found_child(make)
    monitor = person("oversight", make.organization(kind="state"))
    alert_at(T0 + SIX_HOURS)

    page = body(login_as(monitor).get("/notifications"))
    caseworker_page = body(login_as(child.registered_by).get("/notifications"))

    assert child.case_reference in page
    assert f"/children/{child.id}" not in page
    assert f'href="/children/{child.id}"' in caseworker_page


def test_the_periodic_command_alerts_and_says_so(make, app, frozen):
    child = found_child(make)
    clock.freeze(T0 + SIX_HOURS)

    result = app.test_cli_runner().invoke(args=["periodic"])

    assert result.exit_code == 0, result.output
    assert f"{child.case_reference} (police_station), found 6 h ago" in result.output
    assert count(Notification, Notification.text_key == "found.unplaced") == 1


def test_two_servers_alerting_at_once_alert_each_child_once(make, app, frozen):
    children = [found_child(make) for _ in range(4)]
    person("oversight", make.organization(kind="state"))
    clock.freeze(T0 + SIX_HOURS)
    db.session.commit()  # the test's session holds no lock while the servers run
    alerted = on_servers_at_once(app, lambda: [child.id for child in found.alert_unplaced_children()])

    assert sorted(alerted[0] + alerted[1]) == sorted(child.id for child in children)
    assert count(AuditEvent, AuditEvent.action == "child.unplaced_alert") == 4
    assert count(Notification, Notification.text_key == "found.unplaced") == 4 * 2  # its caseworker, oversight
