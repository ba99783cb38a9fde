"""A password must be hard to guess, on every path that sets one: an operator's create-user,
the first sign-in with an administrator's temporary password (a new account or a reset),
and a person's own change. Refusals say why, in the user's language, and change nothing."""
import pytest
from sqlalchemy import select

from coordination.accounts import services
from coordination.accounts.models import User
from coordination.accounts.passwords import password_problems
from coordination.demo import DEMO_PASSWORD
from coordination.errors import InvalidInput
from coordination.extensions import db

from ..admin.pages import temporary_password
from ..conftest import CSRF_INPUT, PASSWORD, Client

# Long enough and not on the common-passwords list, yet guessed at once.
WEAK = ["aaaaaaaaaaaa", "123456789012", " " * 12, "Password123!", "passwordpassword", DEMO_PASSWORD]
WEAK_IDS = ["repeated-letter", "digits", "spaces", "password-with-digits", "word-twice", "demo-password"]
STRONG = "velvet quarry nineteen lanterns"
EASY = "This password would be easy to guess"


def refusal(page: str) -> bool:
    return EASY in page or "made of your name" in page


# --- the rule -------------------------------------------------------------------------------

@pytest.mark.parametrize("password", WEAK, ids=WEAK_IDS)
def test_passwords_that_are_long_enough_but_easy_to_guess_are_refused(app, password):
    problems = password_problems(password, "leyla.huseynova@example.org")
    assert problems and EASY in problems[0], problems


def test_a_password_of_unrelated_words_passes(app):
    assert password_problems(STRONG, "leyla.huseynova@example.org", ["Leyla Huseynova", "Safe Harbour NGO"]) == []
    assert password_problems(PASSWORD, "leyla.huseynova@example.org", ["Leyla Huseynova", "Safe Harbour NGO"]) == []


@pytest.mark.parametrize("password", ["LeylaHuseynova2026", "huseynova.leyla!", "Safe Harbour NGO 2026",
                                      "leyla.huseynova@example.org!", "Sığınacaq Bakı 2026"])
def test_a_password_made_of_the_persons_own_name_email_or_organization_is_refused(app, make, password):
    """Strong to anyone who does not know the person; guessed soon by anyone who does."""
    assert password_problems(password) == [], "a stranger's guess would not find it; the test would prove nothing"
    make.region("Bakı")
    organization = make.organization(name="Safe Harbour NGO")
    with pytest.raises(InvalidInput) as refused:
        services.create_user("leyla.huseynova@example.org", "Leyla Huseynova", "caseworker", organization.name,
                             password)
    assert refusal(refused.value.message), refused.value.message


def test_the_refusal_speaks_the_users_language(app):
    with app.test_request_context(headers={"Accept-Language": "ru"}):
        problems = password_problems("aaaaaaaaaaaa")
    assert problems and all("password" not in problem.lower() for problem in problems), problems
    assert "угадать" in problems[0], problems


def test_temporary_passwords_are_strong_enough_for_the_rules(app):
    """What an administrator is given to pass on is never itself refused by the rules."""
    for _ in range(50):
        assert password_problems(services.temporary_password(), "leyla.huseynova@example.org",
                                 ["Leyla Huseynova", "Safe Harbour NGO"]) == []


# --- every path that sets a password -------------------------------------------------------

def _create_user_from_the_command_line(app, make, password: str) -> tuple[bool, str]:
    make.organization(name="Safe Haven Test")
    result = app.test_cli_runner().invoke(
        args=["create-user", "--email", "new.person@example.org", "--name", "New Person", "--role", "caseworker",
              "--organization", "Safe Haven Test"], input=f"{password}\n")
    made = db.session.scalar(select(User).where(User.email == "new.person@example.org")) is not None
    assert made == (result.exit_code == 0), result.output
    return made, result.output


def _change_on_the_password_page(person: Client, current: str, password: str) -> tuple[bool, str]:
    page = person.get("/account/password").get_data(as_text=True)
    response = person.post("/account/password", {"current": current, "new": password, "confirm": password,
                                                  "csrf_token": CSRF_INPUT.search(page).group(1)}, csrf=False)
    if response.status_code == 303:
        return True, ""
    assert response.status_code == 422, response.status_code
    return False, response.get_data(as_text=True)


def _own_change(app, make, password: str) -> tuple[bool, str]:
    person = Client(app)
    person.login(make.user("caseworker").email)
    return _change_on_the_password_page(person, PASSWORD, password)


def _first_sign_in(app, temporary: str, email: str, password: str) -> tuple[bool, str]:
    person = Client(app)
    assert person.login(email, temporary).headers["Location"] == "/account/password"
    changed, page = _change_on_the_password_page(person, temporary, password)
    assert changed == (person.get("/beds").status_code == 200)  # still held on the password page
    return changed, page


def _first_sign_in_of_a_new_account(app, make, password: str) -> tuple[bool, str]:
    admin = Client(app)
    admin.login(make.user("admin").email)
    created = admin.post("/admin/users/new", {"email": "leyla@example.org", "name": "Leyla Huseynova",
                                              "role": "caseworker", "organization": str(make.organization().id)})
    temporary = temporary_password(created)
    db.session.scalar(select(User).where(User.email == "leyla@example.org")).locale = "en"  # as the tests read
    return _first_sign_in(app, temporary, "leyla@example.org", password)


def _first_sign_in_after_a_reset(app, make, password: str) -> tuple[bool, str]:
    admin = Client(app)
    admin.login(make.user("admin").email)
    person = make.user("caseworker")
    reset = admin.post(f"/admin/users/{person.id}/reset-password", {})
    return _first_sign_in(app, temporary_password(reset), person.email, password)


PATHS = {
    "create-user": _create_user_from_the_command_line,
    "own-change": _own_change,
    "new-account-first-sign-in": _first_sign_in_of_a_new_account,
    "reset-first-sign-in": _first_sign_in_after_a_reset,
}


@pytest.mark.parametrize("password", WEAK, ids=WEAK_IDS)
@pytest.mark.parametrize("path", PATHS)
def test_every_path_that_sets_a_password_refuses_an_easy_one_and_says_why(app, make, path, password):
    accepted, answer = PATHS[path](app, make, password)
    assert not accepted
    assert EASY in answer, answer[-2000:]


@pytest.mark.parametrize("path", PATHS)
def test_every_path_that_sets_a_password_accepts_a_strong_one(app, make, path):
    accepted, answer = PATHS[path](app, make, STRONG)
    assert accepted, answer[-2000:]
