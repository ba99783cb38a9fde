"""What counts as an email address here, decided in one place for every way an account is
made (the admin's form, create-user) and found (signing in)."""
from email_validator import EmailNotValidError, validate_email
from flask_babel import gettext as _

from ..errors import InvalidInput


def folded_email(text: str) -> str:
    """An address as accounts are kept and found: trimmed, in lower case, so that
    Leyla@Example.org and leyla@example.org are one account."""
    return (text or "").strip().lower()


def normalized_email(text: str) -> str:
    """The address as it is kept (folded_email), refused unless it is an email address by
    the standard's rules (email-validator): something before and after one @, no spaces, a
    domain with a dot (`a@x` is a typo far more often than an address), and not a name
    reserved from mail (`.local`, `.test`, `localhost`). Nobody asks the network whether
    mail reaches it: this server may have none, and an internal address must do."""
    email = folded_email(text)
    if not email:
        raise InvalidInput(_("Give the person's email address."), field="email")
    try:
        validate_email(email, check_deliverability=False)
    except EmailNotValidError:
        raise InvalidInput(_("%(email)s is not an email address.", email=email), field="email") from None
    return email
