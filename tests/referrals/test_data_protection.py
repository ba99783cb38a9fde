"""Anonymizing old cases, and a child's record on paper."""
from datetime import date, datetime, timezone

import pytest
from sqlalchemy import select

from coordination import clock
from coordination.audit.models import AuditEvent
from coordination.errors import InvalidInput
from coordination.extensions import db
from coordination.referrals.models import Child, ReferralEvent
from coordination.referrals.services import move

from ..conftest import _acting


def anonymize(app, date: str):
    return app.test_cli_runner().invoke(args=["anonymize", "--ended-before", date])


def test_anonymize_removes_names_birth_dates_and_free_text_of_ended_cases_only(app, make):
    clock.freeze(datetime(2026, 3, 1, 12, tzinfo=timezone.utc))
    old = make.child(given_name="Ayşə", family_name="Məmmədova", birth_date=datetime(2012, 5, 4).date(),
                     estimated_age=None, nationality="Azerbaijani", needs=["medical"])
    ended = make.referral(child=old, status="declined")  # reason text "test reason"
    live_child = make.child(given_name="Зарина", family_name="Иванова")
    make.referral(child=live_child, status="placed")
    clock.freeze(datetime(2026, 6, 1, tzinfo=timezone.utc))

    result = anonymize(app, "2026-05-01")
    assert result.exit_code == 0, result.output
    assert "Anonymized 1 child record" in result.output and old.case_reference in result.output

    db.session.expire_all()
    old = db.session.get(Child, old.id)
    assert (old.given_name, old.family_name, old.birth_date, old.consent_given_by) == ("", "", None, "")
    assert old.estimated_age == 13  # the age at registration stays for the reports
    assert (old.sex, old.nationality, old.needs, old.region_id) == ("female", "Azerbaijani", ["medical"], old.region_id)
    assert old.anonymized_at is not None
    texts = db.session.scalars(select(ReferralEvent.reason_text).where(ReferralEvent.referral_id == ended.id))
    assert set(texts) == {""}
    statuses = db.session.scalars(select(ReferralEvent.to_status).where(ReferralEvent.referral_id == ended.id))
    assert list(statuses) == ["draft", "submitted", "declined"]  # the timeline's steps stay

    assert db.session.get(Child, live_child.id).given_name == "Зарина"
    assert {"child.anonymize", "anonymize.run"} <= set(db.session.scalars(select(AuditEvent.action)))
    assert app.test_cli_runner().invoke(args=["verify-audit"]).exit_code == 0


def test_a_case_that_ended_after_the_date_is_kept(app, make):
    clock.freeze(datetime(2026, 3, 1, tzinfo=timezone.utc))
    child = make.child(given_name="Mariam")
    referral = make.referral(child=child, status="submitted")
    clock.freeze(datetime(2026, 3, 2, 12, tzinfo=timezone.utc))
    with _acting(referral.caseworker):
        from coordination.referrals.services import move
        move(referral, "withdraw", referral.caseworker, reason_text="found family")
    db.session.commit()
    result = anonymize(app, "2026-03-02")
    assert "Anonymized 0 child record" in result.output
    assert db.session.get(Child, child.id).given_name == "Mariam"


def test_anonymize_refuses_a_malformed_date(app):
    result = anonymize(app, "last year")
    assert result.exit_code != 0 and "does not match the format" in result.output


def test_caseworker_prints_a_childs_record_with_its_history(app, make, login_as):
    referral = make.referral(status="placed")
    child = referral.child
    caseworker = login_as(referral.caseworker)
    response = caseworker.get(f"/children/{child.id}/print")
    body = response.get_data(as_text=True)
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"
    assert child.full_name in body and child.case_reference in body
    # Each step as the referral's page tells it, with who took it.
    for step in ("Submitted by", "Accepted for the shelter by", "Placement approved by", "Arrival recorded by"):
        assert step in body
    assert f"{referral.caseworker.name} ({referral.caseworker.organization.name})" in body
    assert "<nav" not in body and "<form" not in body  # clean for paper
    views = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "child.view")).all()
    assert any(v.details.get("page") == "print" for v in views)


def test_the_printed_record_tells_an_emergency_approval_as_an_approval_not_an_arrival(app, make, login_as):
    referral = make.referral(status="emergency_placed", urgency="emergency")
    guardian = make.actor_for("approve_emergency", referral)
    with _acting(guardian):
        move(referral, "approve_emergency", guardian)
    db.session.commit()

    body = login_as(referral.caseworker).get(f"/children/{referral.child_id}/print").get_data(as_text=True)

    assert "Taken in at once, before the guardianship decision, by" in body
    assert f"Emergency placement approved by {guardian.name} ({guardian.organization.name})" in body
    assert "Arrival recorded by" not in body  # the child arrived once, when taken in


def test_nobody_else_can_print_the_record(app, make, login_as):
    referral = make.referral(status="accepted")
    outsiders = [login_as("caseworker"), login_as("shelter_staff", organization=referral.pool.shelter.organization),
                 login_as("oversight"), login_as("admin")]
    for person in outsiders:
        assert person.get(f"/children/{referral.child_id}/print").status_code == 404


def test_implausible_dates_are_refused_when_registering(app, make):
    clock.freeze(datetime(2026, 3, 1, 12, tzinfo=timezone.utc))
    with pytest.raises(InvalidInput, match="under 18"):
        make.child(birth_date=date(1, 1, 1), estimated_age=None)
    with pytest.raises(InvalidInput, match="in the future"):
        make.child(consent_given_at=datetime(9999, 1, 1, tzinfo=timezone.utc))
    db.session.rollback()
    assert db.session.scalars(select(Child)).all() == []
