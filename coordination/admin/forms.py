"""The administration forms. Choices that come from the database (regions, organizations)
are filled in by the route; the rules that need the database live in admin.services."""
from flask_babel import lazy_gettext as _l
from wtforms import BooleanField, EmailField, IntegerField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional, ValidationError

from ..accounts.emails import normalized_email
from ..accounts.models import ORGANIZATION_KINDS, ROLES
from ..beds.forms import MAX_BEDS
from ..beds.models import SERVICES, SEXES, SHELTER_STATUSES
from ..errors import InvalidInput
from ..forms import Form, LanguagesField, MultiCheckboxField, options
from ..words import ADMITS_LABELS, KIND_LABELS, WORDS

ROLE_CHOICES = options((role, WORDS[role]) for role in ROLES)
MAX_PAGE = 100_000


def _choose(message):
    """What a select field says when what was sent is not one of its choices."""
    return {"invalid_choice_message": message, "invalid_value_message": message}


CHOOSE_KIND = _choose(_l("Choose one of the kinds offered."))
CHOOSE_REGION = _choose(_l("Choose one of the regions offered."))
CHOOSE_ORGANIZATION = _choose(_l("Choose one of the organizations offered."))
CHOOSE_STATUS = _choose(_l("Choose one of the statuses offered."))
CHOOSE_ADMITS = _choose(_l("Choose whom the pool admits from the choices offered."))
CHOOSE_ROLE = _choose(_l("Choose one of the roles offered."))


def _strip(value):
    return value.strip() if isinstance(value, str) else value


def _printable(form, field):
    """Control characters have no place in a name or an address (and PostgreSQL refuses NUL)."""
    if isinstance(field.data, str) and any(ord(c) < 32 and c not in "\t\r\n" for c in field.data):
        raise ValidationError(_l("Remove the control characters from this field."))


def _email_address(form, field):
    """The one rule of what is an email address (accounts.emails), asked before the form is
    sent on, so that the reason stands under the field; said once, after any other problem."""
    if field.errors:
        return
    try:
        normalized_email(field.data)
    except InvalidInput as refusal:
        raise ValidationError(refusal.message) from None


def _text(label, required_message=None, max_length=200, multiline=False):
    validators = [DataRequired(required_message)] if required_message else [Optional()]
    validators += [Length(max=max_length, message=_l("Keep this under %(n)s characters.", n=max_length)),
                   _printable]
    field = TextAreaField if multiline else StringField
    return field(label, validators=validators, filters=[_strip], default="")


class ActionForm(Form):
    """A form with nothing but its CSRF token, for the buttons that change one thing."""


class PageForm(Form):
    class Meta:
        csrf = False

    page = IntegerField(validators=[Optional(), NumberRange(1, MAX_PAGE, _l("There is no such page."))], default=1)


class RegionForm(Form):
    code = _text(_l("Code"), _l("Give the region a short code."), max_length=20)
    name = _text(_l("Official name (Azerbaijani)"), _l("Give the region's name."), max_length=100)
    name_ru = _text(_l("Name in Russian"), max_length=100)
    name_en = _text(_l("Name in English"), max_length=100)


class OrganizationForm(Form):
    name = _text(_l("Name"), _l("Give the organization's name."), max_length=200)
    kind = SelectField(_l("Kind"), choices=options((k, KIND_LABELS[k]) for k in ORGANIZATION_KINDS), **CHOOSE_KIND)
    region = SelectField(_l("Home region"), choices=[], coerce=int, **CHOOSE_REGION)


class ShelterForm(Form):
    organization = SelectField(_l("Run by (organization)"), choices=[], coerce=int, **CHOOSE_ORGANIZATION)
    region = SelectField(_l("Region"), choices=[], coerce=int, **CHOOSE_REGION)
    name = _text(_l("Name"), _l("Give the shelter's name."), max_length=200)
    address = _text(_l("Address"), max_length=500)
    phone = _text(_l("Phone"), max_length=50)
    status = SelectField(_l("Status"), choices=options((s, WORDS[s]) for s in SHELTER_STATUSES), default="open",
                         **CHOOSE_STATUS)
    languages = LanguagesField(_l("Languages the staff speak"))
    services = MultiCheckboxField(_l("Services"), choices=options((s, WORDS[s]) for s in SERVICES),
                                  validators=[Optional()])
    accessibility = _text(_l("Accessibility"), max_length=2000, multiline=True)


class PoolForm(Form):
    label = _text(_l("Label"), _l("Give the pool a label, such as “Girls 12–17”."), max_length=100)
    admits_sex = SelectField(_l("Admits"), choices=options((s, ADMITS_LABELS[s]) for s in SEXES), default="any",
                             **CHOOSE_ADMITS)
    min_age = IntegerField(_l("Youngest age"), default=0, validators=[
        InputRequired(_l("Give the youngest age.")), NumberRange(0, 17, _l("Ages run from 0 to 17."))])
    max_age = IntegerField(_l("Oldest age"), default=17, validators=[
        InputRequired(_l("Give the oldest age.")), NumberRange(0, 17, _l("Ages run from 0 to 17."))])
    capacity = IntegerField(_l("Capacity (beds)"), validators=[
        InputRequired(_l("Give the number of beds.")),
        NumberRange(0, MAX_BEDS, _l("Capacity must be a whole number from 0 to %(max)s.", max=MAX_BEDS))])


class NewUserForm(Form):
    email = EmailField(_l("Email"), filters=[_strip], validators=[
        DataRequired(_l("Give the person's email address.")),
        Length(max=254, message=_l("Keep this under %(n)s characters.", n=254)), _printable, _email_address])
    name = _text(_l("Name"), _l("Give the person's name."), max_length=200)
    role = SelectField(_l("Role"), choices=ROLE_CHOICES, **CHOOSE_ROLE)
    organization = SelectField(_l("Organization"), choices=[], coerce=int, **CHOOSE_ORGANIZATION)


class EditUserForm(Form):
    name = _text(_l("Name"), _l("Give the person's name."), max_length=200)
    role = SelectField(_l("Role"), choices=ROLE_CHOICES, **CHOOSE_ROLE)
    organization = SelectField(_l("Organization"), choices=[], coerce=int, **CHOOSE_ORGANIZATION)
    active = BooleanField(_l("Active (may sign in)"))


class UserFilterForm(Form):
    """The user list's filters, read from the query string so a filtered list is a link."""

    class Meta:
        csrf = False

    organization = SelectField(_l("Organization"), choices=[], default="", **CHOOSE_ORGANIZATION)
    role = SelectField(_l("Role"), choices=options([("", _l("Any role"))]) + ROLE_CHOICES, default="", **CHOOSE_ROLE)
    page = IntegerField(validators=[Optional(), NumberRange(1, MAX_PAGE, _l("There is no such page."))], default=1)


class SecurityForm(Form):
    require_totp = MultiCheckboxField(_l("Require two-factor sign-in for"), choices=ROLE_CHOICES,
                                      validators=[Optional()])
