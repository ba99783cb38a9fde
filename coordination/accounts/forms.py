from flask_babel import lazy_gettext as _l
from wtforms import EmailField, HiddenField, PasswordField, SelectField, StringField
from wtforms.validators import EqualTo, InputRequired, Length

from ..forms import Form, MultiCheckboxField, options
from ..i18n import LANGUAGES


class LoginForm(Form):
    email = EmailField(_l("Email"), validators=[InputRequired(_l("Enter your email address.")),
                                                Length(max=254)])
    password = PasswordField(_l("Password"), validators=[InputRequired(_l("Enter your password.")),
                                                         Length(max=1024)])
    next = HiddenField()


class LogoutForm(Form):
    """A form with nothing but its CSRF token: signing out is a state change too."""


class ChangePasswordForm(Form):
    current = PasswordField(_l("Current password"), validators=[InputRequired(_l("Enter your current password.")),
                                                                Length(max=1024)])
    new = PasswordField(_l("New password (at least 12 characters)"),
                        validators=[InputRequired(_l("Choose a new password.")), Length(max=1024)])
    confirm = PasswordField(_l("New password again"),
                            validators=[EqualTo("new", _l("The two new passwords differ."))])


class CodeForm(Form):
    code = StringField(_l("Six-digit code from your authenticator app"),
                       validators=[InputRequired(_l("Enter the code.")), Length(max=10)])


class LanguageForm(Form):
    """The language switcher on every page, and the account page's choice."""
    language = SelectField(_l("Language"), choices=options(LANGUAGES),
                           validators=[InputRequired(_l("Choose a language."))])
    next = HiddenField()


class MailKindsForm(Form):
    """The kinds of e-mail a person receives, of those their role can get (the choices are
    set from notifications/mail.py); which kinds are offered is the service's to check."""
    kinds = MultiCheckboxField(_l("E-mails I receive"), choices=[], validate_choice=False)

    def offer(self, kinds) -> "MailKindsForm":
        self.kinds.choices = options((kind.key, kind.label) for kind in kinds)
        return self
