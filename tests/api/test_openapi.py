"""The description the app serves is valid OpenAPI 3.1 and names every route of the API.
(That every answer matches it is checked on each request the API tests make: conftest.py.)"""
import re

from openapi_spec_validator import validate

from coordination.api import openapi

from .conftest import PREFIX


def test_the_served_description_is_valid_openapi_3_1(anonymous_api):
    response = anonymous_api.get("/api/v1/openapi.json")

    assert response.status_code == 200
    document = response.get_json()
    assert document["openapi"].startswith("3.1")
    validate(document)  # raises on any departure from the specification


def _api_routes(app):
    for rule in app.url_map.iter_rules():
        if rule.rule.startswith(PREFIX):
            path = re.sub(r"<(?:[^:<>]+:)?([^<>]+)>", r"{\1}", rule.rule)[len(PREFIX):]
            for method in rule.methods - {"HEAD", "OPTIONS"}:
                yield path, method.lower()


def test_every_route_of_the_api_is_described(app):
    paths = openapi.document()["paths"]
    missing = [f"{method.upper()} {path}" for path, method in _api_routes(app)
               if method not in paths.get(path, {})]

    assert len(list(_api_routes(app))) >= 13
    assert missing == []


def test_nothing_is_described_that_the_app_does_not_answer(app):
    routes = set(_api_routes(app))
    described = {(path, method) for path, item in openapi.document()["paths"].items()
                 for method in item if method != "parameters"}

    assert described - routes == set()


def test_every_operation_but_the_description_needs_a_token_and_names_its_scope():
    for path, item in openapi.document()["paths"].items():
        for method, operation in item.items():
            if method == "parameters":
                continue
            if path == "/openapi.json":
                assert operation["security"] == []
            else:
                (requirement,) = operation["security"]
                assert requirement["bearer"][0] in openapi.SCOPES, (path, method)
                assert {"401", "403", "429"} <= set(operation["responses"]), (path, method)
