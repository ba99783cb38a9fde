"""What every form shares: WTForms' own messages in the user's language, times that
people type in their own zone, and languages chosen from the list."""
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime

from flask_babel import get_translations, lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import DateTimeLocalField, Field, SelectMultipleField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import Length, Optional, ValidationError
from wtforms.widgets import CheckboxInput, ListWidget

from . import languages
from .errors import DomainError
from .i18n import to_utc
from .paging import parse_cursor


class _AppTranslations:
    """WTForms asks here for its own messages ("This field is required.", …); they are in
    the app's catalogs, because WTForms ships no Azerbaijani. WTForms fills in their
    placeholders itself, so the raw translation is returned."""

    def gettext(self, string):
        return get_translations().ugettext(string)

    def ngettext(self, singular, plural, n):
        return get_translations().ungettext(singular, plural, n)


class Form(FlaskForm):
    class Meta:
        def get_translations(self, form):
            return _AppTranslations()


def report_problems(form: Form, problems: dict[str, str]) -> None:
    """Show the service's problems ({field: message}) beside WTForms' own, so that one answer
    names every problem. Each goes under its field, unless WTForms already said what is wrong
    there (its word is the more exact: "Not a valid date value" rather than "missing"); a
    problem about no field of this form goes above the form."""
    for name, message in problems.items():
        field = form._fields.get(name)
        if field is None:
            form.form_errors.append(message)
        elif not field.errors:
            field.errors = [*field.errors, message]


def report_refusal(form: Form, refusal: DomainError) -> None:
    """A service's refusal shown on the form it refused: each problem under its field when
    the refusal names fields (InvalidInput, InvalidFields), else above the form."""
    problems = getattr(refusal, "problems", None)
    if problems:
        report_problems(form, problems)
    else:
        form.form_errors.append(refusal.message)


def options(choices: Mapping | Iterable[tuple]) -> list[SelectChoice]:
    """What a select, a radio group or a list of checkboxes offers, from {value: label} or
    (value, label) pairs, in the form WTForms takes them."""
    pairs = choices.items() if isinstance(choices, Mapping) else choices
    return [SelectChoice(value, label) for value, label in pairs]


def page_cursor(form, field) -> None:
    """A list's `before` or `after`: a cursor from the list's own links (coordination/paging.py),
    and only one of the two."""
    if not field.data:
        return
    try:
        parse_cursor(field.data)
    except ValueError:
        valid = False
    else:
        valid = not (field.name == "after" and form.before.data)
    if not valid:
        raise ValidationError(_l("Not a page of this list: follow the list's own Next and Previous links."))


class PageCursorField(StringField):
    """Where a page of a long list starts; the form's `before` and `after`."""

    def __init__(self, label=_l("Page"), **kwargs):
        super().__init__(label, validators=[Optional(), page_cursor], **kwargs)


class MultiCheckboxField(SelectMultipleField):
    """Several choices, each a checkbox (a multiple select is hard to use, on a phone above all)."""

    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


EARLIEST, LATEST = datetime(2000, 1, 1), datetime(2100, 1, 1)


class LocalDateTimeField(DateTimeLocalField):
    """A date and time typed as a clock reading in the user's zone; `utc` gives it as UTC.
    A time outside this century cannot be a real arrival or consent and is refused."""

    def pre_validate(self, form):
        if self.data is not None and not EARLIEST <= self.data < LATEST:
            raise ValidationError(_l("Enter a date and time between 2000 and 2099."))

    @property
    def utc(self) -> datetime | None:
        """The time in UTC; None when none was typed or it is out of range (refused above)."""
        if self.data is None or not EARLIEST <= self.data < LATEST:
            return None
        return to_utc(self.data)


# --- languages -------------------------------------------------------------------------------

CHOOSE_LANGUAGES = _l("Choose the languages from the list offered.")


@dataclass(frozen=True)
class LanguageOption:
    code: str
    label: str
    chosen: bool    # ticked
    matching: bool  # what was searched for names it

    @property
    def shown(self) -> bool:
        return self.chosen or self.matching


class LanguagesField(Field):
    """Languages ticked on the list of coordination.languages; its data are their codes. A
    code not on the list is refused. Templates draw it with language_picker (_languages.html)."""

    def __init__(self, label=None, validators=None, **kwargs):
        kwargs.setdefault("default", list)
        super().__init__(label, validators, **kwargs)

    def process_data(self, value):
        self.data = list(value or [])

    def process_formdata(self, valuelist):
        self.data = languages.distinct(valuelist)

    def pre_validate(self, form):
        if languages.unknown(self.data or []):
            raise ValidationError(CHOOSE_LANGUAGES)

    def options(self, search: str = "") -> list[LanguageOption]:
        """Every language on the list, alphabetical in the reader's language. Those neither
        ticked nor matching `search` are left out of sight but kept, so that narrowing the
        list never loses a ticked box."""
        chosen = set(self.data or [])
        return [LanguageOption(code, label, code in chosen, languages.matches(code, search))
                for code, label in languages.choices()]


class LanguageSearchForm(Form):
    """What a language picker's search box sends: the words typed and the boxes ticked."""

    class Meta:
        csrf = False

    language_filter = StringField(_l("Find a language"), validators=[Optional(), Length(max=100)])
    languages = LanguagesField(_l("Languages"))
