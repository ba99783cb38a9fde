"""The user's language and time: which language a page speaks, and how times are shown
and read. Times are stored in UTC; people see and type them in the deployment's zone
(TIME_ZONE, Asia/Baku by default), worded by Babel for their language."""
from datetime import date, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

from babel.dates import format_timedelta, parse_pattern
from flask import g, has_request_context, request, session
from flask_babel import format_date, format_datetime, format_time, get_locale, get_timezone, gettext as _

from .clock import now

# The languages the app speaks, in the order the switcher offers them; the first is the default.
LANGUAGES = {"az": "Azərbaycanca", "ru": "Русский", "en": "English"}
DEFAULT_LANGUAGE = "az"
SESSION_KEY = "language"


def choose_language() -> str:
    """The signed-in person's own language; before sign-in, the one they picked on the
    switcher, else the best of the browser's languages; Azerbaijani when nothing fits. The API
    answers in the best of the request's Accept-Language. When
    the database has failed (errors.server_error), the user is not asked for: knowing them
    takes the database."""
    if not has_request_context():  # CLI commands and services called directly
        return "en"
    if request.path.startswith("/api/"):
        # The API speaks the language each request asks for: a token's account is no person
        # with a language of their own, and the API keeps no session.
        return request.accept_languages.best_match(list(LANGUAGES)) or DEFAULT_LANGUAGE
    from flask_login import current_user

    if (not g.get("database_failed") and current_user and current_user.is_authenticated
            and current_user.locale in LANGUAGES):
        return current_user.locale
    if session.get(SESSION_KEY) in LANGUAGES:
        return session[SESSION_KEY]
    return request.accept_languages.best_match(list(LANGUAGES)) or DEFAULT_LANGUAGE


def current_language() -> str:
    return str(get_locale() or DEFAULT_LANGUAGE)


# --- times a person reads ------------------------------------------------------------------

def zone() -> ZoneInfo:
    """The zone people here live in (Flask-Babel's, which it keeps as a pytz zone)."""
    return ZoneInfo(str(get_timezone()))


def local(moment: datetime) -> datetime:
    """A stored UTC time in the deployment's zone."""
    return moment.astimezone(zone())


def local_today() -> date:
    return local(now()).date()


def to_utc(typed: datetime | None) -> datetime | None:
    """A date and time a person typed (a clock reading in their zone) as UTC; None stays None."""
    if typed is None:
        return None
    if typed.tzinfo is None:
        typed = typed.replace(tzinfo=zone())
    return typed.astimezone(timezone.utc)


def start_of_local_day(day: date) -> datetime:
    """Midnight at the start of `day` in the deployment's zone, as UTC (days at the very
    ends of the calendar, which no zone can shift, as they are)."""
    midnight = datetime.combine(day, datetime.min.time())
    try:
        return to_utc(midnight)
    except OverflowError:
        return midnight.replace(tzinfo=timezone.utc)


def when(moment: datetime | None) -> str:
    """A date and time, e.g. '30 noy 2026, 19:15' in the reader's language and zone."""
    return format_datetime(moment, "medium") if moment is not None else ""


def day_and_time(moment: datetime | None) -> str:
    """A moment as the bed board gives it, without words that age by the minute: 'today at
    09:15', 'yesterday at 18:40', else '30 Nov 2026, 19:15'. A board has a hundred of these,
    so the words, the zone and the clock pattern are looked up once per request."""
    if moment is None:
        return _("never")
    asked = request._get_current_object() if has_request_context() else None
    cached = g.get("_day_and_time")
    if cached is None or cached[0] is not asked:  # one app context can serve several requests (tests)
        cached = g._day_and_time = (asked, _DayAndTime())
    return cached[1](moment)


class _TwentyFourHours:
    @staticmethod
    def apply(there: datetime, _locale) -> str:
        return f"{there.hour:02d}:{there.minute:02d}"


_TWENTY_FOUR_HOURS = _TwentyFourHours()


class _DayAndTime:
    def __init__(self):
        locale = get_locale()
        self.locale, self.zone, self.today = locale, zone(), local_today()
        pattern = locale.time_formats["short"].pattern
        # Azerbaijani and Russian write 24-hour "HH:mm", which needs no pattern engine.
        self.clock = _TWENTY_FOUR_HOURS if pattern == "HH:mm" else parse_pattern(pattern)
        self.words = {self.today: _("today at %(time)s"), self.today - timedelta(days=1): _("yesterday at %(time)s")}

    def __call__(self, moment: datetime) -> str:
        there = moment.astimezone(self.zone)
        said = self.words.get(there.date())
        if said is None:
            return format_datetime(moment, "medium")
        return said % {"time": self.clock.apply(there, self.locale)}


def duration(elapsed: timedelta) -> str:
    """How long, in hours and minutes: '2 h 05 min'; '3 days 4 h' from two days on."""
    minutes = max(0, int(elapsed.total_seconds() // 60))
    if minutes < 60:
        return _("%(m)s min", m=minutes)
    if minutes < 48 * 60:
        return _("%(h)s h %(m)02d min", h=minutes // 60, m=minutes % 60)
    return _("%(d)s days %(h)s h", d=minutes // 1440, h=minutes % 1440 // 60)


def ago(moment: datetime | None) -> str:
    """How long ago, in words: '7 minutes ago', '7 dəqiqə əvvəl', '7 минут назад'."""
    if moment is None:
        return _("never")
    elapsed = now() - moment
    if elapsed < timedelta(minutes=1):
        return _("just now")
    return format_timedelta(-elapsed, add_direction=True, threshold=1.5, locale=get_locale())


def until(deadline: datetime | None) -> str:
    """A deadline as people say it: 'until 18:15 today', 'until tomorrow 09:00',
    'until Monday 09:00' within the week, else 'until 12 Dec 2026, 09:00'."""
    if deadline is None:
        return ""
    there, today = local(deadline), local_today()
    clock_time = format_time(deadline, "short")
    if there.date() == today:
        return _("until %(time)s today", time=clock_time)
    if there.date() == today + timedelta(days=1):
        return _("until %(time)s tomorrow", time=clock_time)
    if today < there.date() < today + timedelta(days=7):
        return _("until %(weekday)s %(time)s", weekday=format_date(deadline, "EEEE"), time=clock_time)
    return _("until %(when)s", when=when(deadline))
