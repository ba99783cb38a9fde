"""User accounts: made with a one-time password, edited, deactivated (never deleted, and
signed out at once), reset, unlocked; the list shows who signed in when and whose sign-ins
are paused from where."""
from datetime import timedelta

from sqlalchemy import select

from coordination import clock
from coordination.accounts.models import User
from coordination.audit.models import AuditEvent
from coordination.extensions import db
from coordination.referrals.models import Referral

from ..conftest import CSRF_INPUT, PASSWORD, Client, at_address
from .pages import audit_actions, count, messages, redirected_to, temporary_password, text

NEW_PASSWORD = "a brand new passphrase of mine"


def change_password(person: Client, current: str) -> None:
    """Fill in the password page, with the token of that page (the only one open to them)."""
    page = person.get("/account/password").get_data(as_text=True)
    response = person.post("/account/password", {"current": current, "new": NEW_PASSWORD,
                                                  "confirm": NEW_PASSWORD,
                                                  "csrf_token": CSRF_INPUT.search(page).group(1)},
                           csrf=False)
    assert redirected_to(response) == "/"


def assert_must_change_password_first(app, email: str, password: str) -> Client:
    """Signing in with a one-time password leads to choosing a new one, and nowhere else
    until that is done; afterwards the account works as any other."""
    person = Client(app)
    assert redirected_to(person.login(email, password)) == "/account/password"
    for page in ("/", "/beds", "/notifications"):
        assert redirected_to(person.get(page)) == "/account/password", page
    change_password(person, password)
    assert person.get("/beds").status_code == 200
    return person


# --- creating --------------------------------------------------------------------------------

def test_a_new_account_gets_a_temporary_password_shown_once_and_must_choose_its_own(app, admin, make):
    organization = make.organization()
    response = admin.post("/admin/users/new", {"email": " Leyla@Example.org ", "name": "Leyla Huseynova",
                                               "role": "caseworker", "organization": str(organization.id)})
    temporary = temporary_password(response)
    assert response.headers["Cache-Control"] == "no-store"
    person = db.session.scalar(select(User).where(User.email == "leyla@example.org"))
    assert (person.name, person.role, person.organization_id, person.active) == (
        "Leyla Huseynova", "caseworker", organization.id, True)
    assert person.must_change_password is True
    assert temporary not in person.password_hash and person.check_password(temporary)
    assert audit_actions("user", person.id) == ["user.create"]
    assert temporary not in admin.get(f"/admin/users/{person.id}").get_data(as_text=True)
    assert temporary not in admin.get("/admin/users").get_data(as_text=True)

    assert_must_change_password_first(app, "leyla@example.org", temporary)


def test_an_email_already_taken_whatever_its_case_is_refused_and_nothing_changes(admin, make):
    existing = make.user("caseworker", email="taken@example.org")
    before = (count(User), count(AuditEvent))
    response = admin.post("/admin/users/new", {"email": "TAKEN@example.org", "name": "Someone",
                                               "role": "oversight", "organization": str(existing.organization_id)})
    assert response.status_code == 409
    assert "An account with the email taken@example.org already exists." in messages(response)
    assert (count(User), count(AuditEvent)) == before


def test_an_account_cannot_be_made_in_a_deactivated_organization(admin, make):
    organization = make.organization(name="Closed NGO")
    organization.active = False
    db.session.commit()
    response = admin.post("/admin/users/new", {"email": "x@example.org", "name": "X", "role": "caseworker",
                                               "organization": str(organization.id)})
    assert response.status_code == 422
    assert any("Closed NGO is deactivated" in m for m in messages(response))
    assert db.session.scalar(select(User).where(User.email == "x@example.org")) is None


# --- the list --------------------------------------------------------------------------------

GUESSER, ELSEWHERE = "203.0.113.66", "198.51.100.23"


def pause(app, person: User, address: str = GUESSER) -> None:
    """Five wrong passwords for this person from this address: its sign-ins are paused."""
    for _ in range(5):
        assert at_address(app, address).login(person.email, "wrong password, again").status_code == 422


def test_the_user_list_shows_role_organization_state_last_sign_in_and_paused_sign_ins(app, admin, make):
    clock.freeze(clock.now())
    signed_in = make.user("guardianship")
    Client(app).login(signed_in.email)
    locked = make.user("shelter_staff")
    pause(app, locked)
    pause(app, locked, ELSEWHERE)
    gone = make.user("oversight")
    gone.active = False
    db.session.commit()

    page = text(admin.get("/admin/users"))
    row = page[page.index(f'id="user-{signed_in.id}"'):]
    row = row[:row.index("</tr>")]
    assert "guardianship officer" in row and signed_in.organization.name in row and "active" in row
    assert "never" not in row and "not paused" in row
    row = page[page.index(f'id="user-{locked.id}"'):]
    row = row[:row.index("</tr>")]
    assert "paused from 2 addresses" in row and "never" in row
    row = page[page.index(f'id="user-{gone.id}"'):]
    assert "deactivated" in row[:row.index("</tr>")]


def test_the_user_list_filters_by_organization_and_role(admin, make):
    organization = make.organization()
    wanted = make.user("caseworker", organization=organization)
    same_org_other_role = make.user("shelter_staff", organization=organization)
    other_org_same_role = make.user("caseworker")
    page = text(admin.get(f"/admin/users?organization={organization.id}&role=caseworker"))
    assert wanted.email in page
    assert same_org_other_role.email not in page and other_org_same_role.email not in page
    fragment = admin.get(f"/admin/users?organization={organization.id}", htmx=True)
    assert fragment.get_data(as_text=True).lstrip().startswith('<section id="users-list"')
    assert wanted.email in text(fragment) and same_org_other_role.email in text(fragment)
    assert other_org_same_role.email not in text(fragment)


def test_the_user_list_shows_fifty_a_page(admin, make):
    organization = make.organization()
    hash_ = admin.user.password_hash  # hashing 55 passwords would only slow the test
    db.session.add_all(User(email=f"person{i:02}@example.org", name=f"Person {i:02}", role="caseworker",
                            organization_id=organization.id, password_hash=hash_) for i in range(55))
    db.session.commit()
    first = text(admin.get(f"/admin/users?organization={organization.id}"))
    second = text(admin.get(f"/admin/users?organization={organization.id}&page=2"))
    assert first.count("@example.org</td>") == 50
    assert second.count("@example.org</td>") == 5
    assert "Page 1 of 2" in first


# --- editing ---------------------------------------------------------------------------------

def test_an_admin_edits_a_persons_name_role_and_organization(admin, make):
    person = make.user("caseworker")
    organization = make.organization()
    response = admin.post(f"/admin/users/{person.id}", {"name": "New Name", "role": "guardianship",
                                                        "organization": str(organization.id), "active": "y"})
    assert redirected_to(response) == f"/admin/users/{person.id}"
    db.session.refresh(person)
    assert (person.name, person.role, person.organization_id, person.active) == (
        "New Name", "guardianship", organization.id, True)
    assert audit_actions("user", person.id) == ["user.update"]


def test_an_admin_cannot_change_their_own_role(admin):
    me = admin.user
    response = admin.post(f"/admin/users/{me.id}", {"name": me.name, "role": "oversight",
                                                    "organization": str(me.organization_id), "active": "y"})
    assert response.status_code == 403
    assert "You cannot change your own role; ask another administrator." in messages(response)
    db.session.refresh(me)
    assert me.role == "admin"


# --- deactivating ----------------------------------------------------------------------------

def test_a_deactivated_users_session_stops_at_once_and_they_cannot_sign_in(app, admin, make):
    person = make.user("caseworker")
    session = Client(app)
    session.login(person.email)
    assert session.get("/children").status_code == 200

    response = admin.post(f"/admin/users/{person.id}/deactivate")
    assert redirected_to(response) == f"/admin/users/{person.id}"

    assert redirected_to(session.get("/children")).startswith("/login")
    assert session.get("/children", htmx=True).headers["HX-Redirect"].startswith("/login")
    assert Client(app).login(person.email).status_code == 422
    assert audit_actions("user", person.id)[-2:] == ["user.deactivate", "login.failed"]


def test_deactivating_a_user_deletes_nothing_and_their_referrals_still_point_at_them(admin, make):
    referral = make.referral(status="submitted")
    caseworker = referral.caseworker
    people, events = count(User), count(AuditEvent)
    redirected_to(admin.post(f"/admin/users/{caseworker.id}/deactivate"))
    db.session.expire_all()
    assert count(User) == people
    assert db.session.get(User, caseworker.id).active is False
    assert db.session.get(Referral, referral.id).caseworker_id == caseworker.id
    assert db.session.scalar(select(AuditEvent).where(AuditEvent.user_id == caseworker.id).limit(1)) is not None
    assert count(AuditEvent) == events + 1


def test_unticking_active_on_the_edit_form_deactivates_and_signs_out_too(app, admin, make):
    person = make.user("oversight")
    session = Client(app)
    session.login(person.email)
    response = admin.post(f"/admin/users/{person.id}", {"name": person.name, "role": person.role,
                                                        "organization": str(person.organization_id)})
    redirected_to(response)
    assert redirected_to(session.get("/beds")).startswith("/login")
    assert audit_actions("user", person.id)[-1] == "user.deactivate"


def test_an_admin_cannot_deactivate_themselves(admin):
    me = admin.user
    for response in (admin.post(f"/admin/users/{me.id}/deactivate"),
                     admin.post(f"/admin/users/{me.id}", {"name": me.name, "role": "admin",
                                                          "organization": str(me.organization_id)})):
        assert response.status_code == 403
        assert "You cannot deactivate yourself; ask another administrator." in messages(response)
    db.session.refresh(me)
    assert me.active is True
    assert admin.get("/admin/users").status_code == 200


def test_a_reactivated_user_signs_in_again_but_their_old_session_stays_ended(app, admin, make):
    person = make.user("caseworker")
    old = Client(app)
    old.login(person.email)
    admin.post(f"/admin/users/{person.id}/deactivate")
    redirected_to(admin.post(f"/admin/users/{person.id}/reactivate"))
    assert redirected_to(old.get("/beds")).startswith("/login")
    assert redirected_to(Client(app).login(person.email)) == "/"
    assert [a for a in audit_actions("user", person.id) if a.startswith("user.")] == [
        "user.deactivate", "user.reactivate"]


# --- passwords and locks ---------------------------------------------------------------------

def test_a_password_reset_ends_sessions_and_forces_a_new_password_at_next_sign_in(app, admin, make):
    person = make.user("shelter_staff")
    session = Client(app)
    session.login(person.email)
    assert session.get("/beds").status_code == 200

    response = admin.post(f"/admin/users/{person.id}/reset-password")
    temporary = temporary_password(response)
    assert response.headers["Cache-Control"] == "no-store"
    assert "password.reset" in audit_actions("user", person.id)
    assert temporary not in admin.get(f"/admin/users/{person.id}").get_data(as_text=True)

    assert redirected_to(session.get("/beds")).startswith("/login")
    assert Client(app).login(person.email, PASSWORD).status_code == 422
    assert_must_change_password_first(app, person.email, temporary)


def test_an_admin_resets_their_own_password_on_their_account_page_not_here(admin):
    response = admin.post(f"/admin/users/{admin.user.id}/reset-password")
    assert response.status_code == 403
    assert any("Change your own password on your account page" in m for m in messages(response))
    assert admin.get("/admin/").status_code == 200


def test_unlocking_lifts_every_paused_address_of_the_user_at_once(app, admin, make):
    clock.freeze(clock.now())
    person = make.user("caseworker")
    pause(app, person)
    clock.freeze(clock.now() + timedelta(seconds=30))
    pause(app, person, ELSEWHERE)  # paused until later: listed first
    assert at_address(app, GUESSER).login(person.email).status_code == 422
    page = text(admin.get(f"/admin/users/{person.id}"))
    table = page[page.index('id="paused-sign-ins"'):page.index("</table>")]
    rows = table.split("<tr>")[2:]
    assert [(GUESSER in row, ELSEWHERE in row) for row in rows] == [(False, True), (True, False)]
    assert "<td data-label=\"Failed attempts in a row\">5</td>" in rows[1]
    assert "paused from 2 addresses" in page

    response = admin.post(f"/admin/users/{person.id}/unlock")
    assert redirected_to(response) == f"/admin/users/{person.id}"
    assert "no longer paused from any address" in text(admin.get(f"/admin/users/{person.id}"))
    assert audit_actions("user", person.id)[-1] == "user.unlock"
    assert db.session.scalar(select(AuditEvent.details).where(AuditEvent.action == "user.unlock")) == {
        "unpaused": [ELSEWHERE, GUESSER]}
    assert 'id="paused-sign-ins"' not in text(admin.get(f"/admin/users/{person.id}"))
    for address in (GUESSER, ELSEWHERE):
        assert redirected_to(at_address(app, address).login(person.email)) == "/"


def test_a_password_reset_lets_a_paused_person_in_at_once_from_their_own_address(app, admin, make):
    person = make.user("caseworker")
    pause(app, person, ELSEWHERE)  # their own address: they mistyped, or someone shares it
    temporary = temporary_password(admin.post(f"/admin/users/{person.id}/reset-password"))
    assert redirected_to(at_address(app, ELSEWHERE).login(person.email, temporary)) == "/account/password"
