"""Two-factor sign-in required per role: ticking a role makes its people's next sign-in set
up and use an authenticator code; other roles sign in as before."""
import re

import pyotp
from sqlalchemy import select

from coordination.accounts.models import RolePolicy, User
from coordination.extensions import db

from ..conftest import CSRF_INPUT, Client
from .pages import audit_actions, redirected_to, text

SECRET = re.compile(r'<code class="secret">([A-Z2-7]+)</code>')


def required_roles() -> dict:
    db.session.expire_all()
    return {p.role: p.require_totp for p in db.session.scalars(select(RolePolicy))}


def test_an_admin_requires_two_factor_sign_in_for_chosen_roles_and_it_is_audited(admin):
    response = admin.post("/admin/security", {"require_totp": ["guardianship", "admin"]})
    assert redirected_to(response) == "/admin/security"
    assert required_roles() == {"guardianship": True, "admin": True}
    assert sorted(audit_actions("role_policy")) == ["role_policy.update", "role_policy.update"]
    page = admin.get("/admin/security").get_data(as_text=True)
    assert re.search(r'<input checked id="require_totp-\d" name="require_totp" type="checkbox" value="guardianship">', page)

    response = admin.post("/admin/security", {"require_totp": ["admin"]})
    redirected_to(response)
    assert required_roles() == {"guardianship": False, "admin": True}
    assert len(audit_actions("role_policy", "guardianship")) == 2


def test_saving_unchanged_settings_records_nothing(admin):
    admin.post("/admin/security", {"require_totp": ["oversight"]})
    before = audit_actions()
    redirected_to(admin.post("/admin/security", {"require_totp": ["oversight"]}))
    assert audit_actions() == before


def test_a_required_role_sets_up_two_factor_at_its_next_sign_in_and_uses_it_after(app, admin, make):
    officer = make.user("guardianship")
    caseworker = make.user("caseworker")
    redirected_to(admin.post("/admin/security", {"require_totp": ["guardianship"]}))

    person = Client(app)
    assert redirected_to(person.login(officer.email)) == "/login/code"
    page = person.get("/login/code")
    secret = SECRET.search(page.get_data(as_text=True)).group(1)
    token = CSRF_INPUT.search(page.get_data(as_text=True)).group(1)
    assert person.get("/beds").status_code == 302  # not signed in until the code is given
    response = person.post("/login/code", {"code": pyotp.TOTP(secret).now(), "csrf_token": token}, csrf=False)
    assert redirected_to(response) == "/"
    assert person.get("/beds").status_code == 200
    db.session.expire_all()
    assert db.session.get(User, officer.id).totp_secret == secret

    again = Client(app)
    assert redirected_to(again.login(officer.email)) == "/login/code"
    assert "Enter the six-digit code" in text(again.get("/login/code"))

    assert redirected_to(Client(app).login(caseworker.email)) == "/"


def test_unknown_roles_are_refused_and_nothing_changes(admin):
    response = admin.post("/admin/security", {"require_totp": ["caseworker", "superuser"]})
    assert response.status_code == 422
    assert "'superuser' is not a valid choice for this field." in text(response)
    assert required_roles() == {}
