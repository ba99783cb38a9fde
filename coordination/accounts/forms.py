from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import EmailField, HiddenField, PasswordField, StringField
from wtforms.validators import EqualTo, InputRequired, Length


class LoginForm(FlaskForm):
    email = EmailField(_l("Email"), validators=[InputRequired(_l("Enter your email address.")),
                                                Length(max=254)])
    password = PasswordField(_l("Password"), validators=[InputRequired(_l("Enter your password.")),
                                                         Length(max=1024)])
    next = HiddenField()


class LogoutForm(FlaskForm):
    """A form with nothing but its CSRF token: signing out is a state change too."""


class ChangePasswordForm(FlaskForm):
    current = PasswordField(_l("Current password"), validators=[InputRequired(_l("Enter your current password.")),
                                                                Length(max=1024)])
    new = PasswordField(_l("New password (at least 12 characters)"),
                        validators=[InputRequired(_l("Choose a new password.")), Length(max=1024)])
    confirm = PasswordField(_l("New password again"),
                            validators=[EqualTo("new", _l("The two new passwords differ."))])


class CodeForm(FlaskForm):
    code = StringField(_l("Six-digit code from your authenticator app"),
                       validators=[InputRequired(_l("Enter the code.")), Length(max=10)])
