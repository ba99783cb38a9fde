"""The other steps that need someone to act go by e-mail too: a child gone missing from a
shelter, and a referral nobody answered climbing the escalation ladder (oversight's mail links
to its list of escalated referrals, the only page of a referral it may read). Sent to a real
SMTP server on loopback, and never naming the child."""
from datetime import timedelta

from coordination import clock
from coordination.escalations import services as escalations
from coordination.extensions import db
from coordination.notifications import sending

from ..referrals.referral_cast import T0, Cast, move_as
from .conftest import PUBLIC_URL

GIVEN, FAMILY = "Nərmin", "Quliyeva"
URGENT = timedelta(hours=4)  # ESCALATE_URGENT_HOURS's default; the cast's referrals are urgent


def names_no_child(received) -> bool:
    return all(GIVEN not in part and FAMILY not in part
               for part in (received.subject, received.text, received.raw.decode("utf-8", "replace")))


def test_a_child_discharged_as_missing_is_mailed_to_the_caseworker_and_the_regions_guardianship(make, smtp):
    clock.freeze(T0)
    cast = Cast(make)
    guardian, staff = cast["regional guardian"], cast["pool staff"]
    placement = cast.referral("placed", child=cast.child(given_name=GIVEN, family_name=FAMILY))
    sending.send_pending_mail()
    smtp.messages.clear()

    move_as(placement, "discharge", staff, reason_code="missing", reason_text="Not back by 18:00.")
    sending.send_pending_mail()

    assert sorted(m.envelope_to[0] for m in smtp.messages) == sorted([cast.caseworker.email, guardian.email])
    for received in smtp.messages:
        assert placement.child.case_reference in received.subject and names_no_child(received)
        assert f"{PUBLIC_URL}/referrals/{placement.id}" in received.text


def test_an_escalation_to_oversight_is_mailed_with_a_link_to_the_list_of_escalated_referrals(make, smtp):
    clock.freeze(T0)
    cast = Cast(make)
    cast.urgency = "urgent"
    monitor, staff = cast["oversight"], cast["pool staff"]
    referral = cast.referral("submitted", child=cast.child(given_name=GIVEN, family_name=FAMILY))
    sending.send_pending_mail()
    smtp.messages.clear()

    for level in (1, 2, 3):
        clock.freeze(T0 + level * URGENT)
        escalations.escalate_waiting_referrals()
        db.session.commit()
    sending.send_pending_mail()

    [to_oversight] = [m for m in smtp.messages if m.envelope_to[0] == monitor.email]
    assert referral.child.case_reference in to_oversight.subject and names_no_child(to_oversight)
    assert f"{PUBLIC_URL}/escalations" in to_oversight.text
    assert f"/referrals/{referral.id}" not in to_oversight.text
    to_staff = [m for m in smtp.messages if m.envelope_to[0] == staff.email]
    assert len(to_staff) == 1 and f"{PUBLIC_URL}/referrals/{referral.id}" in to_staff[0].text  # the reminder
