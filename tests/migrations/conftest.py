"""A database of each test's own for the migration tests, whose schema moves back and forth."""
import pytest

from coordination.extensions import db

from ..conftest import _database_url, _drop_schema, _own_schema, make_app


@pytest.fixture
def database(tmp_path):
    """A database of its own, outside the suite's, so its schema can move back and forth."""
    url, schema = _own_schema(_database_url(tmp_path))
    app = make_app(url)
    with app.app_context():
        yield app
        db.session.remove()
        db.engine.dispose()
    if schema is not None:
        _drop_schema(_database_url(tmp_path), schema)
