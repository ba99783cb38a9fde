"""Guessing, stolen sessions and weak passwords: what stands in the way."""
from datetime import timedelta

import pyotp
import pytest
from sqlalchemy import select

from coordination import clock
from coordination.accounts.models import RolePolicy, SignInPause, User
from coordination.accounts.passwords import password_problems
from coordination.audit.models import AuditEvent
from coordination.extensions import db

from ..conftest import PASSWORD, Client, at_address, make_app

GUESSER = "203.0.113.66"


def actions() -> list[str]:
    return list(db.session.scalars(select(AuditEvent.action).order_by(AuditEvent.id)))


def test_five_wrong_passwords_pause_sign_ins_from_that_address_for_a_minute(app, make):
    clock.freeze(clock.now())
    user = make.user("caseworker")
    for _ in range(5):
        assert at_address(app, GUESSER).login(user.email, password="wrong password!").status_code == 422
    paused = at_address(app, GUESSER).login(user.email)  # the right password, while paused
    assert paused.status_code == 422
    assert "sign-in from your address is paused after too many failed attempts" in paused.get_data(as_text=True)
    pause = db.session.scalar(select(SignInPause).where(SignInPause.user_id == user.id))
    assert (pause.client_address, pause.failures) == (GUESSER, 5)
    assert pause.paused_until == clock.now() + timedelta(minutes=1)
    assert actions().count("login.failed") == 6 and actions().count("user.sign_in_paused") == 1

    clock.freeze(clock.now() + timedelta(seconds=61))
    assert at_address(app, GUESSER).login(user.email).status_code == 303
    assert db.session.scalar(select(SignInPause).where(SignInPause.user_id == user.id)) is None


def test_a_success_resets_the_failure_count(app, make):
    user = make.user("caseworker")
    for _ in range(4):
        Client(app).login(user.email, password="wrong password!")
    assert Client(app).login(user.email).status_code == 303
    for _ in range(4):
        Client(app).login(user.email, password="wrong password!")
    assert Client(app).login(user.email).status_code == 303


def test_one_address_gets_at_most_ten_sign_in_attempts_a_minute(database_url, make):
    limited = make_app(database_url, LOGIN_RATE_LIMIT="10 per minute")
    email = make.user("caseworker").email
    db.session.commit()  # the test's own session holds no lock while the other app works
    with limited.app_context():
        client = Client(limited)
        answers = [client.login(email, password=f"wrong password {i}").status_code for i in range(10)]
        assert answers == [422] * 10
        over = client.login(email)
        assert over.status_code == 429
        assert "wait a minute" in over.get_data(as_text=True)


def test_successful_sign_in_starts_a_new_session_and_is_audited(app, make, client):
    user = make.user("caseworker")
    client.http.get("/login")
    client.http.set_cookie("session", "planted-by-an-attacker", domain="coordination.test")
    assert client.login(user.email).status_code == 303
    assert client.get("/").status_code == 200
    db.session.refresh(user)
    assert user.last_login_at is not None
    assert "login" in actions()


def test_idle_session_ends_after_thirty_minutes_but_polling_does_not_keep_it_alive(app, login_as):
    clock.freeze(clock.now())
    person = login_as("caseworker")
    clock.freeze(clock.now() + timedelta(minutes=20))
    assert person.get("/beds", htmx=True, headers={"X-Poll": "1"}).status_code == 200
    clock.freeze(clock.now() + timedelta(minutes=11))  # 31 minutes since the last real activity
    response = person.get("/beds", htmx=True, headers={"X-Poll": "1", "HX-Current-URL": "http://x/beds?free=1"})
    assert response.status_code == 401
    assert response.headers["HX-Redirect"] == "/login?next=/beds?free%3D1"
    assert person.get("/beds").status_code == 302


def test_activity_keeps_the_session(app, login_as):
    clock.freeze(clock.now())
    person = login_as("caseworker")
    for _ in range(3):
        clock.freeze(clock.now() + timedelta(minutes=25))
        assert person.get("/beds").status_code == 200


def test_logout_ends_the_session_even_for_a_copied_cookie(app, login_as):
    person = login_as("caseworker")
    cookie = person.http.get_cookie("session", domain="coordination.test").value
    assert person.post("/logout").status_code == 303
    assert person.get("/beds").status_code == 302
    replay = Client(app)
    replay.http.set_cookie("session", cookie, domain="coordination.test")
    assert replay.get("/beds").status_code == 302


@pytest.mark.parametrize("password, problem", [
    ("short pass", "at least 12"),
    ("qwerty123456", "most common"),
    ("1q2w3e4r5t6y", "most common"),
    ("leyla@example.org", "email"),
])
def test_weak_passwords_are_refused(app, password, problem):
    assert any(problem in p for p in password_problems(password, "leyla@example.org"))


def test_a_good_password_passes(app):
    assert password_problems("river lantern copper tide", "leyla@example.org") == []


def test_changing_the_password_ends_other_sessions(app, make, login_as):
    user = make.user("caseworker")
    here, elsewhere = login_as(user), login_as(user)
    response = here.post("/account/password", {"current": PASSWORD, "new": "river lantern copper tide",
                                               "confirm": "river lantern copper tide"})
    assert response.status_code == 303
    assert here.get("/beds").status_code == 200
    assert elsewhere.get("/beds").status_code == 302
    assert Client(app).login(user.email, password="river lantern copper tide").status_code == 303
    assert "password.change" in actions()


@pytest.mark.parametrize("current, new, confirm, message", [
    ("not my password", "river lantern copper tide", "river lantern copper tide", "current password is not right"),
    (PASSWORD, "qwerty123456", "qwerty123456", "most common"),
    (PASSWORD, "short", "short", "at least 12"),
    (PASSWORD, "river lantern copper tide", "something else", "differ"),
])
def test_refused_password_change_says_why_and_changes_nothing(app, make, login_as, current, new, confirm, message):
    user = make.user("caseworker")
    person = login_as(user)
    before = db.session.get(User, user.id).password_hash
    response = person.post("/account/password", {"current": current, "new": new, "confirm": confirm})
    assert response.status_code == 422
    assert message in response.get_data(as_text=True)
    db.session.refresh(user)
    assert user.password_hash == before


def test_two_factor_sign_in_asks_for_a_code_once_set_up(app, make):
    user = make.user("caseworker")
    secret = pyotp.random_base32()
    user.totp_secret = secret
    db.session.commit()
    client = Client(app)
    response = client.login(user.email)
    assert response.headers["Location"] == "/login/code"
    client._signed_in = False  # the password alone did not sign in
    assert client.get("/beds").status_code == 302
    wrong = client.post("/login/code", {"code": "000000" if pyotp.TOTP(secret).now() != "000000" else "111111"})
    assert wrong.status_code == 422
    right = client.post("/login/code", {"code": pyotp.TOTP(secret).now()})
    assert right.status_code == 303
    assert client.get("/beds").status_code == 200


def test_a_role_that_requires_two_factor_must_set_it_up_at_sign_in(app, make):
    db.session.add(RolePolicy(role="guardianship", require_totp=True))
    db.session.commit()
    user = make.user("guardianship")
    client = Client(app)
    assert client.login(user.email).headers["Location"] == "/login/code"
    client._signed_in = False
    page = client.get("/login/code").get_data(as_text=True)
    secret = page.split('<code class="secret">')[1].split("<")[0]
    assert client.post("/login/code", {"code": pyotp.TOTP(secret).now()}).status_code == 303
    db.session.refresh(user)
    assert user.totp_secret == secret
    assert "totp.enable" in actions()


def test_a_user_can_turn_two_factor_on_from_their_account(app, make, login_as):
    user = make.user("caseworker")
    person = login_as(user)
    page = person.get("/account/two-factor").get_data(as_text=True)
    secret = page.split('<code class="secret">')[1].split("<")[0]
    assert person.post("/account/two-factor", {"code": pyotp.TOTP(secret).now()}).status_code == 303
    db.session.refresh(user)
    assert user.totp_secret == secret


def test_a_wrong_current_password_is_reported_under_the_current_password(app, make, login_as):
    person = login_as(make.user("caseworker"))
    page = person.post("/account/password", {"current": "not my password", "new": "river lantern copper tide",
                                              "confirm": "river lantern copper tide"}).get_data(as_text=True)
    assert '<span class="error" id="current-error">The current password is not right.</span>' in page
    assert 'id="new-error"' not in page


def test_a_first_sign_in_with_a_temporary_password_says_so(app, make, client):
    user = make.user("caseworker")
    user.must_change_password = True
    db.session.commit()
    client.login(user.email)
    page = client.get("/account/password").get_data(as_text=True)
    assert "You signed in with a temporary password" in page
