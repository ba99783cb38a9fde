"""The API's own query parameters, and JSON bodies read as the pages' forms read what people
type: the same WTForms forms check both, so that an input rule is written once."""
from datetime import datetime, timezone

from flask import abort, request
from flask_babel import lazy_gettext as _l
from werkzeug.datastructures import MultiDict
from wtforms import IntegerField, StringField
from wtforms.validators import NumberRange, Optional, ValidationError

from ..forms import Form
from ..i18n import zone
from ..paging import parse_cursor

MAX_LIMIT = 500
DEFAULT_LIMIT = 100


def _holds_nul(body) -> bool:
    """Whether a NUL character is in any key or string of the body, however deeply nested
    (walked without recursion: the parser allows nesting deeper than Python's stack)."""
    waiting = [body]
    while waiting:
        value = waiting.pop()
        if isinstance(value, str) and "\x00" in value:
            return True
        if isinstance(value, dict):
            waiting.extend(value.keys())
            waiting.extend(value.values())
        elif isinstance(value, list):
            waiting.extend(value)
    return False


def json_body() -> dict:
    """The request's body, which must be a JSON object (415 for another type, 400 if unreadable).
    A NUL character anywhere in it (JSON writes it \\u0000) is refused whole (400), as the pages
    refuse one in a form field (security.refuse_nul_characters): PostgreSQL cannot store it."""
    if request.mimetype != "application/json":
        abort(415)
    try:
        body = request.get_json(silent=True)
    except RecursionError:  # nested deeper than the parser goes: no real body is
        abort(400)
    if not isinstance(body, dict) or _holds_nul(body):
        abort(400)
    return body


def _local_clock(value: str) -> str:
    """An RFC 3339 time with its offset, as the clock reading in the deployment's zone that the
    pages' date-and-time fields take; anything else as sent, for the field to refuse."""
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return value
    if moment.tzinfo is None:
        return value  # a clock reading without its zone is read as the pages read one: local time
    return moment.astimezone(zone()).replace(tzinfo=None).isoformat(timespec="seconds")


def as_formdata(body: dict, times: tuple[str, ...] = ()) -> MultiDict:
    """A JSON object as what a browser would post: one value per field, several for a list,
    true as a ticked box and false or null as no value at all. Objects inside are refused (400).
    The fields in `times` take RFC 3339 times."""
    pairs = []
    for name, value in body.items():
        for item in value if isinstance(value, list) else [value]:
            if item is None or item is False:
                continue
            if isinstance(item, (dict, list)):
                abort(400)
            if item is True:
                item = "y"
            elif isinstance(item, str) and name in times:
                item = _local_clock(item)
            pairs.append((name, str(item)))
    return MultiDict(pairs)


def _since(form, field):
    if not field.data:
        return
    try:
        moment = datetime.fromisoformat(field.data.replace("Z", "+00:00"))
    except ValueError:
        moment = None
    if moment is None or moment.tzinfo is None:
        raise ValidationError(_l("Give a time as RFC 3339 with its offset, e.g. 2026-12-03T10:00:00Z: "
                                 "the sync value of your last answer."))
    field.moment = moment.astimezone(timezone.utc)


def _page(form, field):
    if not field.data:
        return
    try:
        field.cursor = parse_cursor(field.data)
    except ValueError:
        raise ValidationError(_l("Not a page of this list: follow the list's own Next and Previous links.")) from None


class ListForm(Form):
    """A page of shelters or pools: of one region or all, only what changed since a time, after
    the last of the page before."""

    class Meta:
        csrf = False

    region = IntegerField(validators=[Optional(), NumberRange(1, 2**31 - 1, _l("There is no such region."))])
    changed_since = StringField(validators=[Optional(), _since])
    after = StringField(validators=[Optional(), _page])
    limit = IntegerField(validators=[Optional(), NumberRange(1, MAX_LIMIT, _l(
        "Ask for 1 to %(max)s records a page.", max=MAX_LIMIT))])

    @property
    def since(self) -> datetime | None:
        return getattr(self.changed_since, "moment", None) if self.changed_since.data else None

    @property
    def page_after(self) -> tuple[datetime, int] | None:
        return getattr(self.after, "cursor", None) if self.after.data else None
