from flask_babel import lazy_gettext as _l
from wtforms import DateField, SelectField
from wtforms.validators import Optional

from ..forms import Form


class ReportFilterForm(Form):
    """The reports' filters, in the address: a GET form, so a filtered report is a link."""

    class Meta:
        csrf = False

    date_from = DateField(_l("From"), validators=[Optional()])
    date_to = DateField(_l("To"), validators=[Optional()])
    region = SelectField(_l("Region"), choices=[], default="")
    organization = SelectField(_l("Organization"), choices=[], default="")
