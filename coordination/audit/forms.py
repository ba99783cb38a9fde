from flask_babel import lazy_gettext as _l
from wtforms import DateField, IntegerField, SelectField, StringField
from wtforms.validators import Length, NumberRange, Optional

from ..forms import Form


class AuditFilterForm(Form):
    """The trail's filters, all in the address so a filtered view is a link. `before` and
    `after` are the event ids the older and newer pages start from."""

    class Meta:
        csrf = False

    person = StringField(_l("Person (name or e-mail)"), validators=[Optional(), Length(max=254)])
    organization = SelectField(_l("Organization"), choices=[], default="")
    action = SelectField(_l("Action"), choices=[], default="")
    object_type = SelectField(_l("Object"), choices=[], default="")
    object = StringField(_l("Number or case reference"), validators=[Optional(), Length(max=40)])
    date_from = DateField(_l("From"), validators=[Optional()])
    date_to = DateField(_l("To"), validators=[Optional()])
    before = IntegerField(validators=[Optional(), NumberRange(1, 2**62)])
    after = IntegerField(validators=[Optional(), NumberRange(0, 2**62)])

    FILTERS = ("person", "organization", "action", "object_type", "object", "date_from", "date_to")

    def filters(self) -> dict:
        """The filters given, as the address carries them (for the export's own record)."""
        return {name: self[name].raw_data[0] for name in self.FILTERS
                if self[name].raw_data and self[name].raw_data[0].strip()}
