"""What templates may call: wording and formatting only, no rules of their own."""
from datetime import datetime

from flask import Flask, current_app, g, has_request_context, request
from flask_babel import gettext as _

from . import i18n, languages
from .accounts.forms import LogoutForm
from .beds import services as bed_services
from .clock import now
from .words import discharge_outcome, found_place, record_part, timeline_step, word


def waited_for(moment: datetime | None) -> str:
    """How long something has waited, in hours and minutes: '2 h 05 min'."""
    if moment is None:
        return ""
    return i18n.duration(now() - moment)


def freshness_of(pool) -> str:
    """How fresh a pool's counts are, judged at one moment for the whole page (a board asks
    a hundred times)."""
    asked = request._get_current_object() if has_request_context() else None
    cached = g.get("_freshness")
    if cached is None or cached[0] is not asked:  # one app context can serve several requests (tests)
        cached = g._freshness = (asked, now(), current_app.config["FRESH_HOURS"], current_app.config["STALE_HOURS"])
    return bed_services.freshness(pool.last_confirmed_at, *cached[1:])


def admits_words(pool) -> str:
    """'girls, 12–17 years'; worded once per request for each kind of pool."""
    key = (pool.admits_sex, pool.min_age, pool.max_age)
    cache = g.setdefault("admits_words", {})
    if key not in cache:
        who = {"female": _("girls"), "male": _("boys"), "any": _("girls and boys")}[pool.admits_sex]
        cache[key] = _("%(who)s, %(min)s–%(max)s years", who=who, min=pool.min_age, max=pool.max_age)
    return cache[key]


def can(user, question: str) -> bool:
    """What a page may ask of the signed-in person, answered by the rule's own domain, so
    that templates never compare roles themselves."""
    from .admin.services import may_administer
    from .audit.services import may_browse
    from .escalations.services import may_watch_escalations
    from .referrals.reach import may_see_any_name
    from .referrals.services import may_list_referrals, works_with_children
    from .reports.scope import may_read_aggregates

    return {
        "work_with_children": works_with_children,  # register, list and refer children
        "list_referrals": may_list_referrals,
        "find_children": may_see_any_name,  # the search in the header
        "browse_audit": may_browse,
        "administer": may_administer,
        "read_reports": may_read_aggregates,
        "watch_escalations": may_watch_escalations,  # oversight's list of referrals nobody answered
    }[question](user)


def unread_badge(unread: int) -> str:
    """The badge's number: "99+" past what unread_count counts to."""
    from .notifications.services import UNREAD_SHOWN

    return f"{UNREAD_SHOWN}+" if unread > UNREAD_SHOWN else str(unread)


def _unread_notifications() -> int:
    from flask_login import current_user

    from .notifications.services import unread_count

    return unread_count(current_user) if current_user.is_authenticated else 0


def register_templating(app: Flask) -> None:
    app.jinja_env.add_extension("jinja2.ext.do")
    app.jinja_env.filters["ago"] = i18n.ago
    app.jinja_env.filters["unread_badge"] = unread_badge
    app.jinja_env.filters["day_and_time"] = i18n.day_and_time
    app.jinja_env.filters["until"] = i18n.until
    app.jinja_env.filters["since"] = waited_for
    app.jinja_env.filters["datetime"] = i18n.when
    app.jinja_env.filters["word"] = word
    app.jinja_env.filters["record_part"] = record_part  # "birth_date" -> "Date of birth"
    app.jinja_env.filters["language_names"] = languages.listed  # codes -> "Persian, Russian"
    app.jinja_env.filters["duration"] = i18n.duration  # a timedelta -> "7 h 05 min"
    app.jinja_env.filters["found_place"] = found_place  # "police_station" -> "Police station"

    @app.context_processor
    def helpers():
        return {
            "logout_form": LogoutForm,
            "can": can,
            "freshness_of": freshness_of,
            "word": word,
            "timeline_step": timeline_step,
            "discharge_outcome": discharge_outcome,
            "admits_words": admits_words,
            "current_locale": i18n.current_language(),
            "languages": i18n.LANGUAGES,
            "time_zone": str(current_app.config["BABEL_DEFAULT_TIMEZONE"]),
            "now": now,
            "today": i18n.local_today,
            "unread_notifications": _unread_notifications,
        }
