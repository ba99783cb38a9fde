"""The second factor: a few codes per sign-in, counted on the server; each code good once;
the new key never in the cookie."""
from datetime import timedelta

import pyotp
from sqlalchemy import select

from coordination import clock
from coordination.accounts import services
from coordination.accounts.models import PendingSignIn, RolePolicy, SignInPause, User
from coordination.extensions import db

from ..conftest import PASSWORD, Client, at_address
from ..test_transactions import Meeting, server

ADDRESS = "203.0.113.9"


def with_two_factor(make, role: str = "caseworker") -> tuple[User, pyotp.TOTP]:
    user = make.user(role)
    user.totp_secret = pyotp.random_base32()
    db.session.commit()
    return user, pyotp.TOTP(user.totp_secret)


def now_code(totp: pyotp.TOTP) -> str:
    """The code the app shows now, by the app's clock (which the tests move)."""
    return totp.at(clock.now())


def wrong_code(totp: pyotp.TOTP) -> str:
    now = clock.now()
    near = {totp.at(now + timedelta(seconds=s)) for s in (-30, 0, 30)}
    return next(code for code in ("000000", "111111", "222222", "333333") if code not in near)


def password_given(app, user: User, address: str = ADDRESS) -> Client:
    client = at_address(app, address)
    assert client.login(user.email).headers["Location"] == "/login/code"
    client._signed_in = False
    return client


def cookie_of(client: Client) -> str:
    return client.http.get_cookie("session", domain="coordination.test").value


def session_of(app, client: Client) -> dict:
    """What the session cookie carries: it is signed, not encrypted, so anyone holding it can read it."""
    return app.session_interface.get_signing_serializer(app).loads(cookie_of(client))


def test_the_fifth_wrong_code_ends_the_sign_in_and_counts_as_one_failure(app, make):
    clock.freeze(clock.now())
    user, totp = with_two_factor(make)
    client = password_given(app, user)
    for _ in range(4):
        assert client.post("/login/code", {"code": wrong_code(totp)}).status_code == 422
    fifth = client.post("/login/code", {"code": wrong_code(totp)})
    assert fifth.status_code == 303 and fifth.headers["Location"] == "/login"
    assert "Five wrong codes: this sign-in has ended." in client.get("/login").get_data(as_text=True)
    client._token = None  # the ended sign-in took its session, and the form token with it
    assert redirected(client.post("/login/code", {"code": now_code(totp)})) == "/login"  # even the right code
    assert client.get("/beds").status_code == 302
    pause = db.session.scalar(select(SignInPause).where(SignInPause.user_id == user.id))
    assert (pause.client_address, pause.failures, pause.paused_until) == (ADDRESS, 1, None)
    assert db.session.scalar(select(PendingSignIn)) is None


def redirected(response) -> str:
    assert response.status_code == 303
    return response.headers["Location"]


def test_replaying_an_old_cookie_does_not_give_more_codes(app, make):
    clock.freeze(clock.now())
    user, totp = with_two_factor(make)
    client = password_given(app, user)
    client.csrf_token()
    fresh = cookie_of(client)
    for _ in range(4):
        client.post("/login/code", {"code": wrong_code(totp)})
    client.http.set_cookie("session", fresh, domain="coordination.test")  # as before any code was tried
    assert redirected(client.post("/login/code", {"code": wrong_code(totp)})) == "/login"
    client.http.set_cookie("session", fresh, domain="coordination.test")
    assert redirected(client.post("/login/code", {"code": now_code(totp)})) == "/login"
    assert db.session.get(User, user.id).last_login_at is None


def test_five_sign_ins_that_ran_out_of_codes_pause_the_address(app, make, client):
    clock.freeze(clock.now())
    user, totp = with_two_factor(make)
    for _ in range(5):
        signing_in = password_given(app, user)
        for _ in range(5):
            signing_in.post("/login/code", {"code": wrong_code(totp)})
    refused = at_address(app, ADDRESS).login(user.email)  # the right password
    assert refused.status_code == 422
    assert "is paused after too many failed attempts" in refused.get_data(as_text=True)
    assert client.login(user.email).headers["Location"] == "/login/code"  # another address goes on


def test_a_pending_sign_in_ends_when_its_address_is_paused_meanwhile(app, make):
    user, totp = with_two_factor(make)
    signing_in = password_given(app, user)
    for _ in range(5):
        at_address(app, ADDRESS).login(user.email, password="wrong password!")
    assert redirected(signing_in.post("/login/code", {"code": now_code(totp)})) == "/login"
    assert signing_in.get("/beds").status_code == 302


def test_a_new_password_ends_the_sign_ins_begun_with_the_old_one(app, make, login_as):
    user, totp = with_two_factor(make)
    begun = password_given(app, user)
    person = password_given(app, user, address="198.51.100.7")
    assert redirected(person.post("/login/code", {"code": now_code(totp)})) == "/"
    person._signed_in, person._token = True, None
    assert redirected(person.post("/account/password", {
        "current": PASSWORD, "new": "river lantern copper tide", "confirm": "river lantern copper tide"})) == "/"
    clock.freeze(clock.now() + timedelta(seconds=30))
    assert redirected(begun.post("/login/code", {"code": now_code(totp)})) == "/login"


def test_a_pending_sign_in_lasts_five_minutes(app, make):
    clock.freeze(clock.now())
    user, totp = with_two_factor(make)
    client = password_given(app, user)
    clock.freeze(clock.now() + timedelta(minutes=5, seconds=1))
    assert redirected(client.post("/login/code", {"code": now_code(totp)})) == "/login"


def test_a_code_signs_in_once_and_an_earlier_one_never_again(app, make):
    clock.freeze(clock.now())
    user, totp = with_two_factor(make)
    code = now_code(totp)
    assert redirected(password_given(app, user).post("/login/code", {"code": code})) == "/"
    again = password_given(app, user).post("/login/code", {"code": code})
    assert again.status_code == 422
    assert "That code has already been used" in again.get_data(as_text=True)
    earlier = totp.at(clock.now() - timedelta(seconds=30))  # still within the phone's leeway
    assert password_given(app, user).post("/login/code", {"code": earlier}).status_code == 422
    clock.freeze(clock.now() + timedelta(seconds=30))
    assert redirected(password_given(app, user).post("/login/code", {"code": now_code(totp)})) == "/"


def test_the_code_that_turned_two_factor_on_cannot_sign_in(app, make, login_as):
    clock.freeze(clock.now())
    user = make.user("caseworker")
    person = login_as(user)
    page = person.get("/account/two-factor").get_data(as_text=True)
    totp = pyotp.TOTP(page.split('<code class="secret">')[1].split("<")[0])
    assert redirected(person.post("/account/two-factor", {"code": now_code(totp)})) == "/account/two-factor"
    assert password_given(app, user).post("/login/code", {"code": now_code(totp)}).status_code == 422


def test_two_sign_ins_racing_with_one_code_cannot_both_pass(app, database_url, make):
    user, totp = with_two_factor(make)
    user_id, code, accepted, refused = user.id, now_code(totp), [], []
    db.session.commit()  # the test's own session holds no lock while the two race

    def sign_in():
        try:
            services.check_code(db.session.get(User, user_id), code)
            accepted.append(code)
        except services.InvalidInput:
            refused.append(code)

    with server(database_url) as other:
        meeting = Meeting(database_url, "UPDATE")  # the first waits just before its check-and-set
        try:
            meeting.run(other, sign_in, sign_in)
        finally:
            assert meeting.failures == []
    assert (len(accepted), len(refused)) == (1, 1)


def test_the_new_key_is_kept_on_the_server_not_in_the_cookie_during_sign_in(app, make):
    db.session.add(RolePolicy(role="guardianship", require_totp=True))
    db.session.commit()
    user = make.user("guardianship")
    client = password_given(app, user)
    page = client.get("/login/code").get_data(as_text=True)
    secret = page.split('<code class="secret">')[1].split("<")[0]
    assert secret in client.get("/login/code").get_data(as_text=True)  # the same key on every look
    session = session_of(app, client)
    assert session and secret not in repr(session)
    assert redirected(client.post("/login/code", {"code": pyotp.TOTP(secret).now()})) == "/"
    assert db.session.get(User, user.id).totp_secret == secret


def test_the_new_key_is_kept_on_the_server_not_in_the_cookie_on_the_account_page(app, make, login_as):
    user = make.user("caseworker")
    person = login_as(user)
    page = person.get("/account/two-factor").get_data(as_text=True)
    secret = page.split('<code class="secret">')[1].split("<")[0]
    assert secret in person.get("/account/two-factor").get_data(as_text=True)
    session = session_of(app, person)
    assert session.get("_user_id") and secret not in repr(session)
    assert redirected(person.post("/account/two-factor", {"code": pyotp.TOTP(secret).now()})) == "/account/two-factor"
    assert db.session.get(User, user.id).totp_secret == secret
