"""What every form shares: WTForms' own messages in the user's language, and times that
people type in their own zone."""
from datetime import datetime

from flask_babel import get_translations, lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import DateTimeLocalField
from wtforms.validators import ValidationError

from .i18n import to_utc


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


EARLIEST, LATEST = datetime(2000, 1, 1), datetime(2100, 1, 1)


class LocalDateTimeField(DateTimeLocalField):
    """A date and time typed as a clock reading in the user's zone; `utc` gives it as UTC.
    A time outside this century cannot be a real arrival or consent and is refused."""

    def pre_validate(self, form):
        if self.data is not None and not EARLIEST <= self.data < LATEST:
            raise ValidationError(_l("Enter a date and time between 2000 and 2099."))

    @property
    def utc(self) -> datetime | None:
        return to_utc(self.data)
