from flask_wtf import FlaskForm


class MarkReadForm(FlaskForm):
    """Only the CSRF token: marking read is a change too."""
