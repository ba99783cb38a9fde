"""The admins' form for a new API token."""
from flask_babel import lazy_gettext as _l
from wtforms import DateField, SelectField, StringField
from wtforms.validators import DataRequired, Length, Optional

from ..forms import Form, MultiCheckboxField, options
from ..words import WORDS
from .tokens import SCOPES, TOKEN_ROLES

SCOPE_LABELS = {
    "beds:read": _l("beds:read — read the shelters, pools and free beds"),
    "beds:write": _l("beds:write — change and confirm the bed counts of the organization's shelters"),
    "referrals:read": _l("referrals:read — read the referrals the role may see"),
    "referrals:write": _l("referrals:write — make referrals and their steps, as the role may"),
    "children:write": _l("children:write — register children and record consent"),
}


class NewTokenForm(Form):
    label = StringField(_l("Who uses it"), validators=[
        DataRequired(_l("Say who will use the token, e.g. the system's name.")),
        Length(max=200, message=_l("Keep this under %(n)s characters.", n=200))],
        filters=[lambda v: v.strip() if isinstance(v, str) else v])
    organization = SelectField(_l("Organization"), coerce=int, choices=[],
                               invalid_choice_message=_l("Choose one of the organizations offered."),
                               invalid_value_message=_l("Choose one of the organizations offered."))
    role = SelectField(_l("Acts as"), choices=options((role, WORDS[role]) for role in TOKEN_ROLES),
                       invalid_choice_message=_l("Choose one of the roles offered."))
    scopes = MultiCheckboxField(_l("May"), choices=options((scope, SCOPE_LABELS[scope]) for scope in SCOPES),
                                validators=[Optional()])
    expires_on = DateField(_l("Expires on (optional)"), validators=[Optional()])
