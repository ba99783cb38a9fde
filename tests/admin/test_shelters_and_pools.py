"""Shelters and their bed pools: created and edited by admins, each change audited; a pool's
capacity never drops below the beds in use, even against a hold taken at the same moment."""
import threading

import pytest
from sqlalchemy import select

from coordination.accounts.models import User
from coordination.admin import services
from coordination.audit.models import AuditEvent
from coordination.beds import services as beds
from coordination.beds.models import BedPool, BedUpdate, Shelter
from coordination.errors import Conflict, InvalidInput
from coordination.extensions import db

from ..conftest import _acting
from .pages import audit_actions, count, messages, redirected_to, text

POOL = {"label": "Girls 12–17", "admits_sex": "female", "min_age": "12", "max_age": "17", "capacity": "8"}


def shelter_form(organization, region, **changes) -> dict:
    data = {"organization": str(organization.id), "region": str(region.id), "name": "Safe Haven House",
            "address": "12 Sharifzade St", "phone": "+994 12 555 0101", "status": "open",
            "languages": ["az", "ru"], "services": ["psychosocial", "trafficking"],
            "accessibility": "Step-free entrance"}
    data.update(changes)
    return data


def pool_state(pool: BedPool) -> tuple:
    db.session.expire_all()
    row = db.session.get(BedPool, pool.id)
    return (row.label, row.admits_sex, row.min_age, row.max_age, row.capacity, row.occupied,
            row.out_of_service, row.held, row.version)


# --- shelters --------------------------------------------------------------------------------

def test_an_admin_creates_a_shelter_with_everything_known_about_it(admin, make):
    organization = make.organization()
    response = admin.post("/admin/shelters/new", shelter_form(organization, organization.region))
    shelter = db.session.scalar(select(Shelter).where(Shelter.name == "Safe Haven House"))
    assert redirected_to(response) == f"/admin/shelters/{shelter.id}"
    assert (shelter.organization_id, shelter.region_id, shelter.status) == (organization.id, organization.region_id, "open")
    assert shelter.languages == ["az", "ru"]
    assert shelter.services == ["psychosocial", "trafficking"]
    assert (shelter.address, shelter.phone, shelter.accessibility) == (
        "12 Sharifzade St", "+994 12 555 0101", "Step-free entrance")
    assert audit_actions("shelter", shelter.id) == ["shelter.create"]


def test_an_admin_edits_a_shelter_and_the_audit_trail_never_repeats_its_address(admin, make):
    shelter = make.shelter()
    operator, region = make.organization(), make.region()
    response = admin.post(f"/admin/shelters/{shelter.id}", shelter_form(
        operator, region, name="Renamed", address="Secret Lane 7", status="suspended", services=["medical"]))
    assert redirected_to(response) == f"/admin/shelters/{shelter.id}"
    db.session.refresh(shelter)
    assert (shelter.name, shelter.organization_id, shelter.region_id, shelter.status, shelter.services) == (
        "Renamed", operator.id, region.id, "suspended", ["medical"])
    assert shelter.address == "Secret Lane 7"
    assert audit_actions("shelter", shelter.id) == ["shelter.update"]
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "shelter.update"))
    assert event.details["changes"]["address"] == "changed"
    assert "Secret Lane" not in str(event.details)


def test_closing_a_shelter_keeps_it_and_its_pools_but_takes_it_off_the_bed_board(admin, make):
    pool = make.pool()
    shelter = pool.shelter
    assert f"/shelters/{shelter.id}" in admin.get("/beds?region=").get_data(as_text=True)
    response = admin.post(f"/admin/shelters/{shelter.id}", shelter_form(
        shelter.organization, shelter.region, name=shelter.name, status="closed"))
    redirected_to(response)
    assert f"/shelters/{shelter.id}\"" not in admin.get("/beds?region=").get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(Shelter, shelter.id).status == "closed"
    assert db.session.get(BedPool, pool.id) is not None


def test_a_shelter_with_the_same_name_at_the_same_organization_is_refused(admin, make):
    existing = make.shelter(name="Safe Haven House")
    before = (count(Shelter), count(AuditEvent))
    response = admin.post("/admin/shelters/new",
                          shelter_form(existing.organization, existing.region, name="safe haven house"))
    assert response.status_code == 409
    assert "This organization already runs a shelter called safe haven house." in messages(response)
    assert (count(Shelter), count(AuditEvent)) == before


def test_a_shelter_cannot_be_given_to_a_deactivated_organization(admin, make):
    shelter = make.shelter()
    gone = make.organization(name="Closed NGO")
    gone.active = False
    db.session.commit()
    response = admin.post(f"/admin/shelters/{shelter.id}", shelter_form(gone, shelter.region, name=shelter.name))
    assert response.status_code == 422
    assert any("Closed NGO is deactivated" in m for m in messages(response))
    db.session.refresh(shelter)
    assert shelter.organization_id != gone.id


# --- pools -----------------------------------------------------------------------------------

def test_an_admin_adds_a_pool_of_empty_beds_and_its_history_starts(admin, make):
    shelter = make.shelter()
    response = admin.post(f"/admin/shelters/{shelter.id}/pools", POOL)
    assert redirected_to(response) == f"/admin/shelters/{shelter.id}"
    pool = db.session.scalar(select(BedPool).where(BedPool.shelter_id == shelter.id))
    assert pool_state(pool)[:8] == ("Girls 12–17", "female", 12, 17, 8, 0, 0, 0)
    assert audit_actions("bed_pool", pool.id) == ["pool.create"]
    history = db.session.scalars(select(BedUpdate).where(BedUpdate.pool_id == pool.id)).all()
    assert [(h.capacity, h.user_id) for h in history] == [(8, admin.user.id)]
    assert "Girls 12–17" in text(admin.get(f"/admin/shelters/{shelter.id}"))


def test_an_admin_edits_a_pools_label_admission_ages_and_capacity(admin, make):
    pool = make.pool(capacity=5, occupied=2)
    response = admin.post(f"/admin/shelters/{pool.shelter_id}/pools/{pool.id}", POOL)
    assert redirected_to(response) == f"/admin/shelters/{pool.shelter_id}"
    assert pool_state(pool) == ("Girls 12–17", "female", 12, 17, 8, 2, 0, 0, 2)
    assert audit_actions("bed_pool", pool.id) == ["pool.update"]
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "pool.update"))
    assert event.details["changes"]["capacity"] == [5, 8]
    assert [h.reason for h in db.session.scalars(select(BedUpdate).where(BedUpdate.pool_id == pool.id))] == [
        "capacity changed from 5 to 8"]


def test_capacity_can_drop_to_exactly_the_beds_in_use(admin, make):
    pool = make.pool(capacity=8, occupied=2, out_of_service=1)
    make.referral(pool=pool, status="submitted")  # one bed held
    response = admin.post(f"/admin/shelters/{pool.shelter_id}/pools/{pool.id}",
                          {**POOL, "label": pool.label, "capacity": "4"})
    redirected_to(response)
    assert pool_state(pool)[4] == 4


def test_capacity_below_the_beds_in_use_is_refused_with_the_numbers_and_nothing_changes(admin, make):
    pool = make.pool(capacity=8, occupied=2, out_of_service=1)
    make.referral(pool=pool, status="submitted")  # one bed held
    before = (pool_state(pool), count(AuditEvent), count(BedUpdate))
    response = admin.post(f"/admin/shelters/{pool.shelter_id}/pools/{pool.id}",
                          {**POOL, "label": "Renamed too", "capacity": "3"})
    assert response.status_code == 422
    assert ("4 beds are in use (2 occupied, 1 out of service, 1 held for referrals), so the capacity "
            "cannot go below 4. Nothing was changed.") in messages(response)
    assert (pool_state(pool), count(AuditEvent), count(BedUpdate)) == before


def test_a_youngest_age_above_the_oldest_is_refused_and_nothing_changes(admin, make):
    pool = make.pool()
    before = pool_state(pool)
    response = admin.post(f"/admin/shelters/{pool.shelter_id}/pools/{pool.id}",
                          {**POOL, "min_age": "15", "max_age": "12"})
    assert response.status_code == 422
    assert "The youngest age (15) cannot be above the oldest (12)." in messages(response)
    assert pool_state(pool) == before
    response = admin.post(f"/admin/shelters/{pool.shelter_id}/pools", {**POOL, "min_age": "15", "max_age": "12"})
    assert response.status_code == 422
    assert count(BedPool) == 1


def test_a_second_pool_with_the_same_label_in_one_shelter_is_refused(admin, make):
    pool = make.pool(label="Boys 12–17")
    response = admin.post(f"/admin/shelters/{pool.shelter_id}/pools", {**POOL, "label": "boys 12–17"})
    assert response.status_code == 409
    assert "This shelter already has a pool called boys 12–17." in messages(response)
    assert count(BedPool) == 1


def test_a_pool_is_only_found_under_its_own_shelter(admin, make):
    pool, elsewhere = make.pool(), make.shelter()
    assert admin.get(f"/admin/shelters/{elsewhere.id}/pools/{pool.id}").status_code == 404
    response = admin.post(f"/admin/shelters/{elsewhere.id}/pools/{pool.id}", POOL)
    assert response.status_code == 404
    assert pool_state(pool)[0] == pool.label


def test_a_hold_taken_while_the_capacity_changes_cannot_overbook_the_pool(app, make):
    """The hold's transaction has taken a bed but not committed when the admin lowers the
    capacity to the beds in use before it. The capacity UPDATE waits for the hold, then
    finds one bed more in use and refuses; a read-check-write would overbook (PostgreSQL)
    or fail on the database's constraint."""
    pool = make.pool(capacity=5, occupied=2)
    pool_id, label, admin_id = pool.id, pool.label, make.user("admin").id
    db.session.commit()  # the test's own session holds no lock while the two race
    hold_taken, outcome = threading.Event(), {}

    def hold_a_bed():
        try:
            with app.app_context():
                assert beds.take_hold(pool_id)
                hold_taken.set()
                threading.Event().wait(1.0)  # the admin's change starts while this is open
                db.session.commit()
                db.session.remove()
        except BaseException as error:  # noqa: BLE001  (shown by the assertion below)
            outcome["hold"] = error
            hold_taken.set()

    def lower_capacity():
        hold_taken.wait(30)
        try:
            with app.app_context():
                by = db.session.get(User, admin_id)
                with _acting(by):
                    services.update_pool(db.session.get(BedPool, pool_id), by, label, "any", 0, 17, 2)
                db.session.commit()
                outcome["admin"] = "saved"
                db.session.remove()
        except InvalidInput as refusal:
            outcome["admin"] = refusal.message
        except BaseException as error:  # noqa: BLE001
            outcome["admin"] = error

    threads = [threading.Thread(target=hold_a_bed), threading.Thread(target=lower_capacity)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert "hold" not in outcome, outcome
    assert isinstance(outcome["admin"], str) and "3 beds are in use" in outcome["admin"], outcome
    state = pool_state(pool)
    assert state[4] == 5 and state[7] == 1  # capacity unchanged, the hold kept
    assert state[5] + state[6] + state[7] <= state[4]


def test_the_pool_service_refuses_what_a_form_would_not_send(app, make):
    """Services are a public door too: direct calls get the same refusals, never a crash."""
    pool = make.pool()
    by = make.user("admin")
    with _acting(by):
        for values in (("", "any", 0, 17, 5), ("A", "other", 0, 17, 5), ("A", "any", -1, 17, 5),
                       ("A", "any", 0, 18, 5), ("A", "any", 0, 17, -1), ("A", "any", 0, 17, "5"),
                       ("A" * 101, "any", 0, 17, 5)):
            with pytest.raises(InvalidInput):
                services.update_pool(pool, by, *values)
            db.session.rollback()
        with pytest.raises(Conflict):
            other = make.pool(shelter=pool.shelter, label="Taken")
            services.update_pool(pool, by, "taken", "any", 0, 17, 5)
    assert other.label == "Taken"
