from coordination.accounts.models import SHELTER_STAFF, User
from coordination.config import from_environment
from coordination.extensions import db

from ..conftest import PASSWORD, Client


def test_anonymous_page_request_redirects_to_login_and_comes_back_after(app, make, client):
    user = make.user("caseworker")
    response = client.get("/beds?region=1&free=1")
    assert response.status_code == 302
    assert response.headers["Location"].endswith("/login?next=/beds?region%3D1%26free%3D1")

    response = client.login(user.email, next="/beds?free=1")
    assert response.status_code == 303
    assert response.headers["Location"] == "/beds?free=1"
    assert client.get("/beds?free=1").status_code == 200


def test_login_never_returns_to_another_site(app, make, client):
    user = make.user("caseworker")
    for target in ("https://evil.example/", "//evil.example/", "/\\evil.example", "javascript:alert(1)"):
        client = Client(app)
        response = client.login(user.email, next=target)
        assert response.status_code == 303
        assert response.headers["Location"] == "/", target


def test_email_is_case_insensitive(app, make, client):
    make.user("caseworker", email="leyla@example.org")
    assert client.login("  LEYLA@Example.org ").status_code == 303


def test_wrong_password_and_unknown_email_get_the_same_answer(app, make):
    user = make.user("caseworker")
    wrong_password = Client(app).login(user.email, password="not the password")
    unknown_email = Client(app).login("nobody@example.org", password="not the password")
    assert wrong_password.status_code == unknown_email.status_code == 422
    message = ("That email and password do not match an active account, or sign-in from your address "
               "is paused after too many failed attempts")
    assert message in wrong_password.get_data(as_text=True)
    assert message in unknown_email.get_data(as_text=True)
    assert "15 minutes" not in wrong_password.get_data(as_text=True)


def test_deactivated_user_cannot_sign_in_and_loses_their_session(app, make, login_as):
    user = make.user("caseworker")
    signed_in = login_as(user)
    assert signed_in.get("/beds").status_code == 200
    user.active = False
    db.session.commit()
    assert signed_in.get("/beds").status_code == 302
    assert Client(app).login(user.email).status_code == 422


def test_logout_is_a_post_and_ends_the_session(app, login_as):
    signed_in = login_as("caseworker")
    assert signed_in.get("/logout").status_code == 405
    assert signed_in.get("/beds").status_code == 200
    response = signed_in.post("/logout")
    assert response.status_code == 303
    assert signed_in.get("/beds").status_code == 302


def test_session_cookie_is_httponly_and_samesite_lax(app, make, client):
    user = make.user("caseworker")
    response = client.login(user.email)
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie
    assert "SameSite=Lax" in cookie
    assert "Secure" not in cookie  # development serves plain http


def test_a_real_deployment_hashes_passwords_with_scrypt(tmp_path):
    assert from_environment(str(tmp_path), environ={})["PASSWORD_HASH_METHOD"] == "scrypt"


def test_passwords_are_stored_as_scrypt_hashes_and_sign_in_through_them(app, make, client,
                                                                         real_password_hashing):
    user = make.user(SHELTER_STAFF, password="a scrypt-hashed passphrase")
    stored = db.session.get(User, user.id).password_hash
    assert stored.startswith("scrypt:")
    assert "a scrypt-hashed passphrase" not in stored
    assert client.login(user.email, "a scrypt-hashed passphrase").status_code == 303


def test_post_without_csrf_token_is_refused_and_changes_nothing(app, make, client):
    user = make.user("caseworker")
    response = client.post("/login", data={"email": user.email, "password": PASSWORD}, csrf=False)
    assert response.status_code == 400
    assert "did not come from this site" in response.get_data(as_text=True)
    assert client.get("/beds").status_code == 302
