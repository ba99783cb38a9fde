"""The audit trail as admins and oversight read it at /audit: sentences in their language,
who acted by name and organization, records by case reference (never a child's name),
filters, keyset paging and the CSV download."""
import csv
import io
import re
from datetime import datetime, timezone
from pathlib import Path

import pyotp
import pytest
from sqlalchemy import event as sa_event, select

from coordination import clock
from coordination.admin import services as admin_services
from coordination.audit import services as audit
from coordination.audit import sentences
from coordination.audit.models import AuditEvent
from coordination.extensions import db

from ..conftest import _acting

CHILD_NAME = ("Zümrüdxanım", "Qəhrəmanlıyeva")


def events(action: str | None = None) -> list[AuditEvent]:
    query = select(AuditEvent).order_by(AuditEvent.id)
    if action:
        query = query.where(AuditEvent.action == action)
    return list(db.session.scalars(query))


def text(response) -> str:
    return response.get_data(as_text=True)


def plain(html: str) -> str:
    """The page's words, tags dropped and spaces folded, as a person reads them."""
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", "", html)).replace("&#34;", '"').replace("&#39;", "'")


def who(user) -> str:
    return f"{user.name} ({user.organization.name})"


@pytest.fixture
def accepted(make):
    """A referral the shelter accepted, of a child with a name one could not miss."""
    child = make.child(given_name=CHILD_NAME[0], family_name=CHILD_NAME[1])
    referral = make.referral(child=child, status="accepted")
    return referral


@pytest.fixture
def admin(login_as):
    return login_as("admin")


@pytest.fixture
def oversight(login_as):
    return login_as("oversight")


# --- sentences ---------------------------------------------------------------------------

def test_a_move_reads_as_a_sentence_naming_the_person_and_the_case_never_the_child(accepted, oversight):
    accepter = db.session.get(type(accepted.caseworker), events("referral.accepted")[0].user_id)

    page = text(oversight.get("/audit"))

    reference = accepted.child.case_reference
    assert (f"{who(accepter)} accepted the referral of {reference} (no. {accepted.id})") in plain(page)
    assert f"{who(accepted.caseworker)} registered the child {reference}" in plain(page)
    assert "From “submitted” to “accepted by the shelter”" in plain(page)
    assert CHILD_NAME[0] not in page and CHILD_NAME[1] not in page
    listed = page[page.index('id="audit-events"'):]
    assert "referral.accepted" not in listed and "reason_code" not in listed  # no codes, no raw details


def test_a_list_of_names_seen_reads_as_one_sentence_with_case_references_never_names(make, login_as, oversight):
    caseworker = login_as("caseworker")
    children = [make.child(registered_by=caseworker.user, given_name=CHILD_NAME[0], family_name=f"{CHILD_NAME[1]} {i}")
                for i in range(12)]
    caseworker.get("/children")

    page = plain(text(oversight.get("/audit?action=child.view_list")))

    assert f"{who(caseworker.user)} saw children's names on the list of children" in page
    newest = sorted(children, key=lambda c: c.id, reverse=True)
    assert f"Children: {', '.join(c.case_reference for c in newest[:10])} and 2 more" in page
    assert CHILD_NAME[0] not in page


def test_a_declined_referral_gives_its_reason_in_words_and_never_the_reason_text(make, oversight):
    referral = make.referral(status="declined")  # the factory's reason: "other", "test reason"

    page = plain(text(oversight.get("/audit?action=referral.declined")))

    assert f"declined the referral of {referral.child.case_reference} (no. {referral.id})" in page
    assert "Reason: other" in page
    assert "test reason" not in page


def test_the_sentences_read_in_russian_and_azerbaijani(make, accepted, login_as):
    reference, number = accepted.child.case_reference, accepted.id
    for locale, sign_in, accepted_words in (
            ("ru", "выполнил(а) вход", f"принял(а) направление по делу {reference} (№ {number})"),
            ("az", "sistemə daxil oldu", f"{reference} üzrə göndərişi (№ {number}) qəbul etdi")):
        reader = make.user("oversight", locale=locale)
        page = plain(text(login_as(reader).get("/audit")))
        assert f"{who(reader)} {sign_in}" in page, locale
        assert accepted_words in page, locale
        assert CHILD_NAME[0] not in page


def test_an_action_without_a_sentence_still_reads_and_names_the_action(make, oversight):
    someone = make.user("admin")
    with _acting(someone):
        audit.record("something.new", "widget", 7, {"colour": "blue"})
    db.session.commit()

    response = oversight.get("/audit")

    assert response.status_code == 200
    assert f"{who(someone)}: “something.new” on widget 7" in plain(text(response))


def test_every_action_the_app_records_has_a_sentence_and_a_name():
    """A new audit.record("x.y", …) without its words fails here, not on a reader's screen."""
    source = Path(__file__).resolve().parents[2] / "coordination"
    recorded = set()
    for path in source.rglob("*.py"):
        recorded |= set(re.findall(r'record\(\s*"([a-z_]+\.[a-z_.]+)"', path.read_text(encoding="utf-8")))
    recorded |= {f"referral.{status}" for status in ("submitted", "accepted", "declined", "approved", "rejected",
                                                     "placed", "discharged", "withdrawn", "expired")}
    assert len(recorded) > 40
    assert recorded <= set(sentences.ACTIONS), recorded - set(sentences.ACTIONS)
    worded = {key.partition(":")[0] for key in sentences.SENTENCES}
    assert recorded <= worded, recorded - worded


# --- who signed in -----------------------------------------------------------------------

def test_a_sign_in_is_the_persons_not_the_systems(make, client, oversight):
    person = make.user("caseworker")

    assert client.login(person.email).status_code == 303

    login = events("login")[-1]
    assert (login.user_id, login.organization_id) == (person.id, person.organization_id)
    page = plain(text(oversight.get(f"/audit?action=login&person={person.email}")))
    assert f"{who(person)} signed in" in page
    assert person.email in page


def test_a_wrong_password_is_someone_at_an_address_trying_the_account(make, client, oversight):
    person = make.user("caseworker")

    client.login(person.email, password="not the password")
    client.login("nobody@example.org", password="whatever")

    failed = events("login.failed")
    assert [e.user_id for e in failed] == [None, None]  # whoever typed it, it was not shown to be them
    page = plain(text(oversight.get("/audit?action=login.failed")))
    assert f"Someone at 127.0.0.1 tried to sign in as {who(person)} with a wrong password" in page
    assert "Someone at 127.0.0.1 tried to sign in as nobody@example.org, which is no account's e-mail" in page


def test_a_wrong_second_factor_code_is_the_persons(app, make, oversight):
    from ..conftest import owing_a_code

    person = make.user("caseworker")
    person.totp_secret = pyotp.random_base32()
    db.session.commit()
    browser = owing_a_code(app, person)

    browser.post("/login/code", data={"code": "000000"})

    wrong = events("login.failed")[-1]
    assert (wrong.user_id, wrong.organization_id) == (person.id, person.organization_id)
    assert f"{who(person)} gave a wrong sign-in code (try 1)" in plain(text(oversight.get("/audit")))


# --- links ---------------------------------------------------------------------------------

def test_a_referral_links_to_its_own_trail_which_holds_only_its_events(accepted, oversight):
    page = text(oversight.get("/audit?action=referral.accepted"))
    link = f'/audit?object_type=referral&amp;object={accepted.id}'
    assert link in page

    own = plain(text(oversight.get(link.replace("&amp;", "&"))))

    assert own.count(f"(no. {accepted.id})") == 3  # drafted, submitted, accepted
    assert "registered the child" not in own


def test_a_case_reference_finds_the_child_and_all_its_referrals(make, accepted, oversight):
    other = make.referral(status="submitted")

    page = plain(text(oversight.get(f"/audit?object={accepted.child.case_reference.lower()}")))

    assert "registered the child" in page and f"(no. {accepted.id})" in page
    assert other.child.case_reference not in page


def test_people_organizations_and_regions_link_to_admin_pages_for_admins_only(make, admin, oversight):
    region = make.region(name="Quba-Xaçmaz")
    with _acting(admin.user):
        admin_services.update_region(region, region.code, "Quba-Xaçmaz iqtisadi rayonu")
    db.session.commit()

    assert f'href="/admin/regions/{region.id}"' in text(admin.get("/audit?action=region.update"))
    for_oversight = text(oversight.get("/audit?action=region.update"))
    assert f'href="/admin/regions/{region.id}"' not in for_oversight
    assert f'object_type=region&amp;object={region.id}' in for_oversight
    assert "Changed: name" in plain(for_oversight)


def test_a_page_of_events_costs_the_same_few_queries_however_many_it_shows(make, app, admin):
    def queries_for_a_page() -> int:
        statements = []
        listener = lambda *args: statements.append(args[2])  # noqa: E731
        sa_event.listen(db.engine, "before_cursor_execute", listener)
        try:
            assert admin.get("/audit").status_code == 200
        finally:
            sa_event.remove(db.engine, "before_cursor_execute", listener)
        return len(statements)

    make.referral(status="placed")
    few = queries_for_a_page()
    for _ in range(4):
        make.referral(status="discharged")
    assert len(events()) > 30
    assert queries_for_a_page() == few


# --- filters -----------------------------------------------------------------------------

def ids_on(page: str) -> list[int]:
    return [int(n) for n in re.findall(r'<td data-label="#">(\d+)</td>', page)]


def test_each_filter_narrows_to_what_it_names(make, admin):
    clock.freeze(datetime(2026, 3, 1, 8, 0, tzinfo=timezone.utc))
    early = make.referral(status="submitted")
    clock.freeze(datetime(2026, 3, 5, 8, 0, tzinfo=timezone.utc))
    late = make.referral(status="accepted")
    everything = events()

    def shown(query: str) -> set[int]:
        response = admin.get("/audit?" + query)
        assert response.status_code == 200, text(response)
        return set(ids_on(text(response)))

    worker = late.caseworker
    assert shown(f"person={worker.email}") == {e.id for e in everything if e.user_id == worker.id}
    assert shown(f"person={worker.name.upper()}") == {e.id for e in everything if e.user_id == worker.id}
    organization = early.caseworker.organization_id
    assert shown(f"organization={organization}") == {e.id for e in everything if e.organization_id == organization}
    assert shown("action=referral.submitted") == {e.id for e in everything if e.action == "referral.submitted"}
    assert shown("object_type=child") == {e.id for e in everything if e.object_type == "child"}
    assert shown(f"object_type=referral&object={late.id}") == {
        e.id for e in everything if (e.object_type, e.object_id) == ("referral", str(late.id))}
    assert shown(f"object={late.id}") == {e.id for e in everything if e.object_id == str(late.id)}
    assert shown("person=%25") == set()  # a wildcard is a character like any other
    assert shown("date_from=2026-03-02&date_to=2026-03-31") == {
        e.id for e in everything
        if datetime(2026, 3, 2, tzinfo=timezone.utc) < e.created_at < datetime(2026, 4, 1, tzinfo=timezone.utc)}
    assert shown("date_to=2026-03-01") == {
        e.id for e in everything if e.created_at < datetime(2026, 3, 2, tzinfo=timezone.utc)}
    assert shown("date_from=2026-03-02&action=referral.submitted") == {
        e.id for e in everything if e.action == "referral.submitted" and e.object_id == str(late.id)}


@pytest.mark.parametrize("query", [
    "date_from=yesterday", "organization=999999", "action=no.such.action", "object_type=spaceship",
    "object_type=user&object=abc", "object_type=user&object=UC-2026-00001", "object=١٢", "before=-3", "after=x",
])
def test_a_filter_it_cannot_use_is_refused_with_a_reason_and_nothing_recorded(make, admin, query):
    before = len(events())

    for path in ("/audit", "/audit.csv"):
        response = admin.get(f"{path}?{query}")
        assert response.status_code == 400, (path, query)
        assert 'class="refusal"' in text(response)
    assert len(events()) == before


# --- paging --------------------------------------------------------------------------------

def test_older_and_newer_pages_meet_without_gaps_or_repeats(make, admin):
    someone = make.user("admin")
    with _acting(someone):
        for n in range(120):
            audit.record("pool.counts", "bed_pool", n + 1, {"occupied": n % 5, "out_of_service": 0, "held": 0})
    db.session.commit()
    everything = sorted((e.id for e in events("pool.counts")), reverse=True)

    pages, url = [], "/audit?action=pool.counts"
    while url:
        page = text(admin.get(url))
        pages.append(ids_on(page))
        older = re.search(r'href="([^"]*before=\d+[^"]*)" rel="next"', page)
        url = older.group(1).replace("&amp;", "&") if older else None
    assert [len(p) for p in pages] == [50, 50, 20]
    assert [i for p in pages for i in p] == everything

    page = text(admin.get(f"/audit?action=pool.counts&before={pages[1][-1]}"))  # the last page
    newer = re.search(r'href="([^"]*after=\d+[^"]*)" rel="prev"', page).group(1).replace("&amp;", "&")
    assert ids_on(text(admin.get(newer))) == pages[1]
    first = text(admin.get(f"/audit?action=pool.counts&after={pages[1][0]}"))
    assert ids_on(first) == pages[0]
    assert 'rel="prev"' not in first  # nothing newer than the newest


# --- the download ----------------------------------------------------------------------------

def test_the_download_is_the_filtered_view_with_a_bom_and_no_formulas(make, admin):
    with _acting(admin.user):
        region = admin_services.create_region("HX1", '=HYPERLINK("http://evil.example","x")')
        admin_services.create_region("HX2", "Naxçıvan")
    db.session.commit()
    make.referral(status="submitted")

    response = admin.get("/audit.csv?action=region.create")

    assert response.status_code == 200
    assert response.mimetype == "text/csv"
    body = response.get_data()
    assert body.startswith("\ufeff".encode("utf-8"))
    rows = list(csv.reader(io.StringIO(body.decode("utf-8-sig"))))
    header, lines = rows[0], rows[1:]
    assert header[:3] == ["Event", "Time (UTC)", "Time (local)"] and len(header) == 10
    assert len(lines) == 2  # the two regions only, newest first
    assert lines[0][7:9] == ["Region", "Naxçıvan"]
    assert lines[1][8] == "'" + region.name  # never a formula
    assert lines[1][3:5] == [admin.user.name, admin.user.organization.name]
    assert lines[1][6] == f"{admin.user.name} ({admin.user.organization.name}) added the region {region.name}"
    assert lines[1][1].endswith("+00:00") and lines[1][2].endswith("+04:00")


def test_a_download_is_recorded_with_its_filters_and_reads_as_a_sentence(make, admin, oversight):
    organization = make.organization(name="Təmiz Dünya")
    response = oversight.get(f"/audit.csv?action=login&date_from=2026-01-01&organization={organization.id}")
    assert response.status_code == 200
    response.get_data()

    export = events("audit.export")[-1]
    assert export.user_id == oversight.user.id
    assert export.details["filters"] == {"action": "login", "date_from": "2026-01-01",
                                         "organization": str(organization.id)}
    page = plain(text(admin.get("/audit?action=audit.export")))
    assert f"{who(oversight.user)} downloaded the audit trail as a spreadsheet (CSV)" in page
    assert "Filters: Organization: Təmiz Dünya; Action: Signed in; From: 2026-01-01" in page


def test_a_download_never_holds_a_childs_name(accepted, oversight):
    body = oversight.get("/audit.csv").get_data().decode("utf-8-sig")

    assert accepted.child.case_reference in body
    assert CHILD_NAME[0] not in body and CHILD_NAME[1] not in body

