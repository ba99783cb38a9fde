"""The audit trail cannot be changed behind its back without verify-audit saying so."""
import threading

from sqlalchemy import func, select, text

from coordination.audit import services as audit
from coordination.audit.models import AuditEvent
from coordination.extensions import db



def verify(app):
    result = app.test_cli_runner().invoke(args=["verify-audit"])
    return result.exit_code, result.output


def some_history(make, login_as):
    """A real trail: a referral walked to placed, counts edited, a sign-in, a child viewed."""
    referral = make.referral(status="placed")
    caseworker = login_as(referral.caseworker)
    caseworker.get(f"/children/{referral.child_id}")
    return referral


def ids() -> list[int]:
    return list(db.session.scalars(select(AuditEvent.id).order_by(AuditEvent.id)))


def test_an_untouched_trail_verifies(app, make, login_as):
    some_history(make, login_as)
    code, output = verify(app)
    assert code == 0, output
    assert "intact" in output


def test_every_move_login_and_child_view_is_in_the_trail(app, make, login_as):
    referral = some_history(make, login_as)
    actions = set(db.session.scalars(select(AuditEvent.action)))
    assert {"child.register", "referral.draft", "referral.submitted", "referral.accepted",
            "referral.approved", "referral.placed", "login", "child.view"} <= actions
    view = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "child.view")).one()
    assert (view.user_id, view.object_id) == (referral.caseworker_id, str(referral.child_id))
    assert view.client_address == "127.0.0.1"


def test_an_altered_event_is_named(app, make, login_as):
    some_history(make, login_as)
    target = ids()[3]
    db.session.execute(text("UPDATE audit_event SET action = 'referral.withdrawn' WHERE id = :id"), {"id": target})
    db.session.commit()
    code, output = verify(app)
    assert code != 0
    assert f"event {target}" in output and "altered" in output


def test_altered_details_are_caught_too(app, make, login_as):
    some_history(make, login_as)
    target = ids()[2]
    db.session.execute(text("UPDATE audit_event SET client_address = '10.6.6.6' WHERE id = :id"), {"id": target})
    db.session.commit()
    code, output = verify(app)
    assert code != 0 and f"event {target}" in output


def test_a_removed_event_is_named(app, make, login_as):
    some_history(make, login_as)
    all_ids = ids()
    db.session.execute(text("DELETE FROM audit_event WHERE id = :id"), {"id": all_ids[4]})
    db.session.commit()
    code, output = verify(app)
    assert code != 0
    assert f"event {all_ids[5]}" in output  # the first one whose link is now broken


def test_events_cut_from_the_end_are_noticed(app, make, login_as):
    some_history(make, login_as)
    all_ids = ids()
    db.session.execute(text("DELETE FROM audit_event WHERE id >= :id"), {"id": all_ids[-2]})
    db.session.commit()
    code, output = verify(app)
    assert code != 0 and "removed from the end" in output


def test_an_inserted_event_is_named(app, make, login_as):
    some_history(make, login_as)
    all_ids = ids()
    copy = db.session.get(AuditEvent, all_ids[2])
    forged_id = all_ids[2] * 1000 + 1  # any id; it is placed between two real events below
    db.session.execute(text(
        "INSERT INTO audit_event (id, created_at, user_id, organization_id, action, object_type, object_id, "
        "details, client_address, previous_hash, hash) SELECT :new, created_at, user_id, organization_id, "
        "'referral.withdrawn', object_type, object_id, details, client_address, hash, :fake FROM audit_event "
        "WHERE id = :old"), {"new": forged_id, "old": copy.id, "fake": "f" * 64})
    # Renumber so the forgery sits in the middle of the chain.
    db.session.execute(text("UPDATE audit_event SET id = id + 100000 WHERE id > :id AND id <> :new"),
                       {"id": copy.id, "new": forged_id})
    db.session.execute(text("UPDATE audit_event SET id = :slot WHERE id = :new"),
                       {"slot": copy.id + 1, "new": forged_id})
    db.session.commit()
    code, output = verify(app)
    assert code != 0
    assert f"event {copy.id + 1}" in output


def test_appends_from_many_connections_at_once_stay_one_chain(app, make):
    user = make.user("caseworker")
    actor = audit.Actor(user_id=user.id, organization_id=user.organization_id, client_address="test")
    db.session.commit()  # the test's own session holds no lock while the threads write
    barrier = threading.Barrier(12)
    errors = []

    def append(n):
        try:
            with app.app_context():
                token = audit.act_as(actor)
                barrier.wait(timeout=30)
                audit.record("test.append", "thing", n)
                db.session.commit()
                audit.reset(token)
        except Exception as error:  # pragma: no cover - reported below
            errors.append(error)

    threads = [threading.Thread(target=append, args=(n,)) for n in range(12)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert errors == []
    assert db.session.scalar(select(func.count(AuditEvent.id)).where(AuditEvent.action == "test.append")) == 12
    code, output = verify(app)
    assert code == 0, output


def test_behind_a_trusted_proxy_the_trail_records_the_clients_address(database_url, make):
    from coordination.audit.models import AuditEvent as Event

    from ..conftest import Client, make_app

    email = make.user("caseworker").email
    db.session.commit()
    for hops, expected in ((1, "203.0.113.9"), (0, "127.0.0.1")):
        proxied = make_app(database_url, PROXY_HOPS=hops)
        with proxied.app_context():
            client = Client(proxied)
            client.http.environ_base["HTTP_X_FORWARDED_FOR"] = "203.0.113.9"
            assert client.login(email).status_code == 303
            last_login = db.session.scalars(
                select(Event).where(Event.action == "login").order_by(Event.id.desc())).first()
            assert last_login.client_address == expected
            db.session.commit()
