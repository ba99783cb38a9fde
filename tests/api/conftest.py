"""The API as another system calls it: a token made as an admin makes one, requests with
`Authorization: Bearer`, and every answer held to the OpenAPI description (`check_documented`):
its status is documented for that path and method, and its body matches the schema there."""
import json
import re

import pytest
from jsonschema import Draft202012Validator
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012
from werkzeug.exceptions import MethodNotAllowed, NotFound

from coordination.api import openapi, tokens
from coordination.extensions import db

from ..conftest import _acting

DOCUMENT_URI = "urn:coordination:api:openapi"
PREFIX = "/api/v1"


def documented_path(app, path: str, method: str) -> str:
    """The path of the description (/pools/{pool_id}) that the app routes `path` to."""
    adapter = app.url_map.bind("coordination.test")
    endpoint, _args = adapter.match(path, method=method)
    rule = next(r for r in app.url_map.iter_rules() if r.endpoint == endpoint and method in r.methods)
    return re.sub(r"<(?:[^:<>]+:)?([^<>]+)>", r"{\1}", rule.rule)[len(PREFIX):]


def check_documented(app, method: str, path: str, response) -> None:
    """Fail unless the answer is what the description says this path and method answer."""
    document = openapi.document()
    try:
        template = documented_path(app, path, method)
    except NotFound:
        template = None
    except MethodNotAllowed:
        template = documented_path(app, path, "GET")
    operation = document["paths"].get(template, {}).get(method.lower())
    if operation is None:  # an address or a method the API does not have: a problem, 404 or 405
        assert response.status_code in (404, 405), (method, path, response.status_code)
        operation = {"responses": {"default": openapi.PROBLEMS["default"]}}
    status = str(response.status_code)
    assert status in operation["responses"] or "default" in operation["responses"], (
        f"{method} {template} answered {status}, which its description does not name")
    key = status if status in operation["responses"] else "default"
    content = operation["responses"][key].get("content", {})
    mimetype = response.mimetype
    assert mimetype in content, f"{method} {template} {status}: {mimetype} is not documented ({list(content)})"
    if not mimetype.endswith("json"):  # a file to download (the HSDS zip): its own tests look inside
        assert response.get_json(silent=True) is None
        return
    registry = Registry().with_resource(DOCUMENT_URI, Resource.from_contents(document,
                                                                             default_specification=DRAFT202012))
    schema = content[mimetype]["schema"]
    validator = Draft202012Validator({**schema, "$ref": DOCUMENT_URI + schema["$ref"]} if "$ref" in schema
                                     else schema, registry=registry,
                                     format_checker=Draft202012Validator.FORMAT_CHECKER)
    errors = sorted(validator.iter_errors(response.get_json()), key=lambda e: list(e.path))
    assert not errors, f"{method} {path} {status}: " + "; ".join(
        f"{list(e.path)}: {e.message}" for e in errors[:5])


class ApiClient:
    """Another system calling the API: JSON in, JSON out, its token in every request (or none,
    or another's), each answer checked against the description."""

    def __init__(self, app, secret: str | None = None, token=None):
        self.app, self.secret, self.token = app, secret, token
        self.http = app.test_client()

    def request(self, method: str, path: str, body=None, *, headers: dict | None = None, raw: str | None = None,
                content_type: str = "application/json", language: str = "en", check: bool = True):
        sent = {"Accept-Language": language, **(headers or {})}
        if self.secret is not None and "Authorization" not in sent:
            sent["Authorization"] = f"Bearer {self.secret}"
        data = raw if raw is not None else (json.dumps(body) if body is not None else None)
        db.session.commit()
        with self.app.app_context():
            response = self.http.open(path, method=method, headers=sent, data=data,
                                      content_type=content_type if data is not None else None)
        db.session.expire_all()
        if check and path.startswith(PREFIX):
            check_documented(self.app, method, path.split("?")[0], response)
        return response

    def get(self, path: str, **kwargs):
        return self.request("GET", path, **kwargs)

    def post(self, path: str, body=None, **kwargs):
        return self.request("POST", path, body if body is not None else {}, **kwargs)


@pytest.fixture
def make_token(app, make):
    """make_token(role, organization=…, scopes=…): a usable token of a new account of that role
    and organization, made as an admin makes one; answers (ApiClient, token)."""

    def maker(role: str, organization=None, scopes=None, expires_on=None, label="Case system"):
        admin = make.user("admin")
        organization = organization or make.organization()
        with _acting(admin):
            token, secret = tokens.create_token(admin, label, organization.id, role,
                                                list(scopes or tokens.SCOPES_BY_ROLE[role]), expires_on)
        db.session.commit()
        return ApiClient(app, secret, token), token

    return maker


@pytest.fixture
def anonymous_api(app):
    return ApiClient(app)
