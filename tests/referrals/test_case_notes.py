"""Case notes on a child: read and written only by those who may see the child's name, each in
the audit trail without its text, never changed, newest first a page at a time, blanked by
anonymization and printed with the record."""
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import func, select

from coordination import clock
from coordination.audit.models import AuditEvent
from coordination.extensions import db
from coordination.referrals import notes
from coordination.referrals.models import NOTE_MAX_LENGTH, CaseNote

from ..conftest import _acting

SECRET = "Her uncle in Ganja called; she is afraid of him"


def note_count(child) -> int:
    return db.session.scalar(select(func.count(CaseNote.id)).where(CaseNote.child_id == child.id))


def write(user, child, body=SECRET):
    with _acting(user):
        note = notes.write_note(user, child, body)
    db.session.commit()
    return note


@pytest.fixture
def case(make):
    """A child referred to a shelter in the region of a guardianship body: everyone around the child."""
    referral = make.referral(status="accepted")
    shelter = referral.pool.shelter
    return {
        "referral": referral, "child": referral.child, "caseworker": referral.caseworker,
        "staff": make.user("shelter_staff", organization=shelter.organization),
        "guardian": make.user("guardianship", organization=make.organization(kind="state", region=shelter.region)),
    }


def test_a_caseworker_writes_a_note_on_the_child_page_and_reads_it_signed(case, login_as):
    caseworker = login_as(case["caseworker"])
    child = case["child"]
    response = caseworker.post(f"/children/{child.id}/notes", {"body": f"  {SECRET}  ", "back": f"/children/{child.id}"})
    assert response.status_code == 303 and response.headers["Location"].endswith(f"/children/{child.id}")
    page = caseworker.get(f"/children/{child.id}").get_data(as_text=True)
    assert SECRET in page and case["caseworker"].name in page and case["caseworker"].organization.name in page
    note = db.session.scalars(select(CaseNote).where(CaseNote.child_id == child.id)).one()
    assert note.body == SECRET and note.author_id == case["caseworker"].id
    assert note.organization_id == case["caseworker"].organization_id


def test_the_time_of_a_note_is_shown_in_the_readers_zone(case, login_as):
    clock.freeze(datetime(2026, 3, 2, 21, 30, tzinfo=timezone.utc))  # 01:30 the next day in Baku
    write(case["caseworker"], case["child"])
    page = login_as(case["caseworker"]).get(f"/children/{case['child'].id}/notes").get_data(as_text=True)
    assert "1:30" in page and "Mar 3, 2026" in page


@pytest.mark.parametrize("who", ["caseworker", "staff", "guardian"])
def test_everyone_who_may_see_the_name_reads_and_writes_notes(case, login_as, who):
    write(case["caseworker"], case["child"], "First word from the caseworker")
    person = login_as(case[who])
    child = case["child"]
    assert "First word from the caseworker" in person.get(f"/children/{child.id}/notes").get_data(as_text=True)
    response = person.post(f"/children/{child.id}/notes", {"body": f"Seen by {who}"})
    assert response.status_code == 303
    assert note_count(child) == 2


@pytest.mark.parametrize("who", ["staff", "guardian", "caseworker"])
def test_the_referral_page_shows_the_notes_to_those_who_see_the_name(case, login_as, who):
    write(case["caseworker"], case["child"])
    page = login_as(case[who]).get(f"/referrals/{case['referral'].id}").get_data(as_text=True)
    assert SECRET in page and 'id="case-notes"' in page


def test_shelter_staff_read_no_note_before_they_accept_the_child(make, login_as):
    referral = make.referral(status="submitted")
    write(referral.caseworker, referral.child)
    staff = login_as(make.user("shelter_staff", organization=referral.pool.shelter.organization))
    page = staff.get(f"/referrals/{referral.id}").get_data(as_text=True)
    assert referral.child.full_name not in page and SECRET not in page and 'id="case-notes"' not in page
    assert staff.get(f"/children/{referral.child.id}/notes").status_code == 404
    assert staff.post(f"/children/{referral.child.id}/notes", {"body": "hello"}).status_code == 404
    assert note_count(referral.child) == 1


@pytest.mark.parametrize("stranger", ["other caseworker", "other staff", "other guardian", "oversight", "admin"])
def test_nobody_else_reads_or_writes_a_note_it_is_404(case, make, login_as, stranger):
    write(case["caseworker"], case["child"])
    other_region = make.region()
    user = {
        "other caseworker": lambda: make.user("caseworker"),
        "other staff": lambda: make.user("shelter_staff"),
        "other guardian": lambda: make.user("guardianship", organization=make.organization("state", other_region)),
        "oversight": lambda: make.user("oversight"),
        "admin": lambda: make.user("admin"),
    }[stranger]()
    person = login_as(user)
    child = case["child"]
    assert person.get(f"/children/{child.id}/notes").status_code == 404
    assert person.post(f"/children/{child.id}/notes", {"body": "sneaky"}).status_code == 404
    assert SECRET not in person.get(f"/referrals/{case['referral'].id}").get_data(as_text=True)
    assert note_count(child) == 1


def test_a_guardian_sees_no_note_of_a_draft_referral_in_the_region(make, login_as):
    referral = make.referral(status="draft")
    write(referral.caseworker, referral.child)
    guardian = make.user("guardianship", organization=make.organization("state", referral.pool.shelter.region))
    assert login_as(guardian).get(f"/children/{referral.child.id}/notes").status_code == 404


def test_each_note_is_in_the_audit_trail_without_its_text(case, login_as, make):
    login_as(case["staff"]).post(f"/children/{case['child'].id}/notes", {"body": SECRET})
    event = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "child.note")).one()
    assert event.user_id == case["staff"].id and event.organization_id == case["staff"].organization_id
    assert (event.object_type, event.object_id) == ("child", str(case["child"].id))
    assert event.details["case_reference"] == case["child"].case_reference
    assert SECRET not in str(event.details) and "uncle" not in str(event.details)
    trail = login_as(make.user("oversight")).get("/audit?action=child.note").get_data(as_text=True)
    assert "wrote a case note on" in trail and case["child"].case_reference in trail and SECRET not in trail


def test_reading_the_notes_page_is_a_view_of_the_name(case, login_as):
    login_as(case["guardian"]).get(f"/children/{case['child'].id}/notes")
    views = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "child.view",
                                                        AuditEvent.user_id == case["guardian"].id)).all()
    assert [v.details["page"] for v in views] == ["notes"]


@pytest.mark.parametrize("body, says", [
    ("", "an empty note is not kept"),
    ("   \n\t ", "an empty note is not kept"),
    ("x" * (NOTE_MAX_LENGTH + 1), "within 4,000 characters"),
])
@pytest.mark.parametrize("htmx", [False, True])
def test_an_empty_or_too_long_note_is_refused_with_the_reason_and_nothing_kept(case, login_as, body, says, htmx):
    person = login_as(case["staff"])
    before = db.session.scalar(select(func.count(AuditEvent.id)).where(AuditEvent.action == "child.note"))
    response = person.post(f"/children/{case['child'].id}/notes", {"body": body}, htmx=htmx)
    assert response.status_code == 422
    text = response.get_data(as_text=True)
    assert says in text
    assert ("<html" in text) is not htmx  # htmx gets the notes section alone
    assert note_count(case["child"]) == 0
    assert db.session.scalar(select(func.count(AuditEvent.id)).where(AuditEvent.action == "child.note")) == before


def test_a_note_of_exactly_the_limit_is_kept(case):
    write(case["caseworker"], case["child"], "ə" * NOTE_MAX_LENGTH)
    assert note_count(case["child"]) == 1


def test_htmx_gets_the_notes_again_with_the_new_note_first_and_the_form_empty(case, login_as):
    write(case["caseworker"], case["child"], "older note")
    response = login_as(case["staff"]).post(f"/children/{case['child'].id}/notes",
                                            {"body": "newer note", "back": f"/referrals/{case['referral'].id}"},
                                            htmx=True)
    assert response.status_code == 200
    text = response.get_data(as_text=True)
    assert text.index("newer note") < text.index("older note")
    assert "<html" not in text and 'id="case-notes"' in text
    assert "newer note</textarea>" not in text


def test_the_way_back_after_a_note_is_only_a_page_of_this_app(case, login_as):
    response = login_as(case["caseworker"]).post(f"/children/{case['child'].id}/notes",
                                                 {"body": "hello", "back": "//evil.example/"})
    assert response.status_code == 303
    assert response.headers["Location"].endswith(f"/children/{case['child'].id}/notes")


def test_notes_come_newest_first_a_page_at_a_time(case, login_as):
    start = datetime(2026, 3, 2, 9, tzinfo=timezone.utc)
    for n in range(notes.NOTES_PER_PAGE + 5):
        clock.freeze(start + timedelta(minutes=n))
        write(case["caseworker"], case["child"], f"note number {n:02d}")
    person = login_as(case["guardian"])
    first = person.get(f"/children/{case['child'].id}/notes").get_data(as_text=True)
    shown = [n for n in range(25) if f"note number {n:02d}" in first]
    assert shown == list(range(5, 25))
    assert first.index("note number 24") < first.index("note number 05")
    older = select_link(first, "next")
    second = person.get(older).get_data(as_text=True)
    assert [n for n in range(25) if f"note number {n:02d}" in second] == list(range(0, 5))
    # The child's own page shows the newest few and the way to them all.
    child_page = login_as(case["caseworker"]).get(f"/children/{case['child'].id}").get_data(as_text=True)
    assert "note number 24" in child_page and "note number 10" not in child_page
    assert "All case notes" in child_page


def select_link(html: str, rel: str) -> str:
    import re

    return re.search(rf'href="([^"]+)" rel="{rel}"', html).group(1).replace("&amp;", "&")


def test_a_note_is_never_changed_a_correction_is_a_new_note(case, login_as):
    first = write(case["caseworker"], case["child"], "She speaks Farsi")
    write(case["caseworker"], case["child"], "Correction: she speaks Dari, not Farsi")
    db.session.expire_all()
    assert db.session.get(CaseNote, first.id).body == "She speaks Farsi"
    assert note_count(case["child"]) == 2


def test_the_printable_record_holds_the_notes(case, login_as):
    write(case["staff"], case["child"], "Arrived tired; slept well")
    page = login_as(case["caseworker"]).get(f"/children/{case['child'].id}/print").get_data(as_text=True)
    assert "Case notes" in page and "Arrived tired; slept well" in page and case["staff"].name in page


def test_anonymizing_blanks_the_notes_text_and_keeps_who_wrote_when(app, make, login_as):
    clock.freeze(datetime(2026, 3, 1, 12, tzinfo=timezone.utc))
    referral = make.referral(status="declined")
    child = referral.child
    write(referral.caseworker, child)
    kept = make.child()
    write(kept.registered_by, kept, "Not old enough to go")
    clock.freeze(datetime(2026, 6, 1, tzinfo=timezone.utc))
    kept_referral = make.referral(child=kept, status="placed")  # a live case is never anonymized

    result = app.test_cli_runner().invoke(args=["anonymize", "--ended-before", "2026-05-01"])
    assert result.exit_code == 0, result.output

    db.session.expire_all()
    note = db.session.scalars(select(CaseNote).where(CaseNote.child_id == child.id)).one()
    assert note.body == "" and note.author_id == referral.caseworker.id and note.created_at is not None
    assert db.session.scalars(select(CaseNote.body).where(CaseNote.child_id == kept.id)).one() == "Not old enough to go"
    caseworker = login_as(referral.caseworker)
    page = caseworker.get(f"/children/{child.id}/notes").get_data(as_text=True)
    assert SECRET not in page and "text removed for data protection" in page
    printed = caseworker.get(f"/children/{child.id}/print").get_data(as_text=True)
    assert SECRET not in printed and "text removed for data protection" in printed
    refused = caseworker.post(f"/children/{child.id}/notes", {"body": "one more"})
    assert refused.status_code == 422 and "anonymized" in refused.get_data(as_text=True)
    assert kept_referral.status == "placed"


def test_the_database_itself_refuses_a_note_longer_than_the_limit(case):
    from sqlalchemy.exc import IntegrityError

    db.session.add(CaseNote(child_id=case["child"].id, author_id=case["caseworker"].id,
                            organization_id=case["caseworker"].organization_id, body="x" * (NOTE_MAX_LENGTH + 1)))
    with pytest.raises(IntegrityError):
        db.session.flush()
    db.session.rollback()
