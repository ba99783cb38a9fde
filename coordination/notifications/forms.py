from ..forms import Form, PageCursorField


class MarkReadForm(Form):
    """Only the CSRF token: marking read is a change too."""


class NotificationPageForm(Form):
    """Which page of the notifications: the newest, or the one a pager link names."""

    class Meta:
        csrf = False

    before = PageCursorField()
    after = PageCursorField()
