"""A failure on our side answers the API as problem details too: a bug 500, a database that
does not answer 503, in the caller's language, with nothing of the pages in it."""
from coordination.extensions import db

from ..conftest import make_app
from .conftest import ApiClient


def test_a_bug_answers_500_as_a_problem(database_url, make_token):
    api, _token = make_token("caseworker")
    broken = make_app(database_url, PROPAGATE_EXCEPTIONS=False)

    @broken.get("/api/v1/__broken")
    def fails():
        raise RuntimeError("a bug")

    db.session.commit()
    with broken.app_context():
        response = ApiClient(broken, api.secret).get("/api/v1/__broken", check=False, language="ru")

    assert response.status_code == 500
    assert response.mimetype == "application/problem+json"
    body = response.get_json()
    assert body["type"] == "urn:coordination:problem:server-error" and body["title"] == "Ошибка сервера"
    assert "a bug" not in response.get_data(as_text=True)


def test_a_database_that_does_not_answer_is_503_as_a_problem(tmp_path, make_token):
    api, _token = make_token("caseworker")
    unreachable = make_app(f"sqlite:///{tmp_path}/no/such/directory/db.sqlite3", PROPAGATE_EXCEPTIONS=False)

    with unreachable.app_context():
        response = ApiClient(unreachable, api.secret).get("/api/v1/pools")

    assert response.status_code == 503
    assert response.get_json()["detail"] == (
        "The service cannot reach its database just now; nothing was changed. Please try again in a few minutes.")
