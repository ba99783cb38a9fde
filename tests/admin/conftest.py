import pytest


@pytest.fixture
def admin(login_as):
    """A signed-in administrator (their own organization, like everyone made by `make`)."""
    return login_as("admin")
