"""The app speaks its user's language and tells time in Baku's zone: the language chosen
per account, or before sign-in from the switcher or the browser; times shown and typed in
TIME_ZONE (Asia/Baku), deadlines and ages in words of the user's language."""
import re
from datetime import datetime, timedelta, timezone

import pytest
from flask_babel import force_locale
from sqlalchemy import select

from coordination import clock
from coordination.accounts.models import User
from coordination.audit.models import AuditEvent
from coordination.config import ConfigError, from_environment
from coordination.extensions import db
from coordination.i18n import ago, day_and_time, to_utc, until, when

from .conftest import Client

# A Monday, 12:00 UTC: 16:00 in Baku.
MONDAY_NOON_UTC = datetime(2026, 3, 2, 12, 0, tzinfo=timezone.utc)


def html_lang(response) -> str:
    return re.search(r'<html lang="([^"]+)"', response.get_data(as_text=True)).group(1)


# --- which language ------------------------------------------------------------------------

@pytest.mark.parametrize("accept, expected", [
    ("ru-RU,ru;q=0.9,en;q=0.5", "ru"), ("az", "az"), ("en-GB", "en"), ("fr-FR,de;q=0.8", "az"), ("", "az"),
])
def test_before_sign_in_the_page_speaks_the_browsers_language_or_azerbaijani(app, client, accept, expected):
    response = client.get("/login", headers={"Accept-Language": accept})
    assert html_lang(response) == expected


def test_the_login_page_is_in_russian_for_a_russian_browser(app, client):
    page = client.get("/login", headers={"Accept-Language": "ru"}).get_data(as_text=True)
    assert "Войти" in page


def test_the_switcher_before_sign_in_keeps_the_choice_for_this_browser(app, client):
    client.csrf_token()
    response = client.post("/account/language", {"language": "ru"},
                           headers={"Referer": "http://coordination.test/login?next=/beds"})
    assert response.status_code == 303
    assert response.headers["Location"] == "/login?next=/beds"  # back where the switch was made
    assert html_lang(client.get("/login", headers={"Accept-Language": "en"})) == "ru"


def test_a_referer_from_another_site_is_never_followed(app, client):
    client.csrf_token()
    response = client.post("/account/language", {"language": "ru"}, headers={"Referer": "https://evil.example/x"})
    assert response.headers["Location"] == "/"


def test_a_signed_in_person_reads_their_own_language_whatever_the_browser_says(app, make, login_as):
    person = login_as(make.user("guardianship", locale="az"))
    assert html_lang(person.get("/", headers={"Accept-Language": "ru"})) == "az"


def test_switching_language_is_kept_on_the_account_and_recorded(app, make, login_as):
    person = login_as(make.user("shelter_staff", locale="az"))
    response = person.post("/account/language", {"language": "ru", "next": "/beds"})
    assert response.status_code == 303 and response.headers["Location"] == "/beds"
    assert db.session.get(User, person.user.id).locale == "ru"
    assert html_lang(person.get("/beds")) == "ru"
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "user.language"))
    assert event.details == {"from": "az", "to": "ru"}
    # Another device of the same person speaks Russian too.
    again = Client(app)
    again.login(person.user.email)
    assert html_lang(again.get("/")) == "ru"


def test_an_unknown_language_is_refused_and_changes_nothing(app, make, login_as):
    person = login_as(make.user("caseworker", locale="en"))
    response = person.post("/account/language", {"language": "fr"})
    assert response.status_code == 422
    assert "Choose one of the languages offered." in response.get_data(as_text=True)
    assert db.session.get(User, person.user.id).locale == "en"


def test_the_account_page_offers_the_three_languages_and_names_the_time_zone(app, make, login_as):
    page = login_as("caseworker").get("/account").get_data(as_text=True)
    for name in ("Azərbaycanca", "Русский", "English"):
        assert name in page
    assert "Asia/Baku" in page


def test_every_page_has_the_switcher(app, make, login_as):
    page = login_as("caseworker").get("/beds").get_data(as_text=True)
    assert 'action="/account/language"' in page and 'name="language"' in page


def test_new_accounts_speak_azerbaijani(app, make):
    user = User(email="new@example.org", name="New", role="caseworker", organization=make.organization(),
                password_hash="x")
    db.session.add(user)
    db.session.commit()
    assert user.locale == "az"


# --- times ---------------------------------------------------------------------------------

def test_a_typed_time_is_read_in_baku_and_stored_in_utc(app):
    with app.test_request_context():
        assert to_utc(datetime(2026, 3, 2, 16, 0)) == MONDAY_NOON_UTC
        assert to_utc(None) is None


def test_a_stored_time_is_shown_in_baku(app):
    with app.test_request_context(), force_locale("en"):
        assert "4:00" in when(MONDAY_NOON_UTC) and "PM" in when(MONDAY_NOON_UTC)
    with app.test_request_context(), force_locale("az"):
        assert "16:00" in when(MONDAY_NOON_UTC)


@pytest.mark.parametrize("hours_later, english", [
    (2, "until 6:00 PM today"),
    (18, "until 10:00 AM tomorrow"),
    (24 * 3, "until Thursday 4:00 PM"),
    (24 * 10, "until Mar 12, 2026, 4:00:00 PM"),
])
def test_deadlines_read_as_people_say_them(app, hours_later, english):
    clock.freeze(MONDAY_NOON_UTC)
    with app.test_request_context(), force_locale("en"):
        assert until(MONDAY_NOON_UTC + timedelta(hours=hours_later)).replace("\u202f", " ") == english


def test_deadlines_in_azerbaijani_and_russian(app):
    clock.freeze(MONDAY_NOON_UTC)
    with app.test_request_context(), force_locale("az"):
        assert "18:00" in until(MONDAY_NOON_UTC + timedelta(hours=2))
    with app.test_request_context(), force_locale("ru"):
        assert "четверг" in until(MONDAY_NOON_UTC + timedelta(hours=24 * 3))


@pytest.mark.parametrize("language, hours_before, said", [
    ("en", 1, "today at 3:00 PM"), ("en", 20, "yesterday at 8:00 PM"), ("en", 60, "Feb 28, 2026, 4:00:00 AM"),
    ("az", 1, "bu gün saat 15:00"), ("az", 20, "dünən saat 20:00"),
    ("ru", 1, "сегодня в 15:00"), ("ru", 20, "вчера в 20:00"), ("ru", 0, "сегодня в 16:00"),
])
def test_the_boards_confirmation_times_name_the_day_and_the_local_time(app, language, hours_before, said):
    clock.freeze(MONDAY_NOON_UTC)  # 16:00 on Monday 2 March in Baku
    with app.test_request_context(), force_locale(language):
        assert day_and_time(MONDAY_NOON_UTC - timedelta(hours=hours_before)).replace("\u202f", " ") == said
        assert day_and_time(None) == {"en": "never", "az": "heç vaxt", "ru": "никогда"}[language]


def test_how_long_ago_comes_in_the_readers_words(app):
    clock.freeze(MONDAY_NOON_UTC)
    seven_minutes_ago = MONDAY_NOON_UTC - timedelta(minutes=7)
    with app.test_request_context(), force_locale("en"):
        assert ago(seven_minutes_ago) == "7 minutes ago"
    with app.test_request_context(), force_locale("ru"):
        assert ago(seven_minutes_ago) == "7 минут назад"
    with app.test_request_context(), force_locale("az"):
        assert ago(seven_minutes_ago) == "7 dəqiqə əvvəl"


def test_the_time_zone_is_a_setting_checked_at_start(tmp_path):
    assert from_environment(str(tmp_path), environ={})["BABEL_DEFAULT_TIMEZONE"] == "Asia/Baku"
    assert from_environment(str(tmp_path), environ={"TIME_ZONE": "Europe/Istanbul"})["BABEL_DEFAULT_TIMEZONE"] == (
        "Europe/Istanbul")
    with pytest.raises(ConfigError, match="TIME_ZONE"):
        from_environment(str(tmp_path), environ={"TIME_ZONE": "Baku/Nowhere"})


def test_an_arrival_typed_in_baku_time_is_stored_in_utc_and_shown_back_in_baku_time(app, make, login_as):
    clock.freeze(MONDAY_NOON_UTC)
    referral = make.referral(status="approved")  # submitted at 16:00 Baku
    clock.freeze(MONDAY_NOON_UTC + timedelta(hours=3))
    staff = login_as(make.actor_for("place", referral))
    response = staff.post(f"/referrals/{referral.id}/place", {"arrived_at": "2026-03-02T17:15"}, htmx=True)
    assert response.status_code == 200
    db.session.expire_all()
    assert referral.arrived_at == datetime(2026, 3, 2, 13, 15, tzinfo=timezone.utc)
    assert "5:15" in response.get_data(as_text=True)


def test_an_arrival_before_submission_in_baku_time_is_refused_in_the_persons_language(app, make, login_as):
    clock.freeze(MONDAY_NOON_UTC)
    referral = make.referral(status="approved")
    staff_user = make.actor_for("place", referral)
    staff_user.locale = "ru"
    db.session.commit()
    staff = login_as(staff_user)
    # 15:30 in Baku is 11:30 UTC: before the referral was submitted (12:00 UTC).
    response = staff.post(f"/referrals/{referral.id}/place", {"arrived_at": "2026-03-02T15:30"}, htmx=True)
    assert response.status_code == 422
    assert "Время прибытия" in response.get_data(as_text=True)
    db.session.expire_all()
    assert referral.status == "approved"
