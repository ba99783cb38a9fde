"""A referral page follows what others do while it waits on them."""
from sqlalchemy import func, select

from coordination.audit.models import AuditEvent
from coordination.extensions import db
from coordination.referrals import services

from ..conftest import _acting


def name_views(child_id: int) -> int:
    return db.session.scalar(select(func.count(AuditEvent.id)).where(
        AuditEvent.action == "child.view", AuditEvent.object_id == str(child_id)))


def test_the_panel_polls_while_the_referral_waits_on_somebody_else(make, login_as):
    referral = make.referral(status="accepted")
    staff = login_as("shelter_staff", organization=referral.pool.shelter.organization)
    panel = staff.get(f"/referrals/{referral.id}", htmx=True)
    body = panel.get_data(as_text=True)
    assert 'hx-trigger="every 30s"' in body and "Record arrival" not in body

    guardian = make.actor_for("approve", referral)
    with _acting(guardian):
        services.move(referral, "approve", guardian)
    db.session.commit()

    news = staff.get(f"/referrals/{referral.id}", htmx=True, headers={"X-Poll": "1"}).get_data(as_text=True)
    assert 'data-status="approved"' in news and "Record arrival" in news
    assert 'hx-trigger="every 30s"' not in news  # now it is their turn: nothing they type is replaced


def test_a_finished_referral_does_not_poll(make, login_as):
    referral = make.referral(status="declined")
    caseworker = login_as(referral.caseworker)
    assert "every 30s" not in caseworker.get(f"/referrals/{referral.id}", htmx=True).get_data(as_text=True)


def test_the_panel_alone_records_no_name_view_but_the_page_does(make, login_as):
    referral = make.referral(status="accepted")
    staff = login_as("shelter_staff", organization=referral.pool.shelter.organization)
    before = name_views(referral.child_id)
    staff.get(f"/referrals/{referral.id}", htmx=True)
    assert name_views(referral.child_id) == before
    staff.get(f"/referrals/{referral.id}")
    assert name_views(referral.child_id) == before + 1
