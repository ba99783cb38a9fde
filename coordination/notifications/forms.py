from ..forms import Form


class MarkReadForm(Form):
    """Only the CSRF token: marking read is a change too."""
