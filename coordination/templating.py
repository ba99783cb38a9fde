"""What templates may call: wording and formatting only, no rules of their own."""
from datetime import datetime

from flask import Flask, current_app
from flask_babel import format_datetime, get_locale, gettext as _, lazy_gettext as _l, ngettext

from .accounts.forms import LogoutForm
from .beds import services as bed_services
from .clock import now


def time_ago(moment: datetime | None) -> str:
    if moment is None:
        return _("never")
    seconds = max(0, int((now() - moment).total_seconds()))
    if seconds < 60:
        return _("just now")
    minutes = seconds // 60
    if minutes < 60:
        return ngettext("%(num)s minute ago", "%(num)s minutes ago", minutes)
    hours = minutes // 60
    if hours < 48:
        return ngettext("%(num)s hour ago", "%(num)s hours ago", hours)
    return ngettext("%(num)s day ago", "%(num)s days ago", hours // 24)


def freshness_of(pool) -> str:
    return bed_services.freshness(pool.last_confirmed_at, now(),
                                  current_app.config["FRESH_HOURS"], current_app.config["STALE_HOURS"])


WORDS = {
    # freshness
    "fresh": _l("fresh"), "aging": _l("aging"), "stale": _l("stale"),
    # roles
    "shelter_staff": _l("shelter staff"), "caseworker": _l("caseworker"),
    "guardianship": _l("guardianship officer"), "oversight": _l("oversight"), "admin": _l("administrator"),
    # shelter status
    "open": _l("open"), "suspended": _l("suspended"), "closed": _l("closed"),
    # services and needs
    "medical": _l("medical care"), "disability": _l("disability support"),
    "psychosocial": _l("psychosocial / trauma care"), "trafficking": _l("trafficking survivors"),
    "young_mother": _l("pregnant girls and young mothers"),
    # counts
    "occupied": _l("occupied"), "out_of_service": _l("out of service"),
}


def word(key: str) -> str:
    return str(WORDS.get(key, key))


def admits_words(pool) -> str:
    who = {"female": _("girls"), "male": _("boys"), "any": _("girls and boys")}[pool.admits_sex]
    return _("%(who)s, %(min)s–%(max)s years", who=who, min=pool.min_age, max=pool.max_age)


def register_templating(app: Flask) -> None:
    app.jinja_env.filters["ago"] = time_ago
    app.jinja_env.filters["datetime"] = lambda value: format_datetime(value, "medium") if value else ""
    app.jinja_env.filters["word"] = word

    @app.context_processor
    def helpers():
        return {
            "logout_form": LogoutForm,
            "freshness_of": freshness_of,
            "word": word,
            "admits_words": admits_words,
            "current_locale": str(get_locale() or "en"),
            "now": now,
        }
