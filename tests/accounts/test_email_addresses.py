"""One rule of what is an email address, whichever way an account is made: the admin's
form and the create-user command refuse the same addresses with the same reason, and
accept the same ones."""
import html
import re

import pytest
from sqlalchemy import func, select

from coordination.accounts.models import User
from coordination.extensions import db

NOT_ADDRESSES = [
    "a@",          # nothing after the @
    "@x.org",      # nothing before it
    "a b@x.org",   # a space
    "a@x",         # a domain without a dot: a typo far more often than an address
    "a@@x.org",
    "a@x..org",
    "a@school.local",  # reserved from mail
]
PASSWORD = "a long enough password"


def users() -> int:
    db.session.expire_all()
    return db.session.scalar(select(func.count()).select_from(User))


def create_user_command(app, make, email: str):
    organization = make.organization(name="Safe Haven Test")
    return app.test_cli_runner().invoke(
        args=["create-user", "--email", email, "--name", "New Person", "--role", "caseworker",
              "--organization", organization.name], input=f"{PASSWORD}\n")


def new_user_form(admin, make, email: str):
    organization = make.organization()
    return admin.post("/admin/users/new", {"email": email, "name": "New Person", "role": "caseworker",
                                                       "organization": str(organization.id)})


def email_field_error(response) -> str:
    match = re.search(r'<span class="error" id="email-error">(.*?)</span>', response.get_data(as_text=True))
    assert match, response.get_data(as_text=True)[:3000]
    return html.unescape(match.group(1))


@pytest.mark.parametrize("email", NOT_ADDRESSES)
def test_create_user_refuses_what_is_not_an_email_address(app, make, email):
    before = users()

    result = create_user_command(app, make, email)

    assert result.exit_code != 0
    assert f"{email} is not an email address." in result.output
    assert users() == before


@pytest.mark.parametrize("email", NOT_ADDRESSES)
def test_the_admin_form_refuses_the_same_addresses_with_the_same_reason_under_the_field(login_as, make, email):
    admin = login_as("admin")
    before = users()

    response = new_user_form(admin, make, email)

    assert response.status_code == 422
    assert email_field_error(response) == f"{email} is not an email address."
    assert users() == before


ADDRESSES = [
    ("Leyla.Huseynova@Example.org", "leyla.huseynova@example.org"),
    ("helpdesk@ministry.internal", "helpdesk@ministry.internal"),  # internal: nobody asks the network
]


@pytest.mark.parametrize("email, kept", ADDRESSES)
def test_create_user_accepts_an_email_address_and_keeps_it_in_lower_case(app, make, email, kept):
    result = create_user_command(app, make, email)

    assert result.exit_code == 0, result.output
    assert db.session.scalar(select(User).where(User.email == kept)) is not None


@pytest.mark.parametrize("email, kept", ADDRESSES)
def test_the_admin_form_accepts_the_same_addresses_and_keeps_them_in_lower_case(login_as, make, email, kept):
    response = new_user_form(login_as("admin"), make, email)

    assert response.status_code == 200, response.get_data(as_text=True)[:3000]
    assert "data-temporary-password" in response.get_data(as_text=True)
    assert db.session.scalar(select(User).where(User.email == kept)) is not None
