"""Lists cost the same however long they grow: every list page and the work queue issue the
same number of SQL statements with 10 referrals as with 1,000 (no query per row, and no
audit event per row: a page of names is one event that lists whom it showed)."""
from datetime import timedelta

import pytest
from sqlalchemy import event, insert

from coordination import clock
from coordination.audit.models import AuditEvent
from coordination.extensions import db
from coordination.notifications.models import Notification
from coordination.referrals.models import Child, Referral

from .conftest import Client

STATUSES = ("draft", "submitted", "accepted", "approved", "placed", "declined")
# Who reads which lists (the bed board and notifications are everyone's).
PAGES = {
    "caseworker": ["/", "/children", "/referrals", "/referrals/new", "/beds", "/notifications"],
    "shelter_staff": ["/", "/referrals", "/beds", "/notifications"],
    "guardianship": ["/", "/referrals", "/beds", "/notifications"],
}


@pytest.fixture
def world(make):
    region = make.region()
    caseworker_org = make.organization(region=region)
    caseworker = make.user("caseworker", organization=caseworker_org)
    shelter = make.shelter(region=region)
    pool = make.pool(shelter=shelter, capacity=50)
    people = {"caseworker": caseworker,
              "shelter_staff": make.user("shelter_staff", organization=shelter.organization),
              "guardianship": make.user("guardianship", organization=make.organization(kind="state", region=region))}
    for status in STATUSES:  # one referral in each state, through the real moves
        make.referral(pool=pool, child=make.child(registered_by=caseworker), status=status)
    return people, pool


def grow_to(total: int, pool, people) -> None:
    """More children and referrals, made in bulk like the ones above, in every state, each
    with a notification to each reader (their lists name the referral, its pool and shelter)."""
    caseworker = people["caseworker"]
    have = db.session.query(Referral).count()
    at = clock.now()
    children = [dict(case_reference=f"UC-BULK-{i:05d}", organization_id=caseworker.organization_id,
                     registered_by_id=caseworker.id, given_name="Bulk", family_name=f"Child {i}",
                     name_key=f"bulk child {i}", sex="female", estimated_age=12, nationality="", languages=[],
                     languages_unmapped=[], needs=[], region_id=pool.shelter.region_id, consent_given_by="aunt",
                     consent_given_at=at, child_assent=True, created_at=at - timedelta(minutes=i))
                for i in range(have, total)]
    ids = db.session.scalars(insert(Child).returning(Child.id), children).all()
    referral_ids = db.session.scalars(insert(Referral).returning(Referral.id), [
        dict(child_id=child_id, pool_id=pool.id, referring_organization_id=caseworker.organization_id,
             caseworker_id=caseworker.id, status=STATUSES[i % len(STATUSES)], urgency="routine", note="",
             holds_bed=False, hold_until=at + timedelta(hours=40), created_at=at - timedelta(minutes=i),
             status_changed_at=at - timedelta(minutes=i), submitted_at=at - timedelta(minutes=i),
             reason_code="", reason_text="")
        for i, child_id in enumerate(ids)]).all()
    db.session.execute(insert(Notification), [
        dict(user_id=person.id, referral_id=referral_id, text_key="referral.submitted", created_at=at)
        for referral_id in referral_ids for person in people.values()])
    db.session.commit()


def statements_for(app, user, url: str) -> int:
    client = Client(app)
    client.login(user.email)
    client.get(url)  # once before counting: a first visit may remember things (a language, a read)
    counted = []

    def count(*_):
        counted.append(1)

    event.listen(db.engine, "before_cursor_execute", count)
    try:
        response = client.get(url)
    finally:
        event.remove(db.engine, "before_cursor_execute", count)
    assert response.status_code == 200, (url, response.status_code)
    return len(counted)


def test_every_list_page_and_the_work_queue_cost_the_same_with_10_and_1000_referrals(app, world):
    people, pool = world
    grow_to(10, pool, people)
    small = {(role, url): statements_for(app, people[role], url) for role, urls in PAGES.items() for url in urls}
    grow_to(1000, pool, people)
    large = {(role, url): statements_for(app, people[role], url) for role, urls in PAGES.items() for url in urls}
    grown = {page: (small[page], large[page]) for page in small if large[page] != small[page]}
    assert not grown, f"statements with 10 and with 1,000 referrals: {grown}"


def test_a_page_of_names_is_one_audit_event_that_lists_whom_it_showed(app, world):
    people, pool = world
    grow_to(40, pool, people)
    before = db.session.query(AuditEvent).count()
    client = Client(app)
    client.login(people["caseworker"].email)
    after_login = db.session.query(AuditEvent).count()
    page = client.get("/children").get_data(as_text=True)
    events = db.session.query(AuditEvent).order_by(AuditEvent.id).offset(after_login).all()
    assert after_login > before and [e.action for e in events] == ["child.view_list"]
    shown = events[0].details["case_references"]
    assert 1 < len(shown) <= 40 and all(reference in page for reference in shown)
