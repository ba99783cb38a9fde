"""Regions and organizations: created and edited by admins, each change in the audit trail;
duplicates refused with a message and nothing changed; organizations deactivated, never
deleted, and their people signed out at once."""
from sqlalchemy import select

from coordination.accounts.models import Organization, Region, User
from coordination.audit.models import AuditEvent
from coordination.extensions import db
from coordination.referrals.models import Referral

from ..conftest import Client
from .pages import audit_actions, count, messages, redirected_to, text


# --- regions ---------------------------------------------------------------------------------

def test_an_admin_creates_a_region_and_the_audit_trail_records_it(admin):
    response = admin.post("/admin/regions/new", {"code": "NAX", "name": "Nakhchivan"})
    assert redirected_to(response) == "/admin/regions"
    region = db.session.scalar(select(Region).where(Region.code == "NAX"))
    assert region.name == "Nakhchivan"
    assert audit_actions("region", region.id) == ["region.create"]
    assert "Region Nakhchivan created." in text(admin.get("/admin/regions"))


def test_an_admin_edits_a_regions_code_and_name(admin, make):
    region = make.region(name="Old name")
    response = admin.post(f"/admin/regions/{region.id}", {"code": "NEW", "name": "New name"})
    assert redirected_to(response) == "/admin/regions"
    db.session.refresh(region)
    assert (region.code, region.name) == ("NEW", "New name")
    assert audit_actions("region", region.id) == ["region.update"]
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "region.update"))
    assert event.details["changes"]["name"] == ["Old name", "New name"]


def test_a_duplicate_region_code_or_name_is_refused_whatever_its_case_and_nothing_changes(admin, make):
    baku = make.region(name="Baku")
    baku.code = "BAK"
    other = make.region(name="Ganja")
    other.code = "GAN"
    db.session.commit()
    before = (count(Region), count(AuditEvent))
    for data, message in (({"code": "bak", "name": "Elsewhere"}, "There is already a region with the code bak."),
                          ({"code": "ZZ", "name": "BAKU"}, "There is already a region called BAKU.")):
        response = admin.post("/admin/regions/new", data)
        assert response.status_code == 409
        assert message in messages(response)
        response = admin.post(f"/admin/regions/{other.id}", data)
        assert response.status_code == 409
        assert message in messages(response)
    assert (count(Region), count(AuditEvent)) == before
    db.session.refresh(other)
    assert (other.code, other.name) == ("GAN", "Ganja")


# --- organizations ---------------------------------------------------------------------------

def test_an_admin_creates_an_active_organization_and_it_is_audited(admin, make):
    region = make.region()
    response = admin.post("/admin/organizations/new",
                          {"name": "Caspian Children's Aid", "kind": "ngo", "region": str(region.id)})
    assert redirected_to(response) == "/admin/organizations"
    organization = db.session.scalar(select(Organization).where(Organization.name == "Caspian Children's Aid"))
    assert (organization.kind, organization.region_id, organization.active) == ("ngo", region.id, True)
    assert audit_actions("organization", organization.id) == ["organization.create"]


def test_an_admin_edits_an_organizations_name_kind_and_region(admin, make):
    organization = make.organization(kind="ngo")
    region = make.region()
    response = admin.post(f"/admin/organizations/{organization.id}",
                          {"name": "Renamed", "kind": "international", "region": str(region.id)})
    assert redirected_to(response) == f"/admin/organizations/{organization.id}"
    db.session.refresh(organization)
    assert (organization.name, organization.kind, organization.region_id) == ("Renamed", "international", region.id)
    assert audit_actions("organization", organization.id) == ["organization.update"]


def test_a_duplicate_organization_name_is_refused_whatever_its_case_and_nothing_changes(admin, make):
    make.organization(name="Safe Haven")
    other = make.organization(name="Other")
    before = (count(Organization), count(AuditEvent))
    data = {"name": "SAFE HAVEN", "kind": "ngo", "region": str(other.region_id)}
    for url in ("/admin/organizations/new", f"/admin/organizations/{other.id}"):
        response = admin.post(url, data)
        assert response.status_code == 409
        assert "There is already an organization called Safe Haven." in messages(response)
    assert (count(Organization), count(AuditEvent)) == before
    db.session.refresh(other)
    assert other.name == "Other"


def test_deactivating_an_organization_signs_its_people_out_at_once_and_deletes_nothing(app, admin, make):
    pool = make.pool()
    referral = make.referral(pool=pool, status="submitted")
    organization = referral.caseworker.organization
    caseworker = Client(app)
    assert redirected_to(caseworker.login(referral.caseworker.email)) == "/"
    assert caseworker.get("/referrals").status_code == 200
    people = count(User)

    response = admin.post(f"/admin/organizations/{organization.id}/deactivate")
    assert redirected_to(response) == f"/admin/organizations/{organization.id}"

    assert redirected_to(caseworker.get("/referrals")).startswith("/login")
    assert Client(app).login(referral.caseworker.email).status_code == 422
    db.session.expire_all()
    assert db.session.get(Organization, organization.id).active is False
    assert count(User) == people
    assert db.session.get(Referral, referral.id).referring_organization_id == organization.id
    assert db.session.get(Referral, referral.id).caseworker_id == referral.caseworker.id
    assert audit_actions("organization", organization.id) == ["organization.deactivate"]
    assert "deactivated" in text(admin.get("/admin/organizations"))


def test_a_reactivated_organizations_people_sign_in_again_but_old_sessions_stay_ended(app, admin, make):
    person = make.user("caseworker")
    old_session = Client(app)
    old_session.login(person.email)
    admin.post(f"/admin/organizations/{person.organization_id}/deactivate")
    response = admin.post(f"/admin/organizations/{person.organization_id}/reactivate")
    assert redirected_to(response) == f"/admin/organizations/{person.organization_id}"
    assert redirected_to(old_session.get("/beds")).startswith("/login")
    assert redirected_to(Client(app).login(person.email)) == "/"
    assert audit_actions("organization", person.organization_id) == [
        "organization.deactivate", "organization.reactivate"]


def test_an_admin_cannot_deactivate_their_own_organization(admin):
    organization_id = admin.user.organization_id
    response = admin.post(f"/admin/organizations/{organization_id}/deactivate")
    assert response.status_code == 403
    assert any("You cannot deactivate your own organization" in m for m in messages(response))
    db.session.expire_all()
    assert db.session.get(Organization, organization_id).active is True
    assert admin.get("/admin/").status_code == 200
