"""What the API answers with: records as JSON objects, shown as the pages show them to the
same person (need-to-know: a child's name only to those who may read it on the page)."""
from datetime import datetime

from flask import current_app
from flask_babel import gettext as _

from ..accounts.models import Organization, Region
from ..beds import services as beds
from ..beds.models import BedPool, Shelter
from ..clock import now
from ..referrals import services as referrals
from ..referrals.models import Child, Referral


def time(moment: datetime | None) -> str | None:
    """A time as RFC 3339, in UTC."""
    return moment.isoformat().replace("+00:00", "Z") if moment is not None else None


def region(r: Region) -> dict:
    return {"id": r.id, "code": r.code, "name": r.name, "name_ru": r.name_ru, "name_en": r.name_en}


def organization(o: Organization) -> dict:
    return {"id": o.id, "name": o.name, "kind": o.kind, "active": o.active}


def shelter(s: Shelter, user) -> dict:
    """A shelter; its address only to whom the page shows it (own staff, the region's
    guardianship, admins)."""
    shown = {"id": s.id, "name": s.name, "status": s.status, "organization": organization(s.organization),
             "region": region(s.region), "phone": s.phone, "languages": list(s.languages or []),
             "services": list(s.services or []), "accessibility": s.accessibility,
             "pools": [p.id for p in s.pools], "changed_at": time(max(s.changed_at, s.organization.changed_at))}
    if beds.can_see_address(user, s):
        shown["address"] = s.address
    return shown


def pool(p: BedPool, at: datetime | None = None) -> dict:
    """A pool with its availability now (holds past their deadline no longer count) and how
    fresh its counts are, by the app's own judgement (FRESH_HOURS, STALE_HOURS)."""
    at = at or now()
    s = p.shelter
    config = current_app.config
    return {
        "id": p.id, "label": p.label, "shelter": {"id": s.id, "name": s.name, "status": s.status,
                                                  "organization_id": s.organization_id, "region_id": s.region_id},
        "admits_sex": p.admits_sex, "min_age": p.min_age, "max_age": p.max_age,
        "capacity": p.capacity, "occupied": p.occupied, "out_of_service": p.out_of_service,
        "out_of_service_reason": p.out_of_service_reason, "held": p.live_holds, "available": p.available,
        "offered": s.status == "open" and s.organization.active,
        "last_confirmed_at": time(p.last_confirmed_at),
        "freshness": beds.freshness(p.last_confirmed_at, at, config["FRESH_HOURS"], config["STALE_HOURS"]),
        "version": p.version,
        "changed_at": time(max(p.changed_at, s.changed_at, s.organization.changed_at)),
    }


def child(c: Child, user, referral: Referral | None = None) -> dict:
    """A child as the referral's page shows them: details always, the names only to whom may read them."""
    shown = {"id": c.id, "case_reference": c.case_reference, "sex": c.sex, "age": c.age_on(now().date()),
             "languages": list(c.languages or []), "needs": list(c.needs or []), "region_id": c.region_id,
             "has_consent": c.has_consent}
    named = (referrals.can_see_child_name(user, referral) if referral is not None
             else referrals.works_with_children(user) and user.organization_id == c.organization_id)
    if named:
        shown.update(given_name=c.given_name, family_name=c.family_name)
    return shown


def referral_summary(r: Referral, user) -> dict:
    return {
        "id": r.id, "status": r.status, "urgency": r.urgency,
        "child": {"id": r.child_id, "case_reference": r.child.case_reference},
        "pool": {"id": r.pool_id, "label": r.pool.label, "shelter_id": r.pool.shelter_id,
                 "shelter_name": r.pool.shelter.name},
        "referring_organization_id": r.referring_organization_id,
        "hold_until": time(r.hold_until), "status_changed_at": time(r.status_changed_at),
    }


def move(m) -> dict:
    return {"action": m.action, "to": m.target, "label": str(m.label),
            "reason": m.reason or "none", "reason_codes": list(m.codes),
            "consequence": str(m.consequence) if m.consequence else None}


def referral(r: Referral, user) -> dict:
    """One referral with its timeline and the moves the caller may make on it now."""
    return {
        **referral_summary(r, user),
        "child": child(r.child, user, r),
        "note": r.note,
        "created_at": time(r.created_at), "submitted_at": time(r.submitted_at),
        "accepted_at": time(r.accepted_at), "approved_at": time(r.approved_at),
        "arrived_at": time(r.arrived_at), "ended_at": time(r.ended_at),
        "decision_due_at": time(r.decision_due_at),
        "reason_code": r.reason_code, "reason_text": r.reason_text,
        "group_id": r.group_id, "transfer_of_id": r.transfer_of_id,
        "timeline": [{"from": e.from_status, "to": e.to_status, "at": time(e.created_at),
                      "by": ({"name": e.user.name, "organization": e.user.organization.name} if e.user else None),
                      "reason_code": e.reason_code, "reason_text": e.reason_text} for e in r.events],
        "moves": [move(m) for m in referrals.allowed_moves(user, r)],
    }


def duplicate_warning() -> str:
    return _("This may be a child your organization has already registered (same names and birth year):")
