"""The forms of sibling groups: linking, and referring them together (unlinking is a button
with its CSRF token)."""
from flask_babel import lazy_gettext as _l
from wtforms import SelectField, StringField, TextAreaField
from wtforms.validators import InputRequired, Length, Optional

from ..forms import Form, MultiCheckboxField, options
from ..words import URGENCY_LABELS


class SiblingLinkForm(Form):
    case_reference = StringField(_l("Case reference of the brother or sister"),
                                 validators=[InputRequired(_l("Enter the sibling's case reference.")), Length(max=20)],
                                 filters=[lambda v: v.strip() if isinstance(v, str) else v])


class GroupReferralForm(Form):
    children = MultiCheckboxField(_l("Siblings to refer together"), choices=[],
                                  validators=[InputRequired(_l("Choose the siblings to refer together."))])
    shelter = SelectField(_l("Shelter"), choices=[], validate_choice=False,
                          validators=[InputRequired(_l("Choose a shelter."))])
    urgency = SelectField(_l("Urgency"), choices=options(URGENCY_LABELS), default="routine")
    note = TextAreaField(_l("Note for the shelter"), validators=[Optional(), Length(max=2000)])
