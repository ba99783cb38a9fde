from flask_babel import lazy_gettext as _l
from wtforms import DateField, IntegerField, SelectField, StringField
from wtforms.validators import Length, NumberRange, Optional

from ..forms import Form


class AuditFilterForm(Form):
    class Meta:
        csrf = False

    user = StringField(_l("User (email)"), validators=[Optional(), Length(max=254)])
    organization = SelectField(_l("Organization"), choices=[], default="")
    action = SelectField(_l("Action"), choices=[], default="")
    object_type = SelectField(_l("Object"), choices=[], default="")
    object_id = StringField(_l("Object id"), validators=[Optional(), Length(max=40)])
    date_from = DateField(_l("From"), validators=[Optional()])
    date_to = DateField(_l("To"), validators=[Optional()])
    page = IntegerField(validators=[Optional(), NumberRange(1, 1_000_000)], default=1)
