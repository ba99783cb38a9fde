"""/healthz: for load balancers and monitors, answered without signing in."""
import pytest

from coordination.extensions import db

from ..conftest import make_app


def test_healthz_answers_200_with_app_and_database_ok_without_signing_in(client):
    response = client.get("/healthz")

    assert response.status_code == 200
    assert response.is_json
    assert response.get_json()["app"] == "ok"
    assert response.get_json()["database"] == "ok"


@pytest.mark.parametrize("where", ["postgresql-port-nobody-listens-on", "sqlite-in-missing-directory"])
def test_healthz_answers_503_when_the_database_does_not_answer(tmp_path, where):
    url = {
        "postgresql-port-nobody-listens-on": "postgresql+psycopg://postgres@127.0.0.1:1/nothing",
        "sqlite-in-missing-directory": f"sqlite:///{tmp_path / 'no-such-directory' / 'db.sqlite3'}",
    }[where]
    unreachable = make_app(url)
    try:
        response = unreachable.test_client().get("/healthz")
    finally:
        with unreachable.app_context():
            db.engine.dispose()

    assert response.status_code == 503
    assert response.is_json
    health = response.get_json()
    assert health["app"] == "ok"
    assert health["database"].startswith("unavailable")
