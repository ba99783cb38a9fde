"""A small history whose every figure is known, for the reports' tests.

The clock stands at 15 June 2026, 12:00 in Baku (08:00 UTC); the reports are read over
1 April to 15 June 2026 (local days), three months. Two regions have shelters:

  Aran   Safe Haven (pool A1: 10 beds, 3 occupied before any referral here, 1 out of service)
         =HYPERLINK("http://evil.example","click") (pool A2: 2 beds) — a name a spreadsheet would run
  Baku   Baku House (pool B1: 4 beds)

Referrals (times UTC; each wait counted from submission):

  r1  A1  X  placed      sub 2 Apr 10:00   answer +2h   decision +5h    arrival +24h  born 2008-07-01
  r2  A1  X  declined    sub 3 Apr 10:00   answer +1h   (no capacity)
  r3  A1  Y  discharged  sub 10 Apr 10:00  answer +4h   decision +10h   arrival +30h
  r4  A1  X  rejected    sub 12 Apr 10:00  answer +6h   decision +20h
  r5  A2  X  expired     sub 20 Apr 10:00
  r6  A1  Y  withdrawn   sub 30 Apr 21:00  (1 May, 01:00 in Baku: a May referral)
  r7  A1  X  submitted   sub 10 May 10:00  (still open, holds a bed)
  r8  B1  Y  declined    sub 1 Jun 10:00   answer +3h   (not eligible)
  r9  B1  Y  placed      sub 2 Jun 10:00   answer +1h   decision +2h    arrival +26h  born 2010-01-01
  r10 A1  X  placed      sub 9 Jun 10:00   answer +1h   decision +2h    arrival +24h  born 2008-09-13
  r11 A1  X  placed      sub 9 Jun 12:00   answer +3h   decision +4h    arrival +22h  born 2008-09-14
  r12 A1  X  draft       never submitted
  r13 A1  X  declined    sub 20 Mar 10:00  (before the range; no capacity)

Demand signals: Aran: girls 12–14 twice (5 May), a boy 15–17 (10 Apr); Baku: a boy 6–11 (1 Jun)
and one on 1 March, before the range.

Every child is named (Leyla Mammadova, …): no report may show a name or a birth date.
"""
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone

import pytest

from coordination import clock
from coordination.accounts.models import Organization, Region
from coordination.beds.models import BedPool, Shelter
from coordination.extensions import db
from coordination.referrals import services as referral_services
from coordination.referrals.models import DemandSignal

NOW = datetime(2026, 6, 15, 8, 0, tzinfo=timezone.utc)
RANGE = "date_from=2026-04-01&date_to=2026-06-15"
EVIL = '=HYPERLINK("http://evil.example","click")'
NAMES = ("Leyla", "Mammadova")
HOUR = timedelta(hours=1)


def utc(*parts) -> datetime:
    return datetime(*parts, tzinfo=timezone.utc)


@dataclass
class History:
    aran: Region
    baku: Region
    org_x: Organization
    org_y: Organization
    safe_haven: Shelter
    evil: Shelter
    baku_house: Shelter
    a1: BedPool
    a2: BedPool
    b1: BedPool


@pytest.fixture
def history(app, make, monkeypatch) -> History:
    clock.freeze(NOW - timedelta(days=100))  # children registered, consents given, before it all
    monkeypatch.setitem(app.config, "LONG_PLACEMENT_DAYS", 60)
    aran, baku = make.region("Aran"), make.region("Baku")
    org_x = make.organization(region=aran, name="Organization X")
    org_y = make.organization(region=baku, name="Organization Y")
    shelter_org = make.organization(region=aran, name="Shelter NGO")
    safe_haven = make.shelter(organization=shelter_org, region=aran, name="Safe Haven")
    evil = make.shelter(organization=shelter_org, region=aran, name=EVIL)
    baku_house = make.shelter(organization=make.organization(region=baku, name="Baku NGO"), region=baku,
                              name="Baku House")
    a1 = make.pool(shelter=safe_haven, capacity=10, occupied=3, out_of_service=1)
    a2 = make.pool(shelter=evil, capacity=2)
    b1 = make.pool(shelter=baku_house, capacity=4)
    cx, cy = make.user("caseworker", organization=org_x), make.user("caseworker", organization=org_y)

    def refer(pool, caseworker, status, submitted, answer=None, decision=None, arrival=None, born=None):
        child = make.child(registered_by=caseworker, given_name=NAMES[0], family_name=NAMES[1],
                           birth_date=born, estimated_age=None if born else 15)
        referral = make.referral(pool=pool, child=child, status=status)
        referral.submitted_at = submitted
        if answer is not None:
            if status == "declined":
                referral.ended_at = submitted + answer
            else:
                referral.accepted_at = submitted + answer
        if decision is not None:
            if status == "rejected":
                referral.ended_at = submitted + decision
            else:
                referral.approved_at = submitted + decision
        if arrival is not None:
            referral.arrived_at = child.reached_bed_at = submitted + arrival
        db.session.commit()
        return referral

    clock.freeze(NOW - timedelta(days=1))
    refer(a1, cx, "placed", utc(2026, 4, 2, 10), 2 * HOUR, 5 * HOUR, 24 * HOUR, born=date(2008, 7, 1))
    declined = refer(a1, cx, "declined", utc(2026, 4, 3, 10), 1 * HOUR)
    refer(a1, cy, "discharged", utc(2026, 4, 10, 10), 4 * HOUR, 10 * HOUR, 30 * HOUR)
    refer(a1, cx, "rejected", utc(2026, 4, 12, 10), 6 * HOUR, 20 * HOUR)
    expired = refer(a2, cx, "submitted", utc(2026, 4, 20, 10))
    refer(a1, cy, "withdrawn", utc(2026, 4, 30, 21))
    refer(a1, cx, "submitted", utc(2026, 5, 10, 10))
    not_eligible = refer(b1, cy, "declined", utc(2026, 6, 1, 10), 3 * HOUR)
    refer(b1, cy, "placed", utc(2026, 6, 2, 10), 1 * HOUR, 2 * HOUR, 26 * HOUR, born=date(2010, 1, 1))
    refer(a1, cx, "placed", utc(2026, 6, 9, 10), 1 * HOUR, 2 * HOUR, 24 * HOUR, born=date(2008, 9, 13))
    refer(a1, cx, "placed", utc(2026, 6, 9, 12), 3 * HOUR, 4 * HOUR, 22 * HOUR, born=date(2008, 9, 14))
    make.referral(pool=a1, child=make.child(registered_by=cx, given_name=NAMES[0], family_name=NAMES[1]))
    early = refer(a1, cx, "declined", utc(2026, 3, 20, 10), 1 * HOUR)
    # The factory declines for "other"; these were declined for the reasons above.
    declined.reason_code = early.reason_code = "no_capacity"
    not_eligible.reason_code = "not_eligible"
    referral_services.expire_overdue_holds(pool_id=a2.id, at=NOW + timedelta(days=3))
    db.session.commit()
    assert expired.status == "expired"

    for region, sex, band, at in [(aran, "female", "12–14", utc(2026, 5, 5, 9)),
                                  (aran, "female", "12–14", utc(2026, 5, 5, 11)),
                                  (aran, "male", "15–17", utc(2026, 4, 10, 9)),
                                  (baku, "male", "6–11", utc(2026, 6, 1, 9)),
                                  (baku, "male", "6–11", utc(2026, 3, 1, 9))]:
        db.session.add(DemandSignal(region_id=region.id, sex=sex, age_band=band, needs=[], created_at=at,
                                    seen_key=f"{region.id}-{at.isoformat()}"))
    db.session.commit()
    clock.freeze(NOW)
    return History(aran, baku, org_x, org_y, safe_haven, evil, baku_house, a1, a2, b1)
