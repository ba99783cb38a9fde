"""Nobody reads a child or a referral outside their need-to-know, through the pages.

An id a person may not see answers exactly as an id that does not exist (404, same words);
shelter staff learn the child's name only once they have accepted the child; every page that
shows a name leaves a `child.view` entry in the audit trail, and a page without it leaves none.
"""
import html
import re
from dataclasses import dataclass

import pytest
from sqlalchemy import func, select

from coordination.accounts.models import User
from coordination.audit.models import AuditEvent
from coordination.beds.models import BedPool
from coordination.extensions import db
from coordination.referrals import services
from coordination.referrals.models import Child, Referral

from ..conftest import _acting

NAMES = [("Aynur", "Əliyeva"), ("Зарина", "Каримова"), ("مريم", "الحسن")]
NOTE = "Found at the bus station at 02:00; speaks some Russian. Нуждается в враче."
ACTIONS = sorted(services.MOVES) + ["repoint"]
CSRF = re.compile(r'(name="csrf_token"[^>]*value="|"X-CSRFToken": ")[^"]+')
REFERRAL_LINK = re.compile(r'href="/referrals/(\d+)"')


# --- reading pages ------------------------------------------------------------------------

def text(response) -> str:
    """What the reader sees: the response with HTML entities read back into characters."""
    return html.unescape(response.get_data(as_text=True))


def same_answer(response) -> tuple[int, str]:
    """Status and body, with the per-request CSRF token left out, to compare two answers."""
    return response.status_code, CSRF.sub(r"\1…", response.get_data(as_text=True))


def listed_referrals(response) -> set[int]:
    assert response.status_code == 200, response.status_code
    return {int(i) for i in REFERRAL_LINK.findall(response.get_data(as_text=True))}


def name_views(child: Child, user: User | None = None) -> int:
    """How many `child.view` audit events name this child (and this viewer)."""
    query = select(func.count()).select_from(AuditEvent).where(
        AuditEvent.action == "child.view", AuditEvent.object_type == "child",
        AuditEvent.object_id == str(child.id))
    if user is not None:
        query = query.where(AuditEvent.user_id == user.id)
    return db.session.scalar(query)


def list_views(child: Child, user: User, page: str) -> int:
    """How many views of a list of names (`child.view_list`, one event per page shown) by
    this viewer, on this page, list this child by id and case reference."""
    shown = db.session.scalars(select(AuditEvent.details).where(
        AuditEvent.action == "child.view_list", AuditEvent.object_type == "page", AuditEvent.object_id == page,
        AuditEvent.user_id == user.id)).all()
    return sum(child.id in d["child_ids"] and child.case_reference in d["case_references"] for d in shown)


def audit_events() -> int:
    return db.session.scalar(select(func.count()).select_from(AuditEvent))


def unknown_id(model) -> int:
    return (db.session.scalar(select(func.max(model.id))) or 0) + 1000


# --- the people and records -----------------------------------------------------------------

@dataclass
class World:
    """A child of the referring agency, referred to a pool of the `runner`'s shelter in
    `region`; and, for contrast, another agency, shelter operator and region."""
    agency: object
    runner: object
    region: object
    pool: BedPool
    other_agency: object
    other_runner: object
    other_region: object
    other_pool: BedPool


@pytest.fixture
def world(make) -> World:
    region, other_region = make.region("Baku"), make.region("Ganja-Dashkasan")
    runner = make.organization(region=region)
    other_runner = make.organization(region=other_region)
    return World(
        agency=make.organization(kind="state", region=region), runner=runner, region=region,
        pool=make.pool(make.shelter(organization=runner), capacity=4),
        other_agency=make.organization(region=region), other_runner=other_runner, other_region=other_region,
        other_pool=make.pool(make.shelter(organization=other_runner), capacity=4),
    )


def child_of(make, organization, given="Aynur", family="Əliyeva") -> Child:
    caseworker = make.user("caseworker", organization=organization)
    return make.child(registered_by=caseworker, given_name=given, family_name=family, sex="female",
                      estimated_age=15, languages=["az", "ru"], needs=["medical", "psychosocial"])


def refer(make, child: Child, pool: BedPool, status: str = "submitted") -> Referral:
    """An urgent referral with a caseworker's note, taken to `status` through the real moves."""
    caseworker = child.registered_by
    with _acting(caseworker):
        referral = services.create_referral(caseworker, child, pool, "urgent", NOTE)
    db.session.commit()
    for action in {"draft": [], "submitted": ["submit"], "accepted": ["submit", "accept"]}[status]:
        actor = make.actor_for(action, referral)
        with _acting(actor):
            services.move(referral, action, actor)
        db.session.commit()
    return referral


def guardian(login_as, make, region):
    return login_as("guardianship", organization=make.organization(kind="state", region=region))


# --- caseworkers ---------------------------------------------------------------------------

@pytest.mark.parametrize("given, family", NAMES)
def test_caseworker_sees_own_organizations_child_and_referral_with_the_name_as_typed(
        make, login_as, world, given, family):
    child = child_of(make, world.agency, given, family)
    referral = refer(make, child, world.pool)
    colleague = login_as("caseworker", organization=world.agency)  # not the one who registered

    child_page = colleague.get(f"/children/{child.id}")
    referral_page = colleague.get(f"/referrals/{referral.id}")
    printed = colleague.get(f"/children/{child.id}/print")

    for response in (child_page, referral_page, printed):
        assert response.status_code == 200
        assert f"{given} {family}" in text(response)
    assert name_views(child, colleague.user) == 3
    children_list = colleague.get("/children")
    assert children_list.status_code == 200
    assert child.case_reference in text(children_list)


def test_caseworker_sees_drafts_of_own_organization(make, login_as, world):
    draft = refer(make, child_of(make, world.agency), world.pool, status="draft")
    colleague = login_as("caseworker", organization=world.agency)

    assert colleague.get(f"/referrals/{draft.id}").status_code == 200
    assert draft.id in listed_referrals(colleague.get("/referrals"))


@pytest.mark.parametrize("door", ["/children/{}", "/children/{}/print"])
def test_another_organizations_child_answers_exactly_like_an_unknown_id(make, login_as, world, door):
    child = child_of(make, world.agency)
    outsider = login_as("caseworker", organization=world.other_agency)
    nobody = unknown_id(Child)
    before = audit_events()

    theirs, nobodys = outsider.get(door.format(child.id)), outsider.get(door.format(nobody))
    assert theirs.status_code == 404
    assert same_answer(theirs) == same_answer(nobodys)
    assert child.case_reference not in text(theirs) and "Əliyeva" not in text(theirs)

    consent = {"consent_given_by": "a stranger", "consent_given_at": "2026-01-01T10:00"}
    theirs = outsider.post(f"/children/{child.id}/consent", consent)
    nobodys = outsider.post(f"/children/{nobody}/consent", consent)
    assert theirs.status_code == 404
    assert same_answer(theirs) == same_answer(nobodys)
    db.session.refresh(child)
    assert child.consent_given_by == "the child's aunt"
    assert audit_events() == before


OUTSIDERS = {
    "caseworker of another organization": lambda w, login_as, make: login_as("caseworker", organization=w.other_agency),
    "shelter staff of another organization": lambda w, login_as, make: login_as("shelter_staff", organization=w.other_runner),
    "guardianship of another region": lambda w, login_as, make: guardian(login_as, make, w.other_region),
    "admin": lambda w, login_as, make: login_as("admin", organization=w.runner),
    "oversight": lambda w, login_as, make: login_as("oversight", organization=w.agency),
}


@pytest.mark.parametrize("who", OUTSIDERS)
def test_a_referral_outside_need_to_know_answers_every_door_exactly_like_an_unknown_id(
        make, login_as, world, who):
    referral = refer(make, child_of(make, world.agency), world.pool, status="submitted")
    outsider = OUTSIDERS[who](world, login_as, make)
    nobody = unknown_id(Referral)
    events = len(referral.events)
    before = audit_events()

    theirs, nobodys = outsider.get(f"/referrals/{referral.id}"), outsider.get(f"/referrals/{nobody}")
    assert theirs.status_code == 404
    assert same_answer(theirs) == same_answer(nobodys)
    assert referral.child.case_reference not in text(theirs)

    data = {"reason_code": "other", "reason_text": "trying", "pool": world.other_pool.id}
    for action in ACTIONS:
        for htmx in (False, True):
            theirs = outsider.post(f"/referrals/{referral.id}/{action}", data, htmx=htmx)
            nobodys = outsider.post(f"/referrals/{nobody}/{action}", data, htmx=htmx)
            assert theirs.status_code == 404, (action, htmx)
            assert same_answer(theirs) == same_answer(nobodys), (action, htmx)

    db.session.refresh(referral)
    assert (referral.status, referral.pool_id, len(referral.events)) == ("submitted", world.pool.id, events)
    assert audit_events() == before


@pytest.mark.parametrize("role", ["admin", "oversight", "shelter_staff", "guardianship"])
def test_only_caseworkers_have_a_children_page_and_no_one_else_reaches_a_child(make, login_as, world, role):
    child = child_of(make, world.agency)
    refer(make, child, world.pool, status="accepted")  # even staff who accepted the child
    person = login_as(role, organization=world.runner if role != "guardianship" else
                      make.organization(kind="state", region=world.region))

    assert person.get("/children").status_code == 403
    theirs = person.get(f"/children/{child.id}")
    assert theirs.status_code == 404
    assert same_answer(theirs) == same_answer(person.get(f"/children/{unknown_id(Child)}"))
    assert name_views(child, person.user) == 0


# --- shelter staff -------------------------------------------------------------------------

@pytest.mark.parametrize("given, family", NAMES)
def test_shelter_staff_see_the_referral_but_not_the_name_until_they_accept(make, login_as, world, given, family):
    child = child_of(make, world.agency, given, family)
    referral = refer(make, child, world.pool, status="submitted")
    staff = login_as("shelter_staff", organization=world.runner)

    before = staff.get(f"/referrals/{referral.id}")
    page = text(before)
    assert before.status_code == 200
    for fact in (child.case_reference, "female, 15", "Azerbaijani, Russian", "medical care",
                 "psychosocial / trauma care", "urgent", NOTE):
        assert fact in page, fact
    assert given not in page and family not in page
    assert name_views(child) == 0

    accepted = staff.post(f"/referrals/{referral.id}/accept")
    assert accepted.status_code == 303
    after = staff.get(f"/referrals/{referral.id}")

    assert after.status_code == 200
    assert f"{given} {family}" in text(after)
    assert name_views(child, staff.user) == 1


def test_shelter_staff_pages_around_a_referral_do_not_give_the_name_away_before_accepting(make, login_as, world):
    child = child_of(make, world.agency, "Зарина", "Каримова")
    referral = refer(make, child, world.pool, status="submitted")
    staff = login_as("shelter_staff", organization=world.runner)

    for url in ("/", "/referrals", f"/referrals/{referral.id}", "/notifications"):
        response = staff.get(url)
        assert response.status_code == 200, url
        assert "Зарина" not in text(response) and "Каримова" not in text(response), url
    assert referral.id in listed_referrals(staff.get("/referrals"))
    assert name_views(child) == 0


def test_drafts_are_invisible_to_shelter_staff_and_guardianship(make, login_as, world):
    draft = refer(make, child_of(make, world.agency), world.pool, status="draft")
    nobody = unknown_id(Referral)
    for person in (login_as("shelter_staff", organization=world.runner), guardian(login_as, make, world.region)):
        theirs = person.get(f"/referrals/{draft.id}")
        assert theirs.status_code == 404
        assert same_answer(theirs) == same_answer(person.get(f"/referrals/{nobody}"))
        assert draft.id not in listed_referrals(person.get("/referrals"))
        response = person.post(f"/referrals/{draft.id}/submit")
        assert response.status_code == 404
    db.session.refresh(draft)
    assert draft.status == "draft"


# --- guardianship --------------------------------------------------------------------------

@pytest.mark.parametrize("given, family", NAMES)
def test_guardianship_of_the_shelters_region_sees_the_whole_referral_with_the_name(
        make, login_as, world, given, family):
    child = child_of(make, world.agency, given, family)
    referral = refer(make, child, world.pool, status="accepted")
    officer = guardian(login_as, make, world.region)

    response = officer.get(f"/referrals/{referral.id}")

    page = text(response)
    assert response.status_code == 200
    assert f"{given} {family}" in page
    for fact in (child.case_reference, "female, 15", "Azerbaijani, Russian", "medical care", NOTE):
        assert fact in page, fact
    assert name_views(child, officer.user) == 1


# --- lists and the audit trail -------------------------------------------------------------

def test_referral_list_shows_each_person_only_what_they_may_see(make, login_as, world):
    ours = refer(make, child_of(make, world.agency), world.pool, status="submitted")
    our_draft = refer(make, child_of(make, world.agency), world.pool, status="draft")
    theirs = refer(make, child_of(make, world.other_agency), world.other_pool, status="accepted")
    their_draft = refer(make, child_of(make, world.other_agency), world.other_pool, status="draft")

    expected = {
        "caseworker": (world.agency, {ours.id, our_draft.id}),
        "other caseworker": (world.other_agency, {theirs.id, their_draft.id}),
        "shelter_staff": (world.runner, {ours.id}),
        "other shelter_staff": (world.other_runner, {theirs.id}),
        "guardianship": (make.organization(kind="state", region=world.region), {ours.id}),
        "other guardianship": (make.organization(kind="state", region=world.other_region), {theirs.id}),
    }
    for who, (organization, visible) in expected.items():
        person = login_as(who.removeprefix("other "), organization=organization)
        assert listed_referrals(person.get("/referrals")) == visible, who
    for role in ("admin", "oversight"):  # they read aggregates, never a list of referrals
        assert login_as(role, organization=world.runner).get("/referrals").status_code == 403


def test_every_view_of_a_named_page_is_audited_with_the_viewer(make, login_as, world):
    child = child_of(make, world.agency)
    referral = refer(make, child, world.pool, status="submitted")
    caseworker = login_as("caseworker", organization=world.agency)
    staff = login_as("shelter_staff", organization=world.runner)

    for _ in range(3):
        caseworker.get(f"/children/{child.id}")
    caseworker.get(f"/referrals/{referral.id}")
    staff.get(f"/referrals/{referral.id}")  # no name shown: nothing to audit

    assert name_views(child, caseworker.user) == 4
    assert name_views(child) == 4
    last = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "child.view")
                              .order_by(AuditEvent.id.desc())).first()
    assert (last.object_type, last.object_id, last.user_id) == ("child", str(child.id), caseworker.user.id)
    assert last.organization_id == world.agency.id


# Pages that list names record a view of each child they show.

def test_the_children_list_shows_names_and_audits_one_view_listing_each_child_shown(make, login_as, world):
    first = child_of(make, world.agency, "Aynur", "Əliyeva")
    second = child_of(make, world.agency, "Зарина", "Каримова")
    caseworker = login_as("caseworker", organization=world.agency)

    page = text(caseworker.get("/children"))

    assert "Aynur Əliyeva" in page and "Зарина Каримова" in page
    assert (list_views(first, caseworker.user, "children list"),
            list_views(second, caseworker.user, "children list")) == (1, 1)


def test_the_new_referral_form_shows_names_and_audits_one_view_listing_each_child_offered(make, login_as, world):
    first = child_of(make, world.agency, "Aynur", "Əliyeva")
    second = child_of(make, world.agency, "مريم", "الحسن")
    caseworker = login_as("caseworker", organization=world.agency)

    page = text(caseworker.get("/referrals/new"))

    assert "Aynur Əliyeva" in page and "مريم الحسن" in page
    assert (list_views(first, caseworker.user, "referral form"),
            list_views(second, caseworker.user, "referral form")) == (1, 1)
