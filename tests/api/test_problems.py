"""Every error under /api/ is RFC 9457 problem details, in the caller's language, while the
pages answer exactly as before."""
import pytest

from coordination.extensions import db

PROBLEM_KEYS = {"type", "title", "status", "detail", "instance"}


def _is_problem(response, status: int) -> dict:
    assert response.status_code == status
    assert response.mimetype == "application/problem+json"
    body = response.get_json()
    assert PROBLEM_KEYS <= set(body) and body["status"] == status
    assert body["type"].startswith("urn:coordination:problem:")
    return body


def test_an_address_the_api_does_not_have_is_404(make_token):
    api, _token = make_token("caseworker")

    body = _is_problem(api.get("/api/v1/nothing-here"), 404)

    assert body["instance"] == "/api/v1/nothing-here"
    assert body["detail"] == "There is nothing here. Check the address, or go back to your work queue."


def test_a_method_the_address_does_not_take_is_405_with_allow(make_token):
    api, _token = make_token("caseworker")

    response = api.request("DELETE", "/api/v1/pools")

    _is_problem(response, 405)
    assert "GET" in response.headers["Allow"]


def test_a_record_the_caller_may_not_see_is_404_as_if_it_did_not_exist(make, make_token):
    api, _token = make_token("caseworker")
    someone_elses = make.referral(status="submitted")

    body = _is_problem(api.get(f"/api/v1/referrals/{someone_elses.id}"), 404)
    assert _is_problem(api.get("/api/v1/referrals/2147483647"), 404)["detail"] == body["detail"]


def test_a_body_that_is_not_json_is_415_and_unreadable_json_400(make, make_token):
    pool = make.pool()
    api, _token = make_token("shelter_staff", organization=pool.shelter.organization)

    not_json = api.request("POST", f"/api/v1/pools/{pool.id}/confirm", raw="version=1",
                           content_type="application/x-www-form-urlencoded")
    broken = api.request("POST", f"/api/v1/pools/{pool.id}/confirm", raw="{not json")
    a_list = api.post(f"/api/v1/pools/{pool.id}/confirm", [1])
    nested = api.post(f"/api/v1/pools/{pool.id}/confirm", {"version": {"no": 1}})

    assert _is_problem(not_json, 415)["detail"] == (
        "Send the request's body as JSON (Content-Type: application/json).")
    for response in (broken, a_list, nested):
        assert _is_problem(response, 400)["detail"] == "The request could not be understood; nothing was changed."
    assert pool.version == 1


def test_invalid_input_is_422_with_every_problem_under_its_field(make, make_token):
    pool = make.pool(capacity=4)
    api, _token = make_token("shelter_staff", organization=pool.shelter.organization)

    body = _is_problem(api.post(f"/api/v1/pools/{pool.id}/counts", {"occupied": 9, "out_of_service": -1}), 422)

    assert body["errors"] == {
        "occupied": "Occupied must be a whole number from 0 to 4.",
        "out_of_service": "Out of service must be a whole number from 0 to 4.",
        "version": "The form is missing the pool's version; reload the page.",
    }


@pytest.mark.parametrize("language, detail", [
    ("az", "Bu API açarının təşkilatı deaktiv edilib."),
    ("ru", "Организация этого API-ключа деактивирована."),
    ("en", "The organization of this API token is deactivated."),
])
def test_the_detail_is_in_the_language_the_caller_asks_for(make, make_token, language, detail):
    organization = make.organization()
    api, _token = make_token("caseworker", organization=organization)
    organization.active = False
    db.session.commit()

    body = _is_problem(api.get("/api/v1/pools", language=language), 401)

    assert body["detail"] == detail


def test_a_refusal_reads_as_the_pages_own_words_in_russian(make, make_token):
    pool = make.pool()
    api, _token = make_token("shelter_staff", organization=pool.shelter.organization)

    body = _is_problem(api.post(f"/api/v1/pools/{pool.id}/confirm", {"version": 7}, language="ru"), 409)

    assert body["title"] == "Изменено за это время"
    assert body["detail"] == ("Пока вы просматривали эту группу мест, её изменил кто-то другой. "
                              "Показаны текущие данные; ваши изменения не сохранены.")


def test_the_pages_still_answer_errors_as_pages(login_as):
    person = login_as("caseworker")

    response = person.get("/no-such-page")

    assert response.status_code == 404
    assert response.mimetype == "text/html"
    assert "There is nothing here." in response.get_data(as_text=True)
