"""E-mail for the steps that need someone to act: sent to a real SMTP server on loopback
(tests/notifications/smtp.py) and read as it arrived. Each names the case by reference and
links to it, never names the child, reaches only those who act and want it, in their
language; nothing is sent for a step rolled back; with no SMTP server it goes to the log;
a server that is down leaves it to be tried again; two senders never send one twice."""
import logging
import re
import threading
import traceback
from datetime import timedelta

import pytest
from flask_babel import force_locale
from sqlalchemy import func, select

from coordination import clock
from coordination.audit.models import AuditEvent
from coordination.config import ConfigError, from_environment
from coordination.extensions import db
from coordination.notifications import mail, sending
from coordination.notifications.models import Notification, OutgoingMail
from coordination.notifications.services import CHILD_TEXTS, TEXTS
from coordination.referrals import services as referrals

from ..conftest import _acting, make_app
from .conftest import PUBLIC_URL, mail_settings
from .smtp import SmtpServer

GIVEN, FAMILY = "Zəhra", "Hüseynova"


@pytest.fixture
def shelter(make):
    """A pool of a shelter whose organization has two staff, one reading Azerbaijani, one Russian."""
    organization = make.organization()
    pool = make.pool(shelter=make.shelter(organization=organization))
    staff = [make.user("shelter_staff", organization=organization, locale="az"),
             make.user("shelter_staff", organization=organization, locale="ru")]
    return pool, staff


def draft_for(make, pool):
    child = make.child(given_name=GIVEN, family_name=FAMILY)
    return make.referral(pool=pool, child=child)


def submit_on_the_page(login_as, referral):
    caseworker = login_as(referral.caseworker)
    # buffered: the test client then closes the answer as a server does once it is sent,
    # which is when the request's e-mails go.
    response = caseworker.post(f"/referrals/{referral.id}/submit", {}, buffered=True)
    assert response.status_code == 303, response.get_data(as_text=True)
    return response


def subject_in(language: str, key: str, reference: str) -> str:
    with force_locale(language):
        return str(mail.KINDS[key].subject) % {"ref": reference}


def assert_names_no_child(received) -> None:
    for part in (received.subject, received.text, received.raw.decode("utf-8", "replace")):
        assert GIVEN not in part and FAMILY not in part


def outbox() -> list[OutgoingMail]:
    db.session.expire_all()
    return list(db.session.scalars(select(OutgoingMail).order_by(OutgoingMail.id)))


# --- what is sent, to whom ---------------------------------------------------------------------

def test_a_submitted_referral_mails_each_shelter_worker_once_with_the_case_reference_and_a_link(
        make, login_as, shelter, smtp):
    pool, staff = shelter
    referral = draft_for(make, pool)
    reference = referral.child.case_reference

    submit_on_the_page(login_as, referral)

    assert sorted(m.envelope_to[0] for m in smtp.messages) == sorted(user.email for user in staff)
    for user in staff:
        [received] = smtp.to(user.email)
        assert received.subject == subject_in(user.locale, "referral.submitted", reference)
        assert f"{PUBLIC_URL}/referrals/{referral.id}" in received.text
        assert f"{PUBLIC_URL}/account" in received.text
        assert received.message["Auto-Submitted"] == "auto-generated"
        assert_names_no_child(received)
    assert all(row.sent_at is not None and row.attempts == 1 for row in outbox())


def test_each_mail_is_in_its_readers_language(make, login_as, shelter, smtp):
    pool, (azerbaijani, russian) = shelter
    referral = draft_for(make, pool)

    submit_on_the_page(login_as, referral)

    english = subject_in("en", "referral.submitted", referral.child.case_reference)
    [to_az], [to_ru] = smtp.to(azerbaijani.email), smtp.to(russian.email)
    assert to_az.subject != english and to_ru.subject != english and to_az.subject != to_ru.subject
    with force_locale("ru"):
        assert str(mail.KINDS["referral.submitted"].subject) in to_ru.text.replace(
            referral.child.case_reference, "%(ref)s")


def test_a_placement_decision_due_mails_the_regions_guardianship_officer_but_not_the_caseworker(make, smtp):
    """The caseworker is told of the acceptance in the app; only the officer must act on it."""
    pool = make.pool()
    guardian = make.user("guardianship", organization=make.organization(kind="state", region=pool.shelter.region))
    referral = make.referral(pool=pool, child=make.child(given_name=GIVEN, family_name=FAMILY), status="accepted")

    run = sending.send_pending_mail()

    assert run.sent == 1
    [received] = smtp.messages
    assert received.envelope_to == [guardian.email]
    assert received.subject == subject_in("en", "referral.accepted", referral.child.case_reference)
    assert_names_no_child(received)
    told = db.session.scalars(select(Notification.user_id).where(Notification.text_key == "referral.accepted")).all()
    assert referral.caseworker_id in told


def test_someone_who_turned_a_kind_off_gets_the_notification_but_no_mail(make, login_as, shelter, smtp):
    pool, (wants, does_not) = shelter
    with _acting(does_not):
        mail.choose_mail_kinds(does_not, ["referral.approved"])
    db.session.commit()
    referral = draft_for(make, pool)

    submit_on_the_page(login_as, referral)

    assert [m.envelope_to for m in smtp.messages] == [[wants.email]]
    assert db.session.scalar(select(func.count(Notification.id)).where(
        Notification.user_id == does_not.id, Notification.referral_id == referral.id)) == 1


def test_a_step_rolled_back_leaves_no_mail_to_send(make, shelter, smtp):
    pool, _staff = shelter
    referral = draft_for(make, pool)
    with _acting(referral.caseworker):
        referrals.move(referral, "submit", referral.caseworker)
    db.session.flush()
    assert db.session.scalar(select(func.count(OutgoingMail.id))) == 2  # written with the step ...
    db.session.rollback()  # ... and undone with it

    assert mail.committed_mail() == []
    assert sending.send_pending_mail().sent == 0
    assert outbox() == [] and smtp.messages == []


# --- with no SMTP server: the log --------------------------------------------------------------

def test_with_no_mail_server_the_message_is_written_to_the_log(app, make, login_as, shelter, caplog, monkeypatch):
    monkeypatch.setitem(app.config, "MAIL_SERVER", "")
    monkeypatch.setitem(app.config, "PUBLIC_URL", PUBLIC_URL)
    pool, staff = shelter
    referral = draft_for(make, pool)

    with caplog.at_level(logging.WARNING, logger="coordination.notifications.sending"):
        submit_on_the_page(login_as, referral)

    logged = [r.getMessage() for r in caplog.records if r.name == "coordination.notifications.sending"]
    assert len(logged) == 2
    assert all(referral.child.case_reference in text and f"{PUBLIC_URL}/referrals/{referral.id}" in text
               for text in logged)
    assert {user.email for user in staff} == {re.search(r"to (\S+?):", text).group(1) for text in logged}
    assert not any(GIVEN in text or FAMILY in text for text in logged)
    assert all(row.sent_at is not None for row in outbox())


# --- failures and retries ----------------------------------------------------------------------

def test_while_the_mail_server_is_down_the_mail_waits_with_its_error_and_goes_on_a_later_run(
        app, make, shelter, smtp_server):
    pool, staff = shelter
    referral = draft_for(make, pool)
    with _acting(referral.caseworker):
        referrals.move(referral, "submit", referral.caseworker)
    db.session.commit()

    run = sending.send_pending_mail()  # nothing listens on the port

    assert (run.sent, run.failed) == (0, 2)
    rows = outbox()
    assert all(row.sent_at is None and row.given_up_at is None and row.attempts == 1 for row in rows)
    assert all("Connection refused" in row.last_error or "ConnectionRefused" in row.last_error for row in rows)
    assert sending.send_pending_mail().failed == 0  # not tried again at once

    smtp_server.start()
    clock.freeze(clock.now() + timedelta(minutes=2))
    result = app.test_cli_runner().invoke(args=["send-mail"])

    assert result.exit_code == 0, result.output
    assert "2 sent" in result.output
    assert sorted(m.envelope_to[0] for m in smtp_server.inbox.messages) == sorted(u.email for u in staff)
    assert all(row.sent_at is not None and row.attempts == 2 and row.last_error is None for row in outbox())


def test_a_mail_that_keeps_failing_is_given_up_after_the_last_try(app, make, shelter, smtp_server, monkeypatch):
    monkeypatch.setitem(app.config, "MAIL_MAX_ATTEMPTS", 2)
    pool, _staff = shelter
    make.referral(pool=pool, status="submitted")

    first = sending.send_pending_mail()
    clock.freeze(clock.now() + timedelta(minutes=2))
    second = sending.send_pending_mail()
    clock.freeze(clock.now() + timedelta(hours=2))
    third = sending.send_pending_mail()

    assert (first.failed, second.given_up, third.sent + third.failed + third.given_up) == (2, 2, 0)
    assert all(row.given_up_at is not None and row.sent_at is None and row.last_error for row in outbox())


def test_mail_to_someone_whose_account_was_deactivated_meanwhile_is_not_sent(make, shelter, smtp):
    pool, (leaving, staying) = shelter
    make.referral(pool=pool, status="submitted")
    leaving.active = False
    db.session.commit()

    run = sending.send_pending_mail()

    assert (run.sent, run.given_up) == (1, 1)
    assert [m.envelope_to for m in smtp.messages] == [[staying.email]]


def test_two_senders_at_once_send_each_mail_exactly_once(app, make, database_url, smtp_server, monkeypatch):
    """As two servers' periodic commands would: each claims its e-mails with a conditional
    UPDATE, one at a time here so that they interleave, from a connection of its own."""
    organization = make.organization()
    pool = make.pool(shelter=make.shelter(organization=organization))
    staff = [make.user("shelter_staff", organization=organization) for _ in range(8)]
    make.referral(pool=pool, status="submitted")
    smtp_server.start()
    monkeypatch.setattr(sending, "BATCH", 1)
    options = {"pool_size": 4, "max_overflow": 0}
    if database_url.startswith("sqlite"):
        options["connect_args"] = {"timeout": 30}
    servers = [make_app(database_url, SQLALCHEMY_ENGINE_OPTIONS=options, **mail_settings(smtp_server.port))
               for _ in range(2)]
    barrier = threading.Barrier(2)
    runs, failures = [], []

    def send(server):
        try:
            with server.app_context():
                barrier.wait()
                runs.append(sending.send_pending_mail())
                db.session.remove()
        except Exception:  # noqa: BLE001 - reported by the test
            failures.append(traceback.format_exc())

    threads = [threading.Thread(target=send, args=(server,)) for server in servers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    for server in servers:
        with server.app_context():
            db.engine.dispose()

    assert failures == []
    assert sorted(m.envelope_to[0] for m in smtp_server.inbox.messages) == sorted(u.email for u in staff)
    assert sum(run.sent for run in runs) == 8
    assert all(row.sent_at is not None and row.attempts == 1 for row in outbox())


def test_periodic_sends_the_mail_of_the_holds_it_closed(app, make, smtp):
    referral = make.referral(status="submitted", child=make.child(given_name=GIVEN, family_name=FAMILY))
    clock.freeze(referral.hold_until + timedelta(minutes=1))

    result = app.test_cli_runner().invoke(args=["periodic"])

    assert result.exit_code == 0, result.output
    assert "Expired 1 hold(s)." in result.output and "E-mail: 1 sent" in result.output
    [received] = smtp.messages
    assert received.envelope_to == [referral.caseworker.email]
    assert received.subject == subject_in("en", "referral.expired", referral.child.case_reference)
    assert_names_no_child(received)


# --- the account page ----------------------------------------------------------------------------

CHECKED = re.compile(r'<input (checked )?id="kinds-\d+" name="kinds" type="checkbox" value="([^"]+)">')


def offered(page: str) -> dict[str, bool]:
    return {value: bool(checked) for checked, value in CHECKED.findall(page)}


def test_the_account_page_offers_the_kinds_a_role_acts_on_all_ticked_at_first(login_as):
    staff = login_as("shelter_staff")
    assert offered(staff.get("/account").get_data(as_text=True)) == {
        "referral.submitted": True, "referral.approved": True, "escalation.actors": True}
    guardian = login_as("guardianship")
    assert offered(guardian.get("/account").get_data(as_text=True)) == {
        "referral.accepted": True, "referral.emergency_placed": True, "referral.missing": True,
        "escalation.actors": True, "escalation.guardianship": True}
    assert offered(login_as("oversight").get("/account").get_data(as_text=True)) == {"escalation.oversight": True,
                                                                                    "found.unplaced": True}
    admin_page = login_as("admin").get("/account").get_data(as_text=True)
    assert offered(admin_page) == {} and "/account/mail" not in admin_page


def test_unticking_a_kind_on_the_account_page_turns_it_off_and_is_audited(login_as):
    staff = login_as("shelter_staff")

    response = staff.post("/account/mail", {"kinds": ["referral.approved", "escalation.actors"]})

    assert response.status_code == 303 and response.headers["Location"].endswith("/account")
    db.session.refresh(staff.user)
    assert staff.user.mail_turned_off == ["referral.submitted"]
    assert offered(staff.get("/account").get_data(as_text=True)) == {
        "referral.submitted": False, "referral.approved": True, "escalation.actors": True}
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "user.mail_choice"))
    assert event.user_id == staff.user.id and event.details["turned_off"] == ["referral.submitted"]
    assert not mail.wants_mail(staff.user, "referral.submitted") and mail.wants_mail(staff.user, "referral.approved")


def test_a_kind_not_offered_to_the_role_is_refused_and_nothing_changes(login_as):
    staff = login_as("shelter_staff")

    response = staff.post("/account/mail", {"kinds": ["referral.submitted", "referral.accepted"]})

    assert response.status_code == 422
    assert "Choose from the kinds of e-mail offered." in response.get_data(as_text=True)
    db.session.refresh(staff.user)
    assert staff.user.mail_turned_off == []
    assert db.session.scalar(select(AuditEvent).where(AuditEvent.action == "user.mail_choice")) is None


def test_the_choice_without_its_form_token_is_refused(login_as):
    staff = login_as("shelter_staff")
    response = staff.post("/account/mail", {"kinds": []}, csrf=False)
    assert response.status_code == 400
    db.session.refresh(staff.user)
    assert staff.user.mail_turned_off == []


# --- the table of kinds and the settings --------------------------------------------------------

def test_every_kind_of_mail_is_a_notification_with_someone_to_act_on_it():
    for kind in mail.MAIL_KINDS:
        assert (kind.key in TEXTS or kind.key in CHILD_TEXTS) and kind.roles, kind.key
        assert "%(ref)s" in str(kind.subject), kind.key


def test_a_mail_server_needs_a_sender_and_links_need_a_web_address(tmp_path):
    with pytest.raises(ConfigError, match="MAIL_DEFAULT_SENDER"):
        from_environment(str(tmp_path), environ={"MAIL_SERVER": "smtp.example.az"})
    with pytest.raises(ConfigError, match="PUBLIC_URL"):
        from_environment(str(tmp_path), environ={"PUBLIC_URL": "beds.example.az"})
    config = from_environment(str(tmp_path), environ={
        "MAIL_SERVER": "smtp.example.az", "MAIL_DEFAULT_SENDER": "no-reply@beds.example.az",
        "MAIL_USE_TLS": "true", "MAIL_PORT": "587", "PUBLIC_URL": "https://beds.example.az/"})
    assert (config["MAIL_SERVER"], config["MAIL_PORT"], config["MAIL_USE_TLS"], config["PUBLIC_URL"]) == (
        "smtp.example.az", 587, True, "https://beds.example.az")
    assert from_environment(str(tmp_path), environ={})["MAIL_SERVER"] == ""  # log only


def test_the_demo_days_notifications_never_go_by_mail(app, smtp):
    result = app.test_cli_runner().invoke(args=["seed-demo"])

    assert result.exit_code == 0, result.output
    rows = outbox()
    assert rows and all(row.given_up_at is not None and row.sent_at is None for row in rows)
    assert sending.send_pending_mail().sent == 0 and smtp.messages == []


def test_a_mail_server_that_does_not_answer_is_waited_for_once_per_run_not_once_per_mail(
        app, make, shelter, monkeypatch):
    """Otherwise a request telling several people would wait MAIL_TIMEOUT for each of them."""
    import socket

    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(8)
    accepted = []

    def accept_and_say_nothing():
        while True:
            try:
                connection, _address = listener.accept()
            except OSError:
                return
            accepted.append(connection)

    threading.Thread(target=accept_and_say_nothing, daemon=True).start()
    monkeypatch.setitem(app.config, "MAIL_TIMEOUT", 1)
    for key, value in mail_settings(listener.getsockname()[1]).items():
        if key != "MAIL_TIMEOUT":
            monkeypatch.setitem(app.config, key, value)
    pool, _staff = shelter
    make.referral(pool=pool, status="submitted")
    try:
        run = sending.send_pending_mail()
    finally:
        listener.close()
        for connection in accepted:
            connection.close()

    assert run.failed == 2 and len(accepted) == 1
    assert all("timed out" in row.last_error for row in outbox())


def test_no_transaction_is_open_while_the_mail_server_is_talked_to(make, shelter, smtp, monkeypatch):
    """On SQLite an open transaction would hold the write lock for every request meanwhile."""
    deliver, open_during = sending._Postbox.deliver, []

    def watched(postbox, letter):
        open_during.append(db.session().in_transaction())
        return deliver(postbox, letter)

    monkeypatch.setattr(sending._Postbox, "deliver", watched)
    pool, _staff = shelter
    make.referral(pool=pool, status="submitted")

    assert sending.send_pending_mail().sent == 2
    assert open_during == [False, False]
