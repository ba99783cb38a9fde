"""The operators' commands, and the configuration production refuses to start without."""
import pytest
from sqlalchemy import func, select

from coordination.accounts.models import Organization, Region, User
from coordination.beds.models import BedPool, BedUpdate, Shelter
from coordination.config import ConfigError, from_environment
from coordination.extensions import db

from .conftest import Client, make_app

DEMO_PASSWORD = "coordination-demo"
DEMO_USERS = {
    "admin@demo.az": "admin",
    "ngo@demo.az": "shelter_staff",
    "caseworker@demo.az": "caseworker",
    "guardian@demo.az": "guardianship",
    "ombudsman@demo.az": "oversight",
}
# Azerbaijan's economic regions: their official names, and in English.
ECONOMIC_REGIONS = {
    "Bakı", "Abşeron-Xızı", "Dağlıq Şirvan", "Gəncə-Daşkəsən", "Qazax-Tovuz", "Quba-Xaçmaz",
    "Qarabağ", "Şərqi Zəngəzur", "Lənkəran-Astara", "Mərkəzi Aran", "Mil-Muğan", "Şəki-Zaqatala",
    "Şirvan-Salyan", "Naxçıvan",
}
ECONOMIC_REGIONS_EN = {
    "Baku", "Absheron-Khizi", "Mountainous Shirvan", "Ganja-Dashkasan", "Gazakh-Tovuz",
    "Guba-Khachmaz", "Karabakh", "East Zangezur", "Lankaran-Astara", "Central Aran",
    "Mil-Mughan", "Shaki-Zagatala", "Shirvan-Salyan", "Nakhchivan",
}


def count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def counts() -> dict:
    return {model.__name__: count(model)
            for model in (Region, Organization, User, Shelter, BedPool, BedUpdate)}


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


# --- seed-demo -----------------------------------------------------------------------------

def test_seed_demo_creates_the_regions_users_and_shelters(runner):
    result = runner.invoke(args=["seed-demo"])

    assert result.exit_code == 0, result.output
    regions = db.session.scalars(select(Region)).all()
    assert {region.name for region in regions} == ECONOMIC_REGIONS
    assert {region.name_in("en") for region in regions} == ECONOMIC_REGIONS_EN
    assert all(region.name_in("ru") != region.name for region in regions)  # each has a Russian name
    users = {user.email: user for user in db.session.scalars(select(User))}
    # The well-known logins, among the other demo accounts (tests/test_demo.py).
    assert {email: users[email].role for email in DEMO_USERS} == DEMO_USERS
    assert users["guardian@demo.az"].organization.region.name_in("ru") == "Баку"
    shelters = db.session.scalars(select(Shelter)).all()
    assert 10 <= len(shelters) <= 14
    for shelter in shelters:
        assert 2 <= len(shelter.pools) <= 3, shelter.name
        assert shelter.status == "open"


@pytest.mark.parametrize("email", DEMO_USERS)
def test_each_demo_user_signs_in_with_the_demo_password(app, runner, email):
    assert runner.invoke(args=["seed-demo"]).exit_code == 0

    response = Client(app).login(email, password=DEMO_PASSWORD)

    assert response.status_code == 303, response.get_data(as_text=True)


def test_seed_demo_run_twice_adds_nothing_the_second_time(runner):
    assert runner.invoke(args=["seed-demo"]).exit_code == 0
    first = counts()

    result = runner.invoke(args=["seed-demo"])

    assert result.exit_code == 0, result.output
    assert counts() == first
    assert first["Shelter"] > 0 and first["BedPool"] > 0


def test_seed_demo_refuses_in_production_and_creates_nothing(app, database_url):
    production = make_app(database_url, COORDINATION_ENV="production")
    # The runner does not push the app's context itself, and the test's app is current.
    with production.app_context():
        result = production.test_cli_runner().invoke(args=["seed-demo"])
        db.engine.dispose()

    assert result.exit_code != 0
    assert "never loaded in production" in result.output
    assert counts() == {name: 0 for name in counts()}


# --- create-user ---------------------------------------------------------------------------

NEW_PASSWORD = "a long enough password"


def create_user(runner, email="new.person@example.org", role="caseworker",
                organization="Safe Haven Test", password=NEW_PASSWORD, extra=()):
    return runner.invoke(args=["create-user", "--email", email, "--name", "New Person",
                               "--role", role, "--organization", organization, *extra],
                         input=f"{password}\n")


def test_create_user_makes_an_account_that_can_sign_in(app, make, runner):
    organization = make.organization(name="Safe Haven Test")

    result = create_user(runner, email="New.Person@Example.org", role="shelter_staff",
                         organization="safe haven test")

    assert result.exit_code == 0, result.output
    user = db.session.scalar(select(User).where(User.email == "new.person@example.org"))
    assert (user.name, user.role, user.organization_id) == ("New Person", "shelter_staff", organization.id)
    assert NEW_PASSWORD not in user.password_hash
    assert Client(app).login("new.person@example.org", password=NEW_PASSWORD).status_code == 303
    assert Client(app).login("new.person@example.org", password="wrong password!").status_code == 422


@pytest.mark.parametrize("case, arguments, message", [
    ("taken-email", {"email": "Taken@Example.org"},
     "An account with the email taken@example.org already exists."),
    ("unknown-organization", {"organization": "No Such Organization"},
     "There is no organization called No Such Organization."),
    ("unknown-role", {"role": "superuser"}, "Invalid value for '--role'"),
    ("short-password", {"password": "short"}, "at least 12 characters"),
    ("empty-password", {"password": ""}, "at least 12 characters"),
], ids=lambda value: value if isinstance(value, str) and " " not in value and "'" not in value else None)
def test_create_user_refuses_with_a_clear_message_and_creates_nothing(make, runner, case, arguments, message):
    make.user("caseworker", organization=make.organization(name="Safe Haven Test"),
              email="taken@example.org")
    before = count(User)

    result = create_user(runner, **arguments)

    assert result.exit_code != 0
    assert message in result.output
    assert count(User) == before


def test_create_user_has_no_password_option_so_a_password_never_appears_on_argv(make, runner):
    make.organization(name="Safe Haven Test")

    result = create_user(runner, extra=("--password", NEW_PASSWORD))

    assert result.exit_code != 0
    assert "No such option" in result.output
    assert count(User) == 0
    assert "--password" not in runner.invoke(args=["create-user", "--help"]).output


# --- configuration -------------------------------------------------------------------------

def test_production_refuses_to_start_without_a_secret_key(tmp_path):
    with pytest.raises(ConfigError, match="SECRET_KEY"):
        from_environment(str(tmp_path), environ={"COORDINATION_ENV": "production"})


def test_production_with_a_secret_key_sends_cookies_only_over_https(tmp_path):
    config = from_environment(str(tmp_path), environ={"COORDINATION_ENV": "production",
                                                      "SECRET_KEY": "k" * 64, "AUDIT_KEY": "a" * 64})
    assert config["SECRET_KEY"] == "k" * 64
    assert config["SESSION_COOKIE_SECURE"] is True
    assert config["REMEMBER_COOKIE_SECURE"] is True
    assert not (tmp_path / "secret_key").exists()  # never a generated key in production


def test_development_works_over_plain_http_with_a_generated_key(tmp_path):
    config = from_environment(str(tmp_path), environ={})
    assert config["SESSION_COOKIE_SECURE"] is False
    assert config["SECRET_KEY"] == (tmp_path / "secret_key").read_text().strip()


@pytest.mark.parametrize("raw, hours", [("48", 48.0), ("0.05", 0.05), ("", 48.0)])
def test_hold_hours_may_be_a_fraction_for_short_trials(tmp_path, raw, hours):
    assert from_environment(str(tmp_path), environ={"HOLD_HOURS": raw})["HOLD_HOURS"] == hours


@pytest.mark.parametrize("raw", ["0", "-1", "two days", "nan", "inf"])
def test_a_hold_length_that_is_not_a_positive_number_stops_the_app(tmp_path, raw):
    with pytest.raises(ConfigError, match="HOLD_HOURS"):
        from_environment(str(tmp_path), environ={"HOLD_HOURS": raw})


# --- create-api-token ------------------------------------------------------------------------

def create_api_token(runner, *extra, admin="token-admin@example.org", organization="Safe Haven Test",
                     role="shelter_staff"):
    return runner.invoke(args=["create-api-token", "--as", admin, "--label", "Case system",
                               "--organization", organization, "--role", role, *extra])


def test_create_api_token_prints_the_secret_once_and_keeps_only_its_hash(app, make, runner):
    from coordination.api.models import ApiToken
    from coordination.api.tokens import secret_hash
    from coordination.audit.models import AuditEvent

    admin = make.user("admin", email="token-admin@example.org")
    make.organization(name="Safe Haven Test")

    result = create_api_token(runner, "--scope", "beds:read")

    assert result.exit_code == 0, result.output
    secret = result.stdout.strip()
    assert secret.startswith("coord_") and "\n" not in secret
    token = db.session.scalar(select(ApiToken))
    assert token.secret_hash == secret_hash(secret) and token.scopes == ["beds:read"]
    assert token.account.role == "shelter_staff" and token.account.organization.name == "Safe Haven Test"
    made = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "api_token.created"))
    assert made.user_id == admin.id and secret not in str(made.details)
    assert app.test_client().get("/api/v1/pools", headers={"Authorization": f"Bearer {secret}"}).status_code == 200


@pytest.mark.parametrize("extra, kwargs, message", [
    ((), {"admin": "nobody@example.org"}, "is not an active admin's account"),
    ((), {"organization": "No Such Organization"}, "There is no organization called No Such Organization."),
    (("--scope", "beds:write"), {"role": "caseworker"}, "A token acting as"),
    (("--expires-on", "2000-01-01"), {}, "Choose a day after today, or none."),
])
def test_create_api_token_refuses_with_a_clear_message_and_makes_nothing(make, runner, extra, kwargs, message):
    from coordination.api.models import ApiToken

    make.user("admin", email="token-admin@example.org")
    make.organization(name="Safe Haven Test")

    result = create_api_token(runner, *extra, **kwargs)

    assert result.exit_code != 0 and message in result.output
    assert db.session.scalar(select(ApiToken)) is None
