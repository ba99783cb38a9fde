"""The OpenAPI 3.1 description of /api/v1, built from Python dicts so that it sits beside the
code it describes. The tests hold it to the truth: it must be valid OpenAPI 3.1, name every
route of the API, and every answer the API tests receive must match its schema here."""
from .tokens import SCOPES

VERSION = "1.0.0"


def _nullable(schema: dict) -> dict:
    kind = schema["type"]
    return {**schema, "type": [kind, "null"] if isinstance(kind, str) else [*kind, "null"]}


def _object(properties: dict, required: list | None = None, extra: bool = False) -> dict:
    return {"type": "object", "properties": properties,
            "required": list(properties) if required is None else required,
            "additionalProperties": extra}


def _ref(name: str) -> dict:
    return {"$ref": f"#/components/schemas/{name}"}


STRING = {"type": "string"}
INTEGER = {"type": "integer"}
BOOLEAN = {"type": "boolean"}
TIME = {"type": "string", "format": "date-time"}
STRINGS = {"type": "array", "items": STRING}
SEX = {"type": "string", "enum": ["female", "male"]}

SCHEMAS = {
    "Problem": _object({
        "type": {"type": "string", "format": "uri"}, "title": STRING, "status": INTEGER,
        "detail": {"type": "string", "description": "The same message a person gets on the page, in the "
                                                    "language of Accept-Language."},
        "instance": STRING,
        "errors": {"type": "object", "additionalProperties": STRING,
                   "description": "422: the problem of each field, by its name."},
        "current_version": INTEGER, "pool": _ref("Pool"),
        "duplicates": {"type": "array", "items": _object({"id": INTEGER, "case_reference": STRING,
                                                           "given_name": STRING, "family_name": STRING})},
    }, required=["type", "title", "status", "detail", "instance"]),
    "Region": _object({"id": INTEGER, "code": STRING, "name": STRING, "name_ru": STRING, "name_en": STRING}),
    "Organization": _object({"id": INTEGER, "name": STRING, "kind": {"type": "string",
                                                                     "enum": ["ngo", "state", "international"]},
                             "active": BOOLEAN}),
    "Shelter": _object({
        "id": INTEGER, "name": STRING, "status": {"type": "string", "enum": ["open", "suspended", "closed"]},
        "organization": _ref("Organization"), "region": _ref("Region"), "phone": STRING,
        "languages": STRINGS, "services": STRINGS, "accessibility": STRING,
        "pools": {"type": "array", "items": INTEGER},
        "changed_at": TIME,
        "address": {"type": "string", "description": "Only to the shelter's own staff, the region's "
                                                     "guardianship and admins."},
    }, required=["id", "name", "status", "organization", "region", "phone", "languages", "services",
                 "accessibility", "pools", "changed_at"]),
    "Pool": _object({
        "id": INTEGER, "label": STRING,
        "shelter": _object({"id": INTEGER, "name": STRING, "status": STRING, "organization_id": INTEGER,
                            "region_id": INTEGER}),
        "admits_sex": {"type": "string", "enum": ["female", "male", "any"]},
        "min_age": INTEGER, "max_age": INTEGER, "capacity": INTEGER, "occupied": INTEGER,
        "out_of_service": INTEGER, "out_of_service_reason": STRING,
        "held": {"type": "integer", "description": "Beds held by live referrals (holds past their deadline "
                                                   "no longer count)."},
        "available": {"type": "integer", "description": "capacity − occupied − out_of_service − held, "
                                                        "never below zero."},
        "offered": {"type": "boolean", "description": "On the bed board: the shelter is open and its "
                                                     "organization active."},
        "last_confirmed_at": _nullable(TIME),
        "freshness": {"type": "string", "enum": ["fresh", "aging", "stale"]},
        "version": {"type": "integer", "description": "Send it back with a count change; a stale one is "
                                                     "refused (409)."},
        "changed_at": TIME,
    }),
    "Page": _object({"next": _nullable({"type": "string", "description": "The next page's address."}),
                     "sync": _object({"changed_since": {**TIME, "description": "Give this as changed_since "
                                                        "once every page is read."}})},
                    extra=True, required=["next", "sync"]),
    "ShelterPage": {"allOf": [_ref("Page"), {"type": "object", "properties": {
        "items": {"type": "array", "items": _ref("Shelter")}}, "required": ["items"]}]},
    "PoolPage": {"allOf": [_ref("Page"), {"type": "object", "properties": {
        "items": {"type": "array", "items": _ref("Pool")}}, "required": ["items"]}]},
    "Child": _object({
        "id": INTEGER, "case_reference": STRING, "sex": SEX, "age": INTEGER, "languages": STRINGS,
        "needs": STRINGS, "region_id": INTEGER, "has_consent": BOOLEAN,
        "given_name": {"type": "string", "description": "Only to whom may read the name on the page."},
        "family_name": STRING,
    }, required=["id", "case_reference", "sex", "age", "languages", "needs", "region_id", "has_consent"]),
    "ReferralSummary": _object({
        "id": INTEGER, "status": STRING, "urgency": {"type": "string", "enum": ["routine", "urgent", "emergency"]},
        "child": _object({"id": INTEGER, "case_reference": STRING}),
        "pool": _object({"id": INTEGER, "label": STRING, "shelter_id": INTEGER, "shelter_name": STRING}),
        "referring_organization_id": INTEGER, "hold_until": _nullable(TIME), "status_changed_at": TIME,
    }),
    "Move": _object({"action": STRING, "to": STRING, "label": STRING,
                     "reason": {"type": "string", "enum": ["none", "text", "code"]},
                     "reason_codes": STRINGS, "consequence": _nullable(STRING)}),
    "TimelineStep": _object({
        "from": _nullable(STRING), "to": STRING, "at": TIME,
        "by": _nullable(_object({"name": STRING, "organization": STRING})),
        "reason_code": STRING, "reason_text": STRING}),
}
SCHEMAS["Referral"] = _object({
    **SCHEMAS["ReferralSummary"]["properties"], "child": _ref("Child"), "note": STRING,
    **{name: _nullable(TIME) for name in ("created_at", "submitted_at", "accepted_at", "approved_at",
                                          "arrived_at", "ended_at", "decision_due_at")},
    "reason_code": STRING, "reason_text": STRING, "group_id": _nullable(INTEGER),
    "transfer_of_id": _nullable(INTEGER),
    "timeline": {"type": "array", "items": _ref("TimelineStep")},
    "moves": {"type": "array", "items": _ref("Move"), "description": "The moves the caller may make now."},
})
SCHEMAS["ReferralPage"] = _object({"items": {"type": "array", "items": _ref("ReferralSummary")},
                                   "next": _nullable(STRING), "previous": _nullable(STRING)})
# What clients send: checked by the pages' own forms, whose messages come back under `errors`.
SCHEMAS.update({
    "Version": _object({"version": INTEGER}),
    "AdjustInput": _object({"field": {"type": "string", "enum": ["occupied", "out_of_service"]},
                            "delta": {"type": "integer", "enum": [-1, 1]}, "version": INTEGER}),
    "CountsInput": _object({"occupied": INTEGER, "out_of_service": INTEGER, "out_of_service_reason": STRING,
                            "version": INTEGER}, required=["occupied", "out_of_service", "version"]),
    "ChildInput": _object({
        "given_name": STRING, "family_name": STRING, "sex": SEX, "birth_date": {"type": "string", "format": "date"},
        "estimated_age": {"type": "integer", "minimum": 0, "maximum": 17}, "nationality": STRING,
        "languages": {**STRINGS, "description": "ISO 639 codes, as /languages lists them."},
        "needs": STRINGS, "region": {"type": "integer", "description": "The child's current region."},
        "found_place": STRING, "found_region": INTEGER, "found_at": TIME,
        "consent_given_by": STRING, "consent_given_at": TIME, "child_assent": BOOLEAN,
        "confirm_not_duplicate": {"type": "boolean", "description": "Register even though a likely "
                                                                    "duplicate was pointed out (409)."},
    }, required=["given_name", "sex", "region", "found_place", "found_region", "found_at"]),
    "ConsentInput": _object({"consent_given_by": STRING, "consent_given_at": TIME, "child_assent": BOOLEAN},
                            required=["consent_given_by", "consent_given_at"]),
    "ReferralInput": _object({"child": INTEGER, "pool": INTEGER,
                              "urgency": {"type": "string", "enum": ["routine", "urgent", "emergency"]},
                              "note": STRING}, required=["child", "pool"]),
    "MoveInput": _object({"action": STRING, "reason_code": STRING, "reason_text": STRING,
                          "arrived_at": {**TIME, "description": "place, place_now: when the child arrived; "
                                                                "empty means now."}}, required=["action"]),
})


def _json(schema: dict, description: str) -> dict:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def _problem(description: str) -> dict:
    return {"description": description, "content": {"application/problem+json": {"schema": _ref("Problem")}}}


PROBLEMS = {
    "400": _problem("The request could not be understood (a body that is not a JSON object, a bad filter)."),
    "401": _problem("No token, an unknown one, or one revoked, expired or of a deactivated organization."),
    "403": _problem("The token lacks the scope, or its role may not do this."),
    "404": _problem("Nothing here, or nothing the caller may see (as if it did not exist)."),
    "409": _problem("Refused as the page refuses it: changed meanwhile (with current_version and pool), no bed "
                    "free, a step not possible now, a likely duplicate (with duplicates)."),
    "415": _problem("The body was not sent as application/json."),
    "422": _problem("Invalid input: every problem, under errors by field."),
    "429": _problem("Too many requests with this token (API_RATE_LIMIT); see Retry-After."),
    "default": _problem("Any other error (405, 500, 503), as problem details."),
}
READ_PROBLEMS = ("400", "401", "403", "404", "429", "default")
WRITE_PROBLEMS = ("400", "401", "403", "404", "409", "415", "422", "429", "default")


def _operation(summary: str, scope: str | None, ok: dict, problems=READ_PROBLEMS, parameters=(),
               body: str | None = None, status: str = "200") -> dict:
    operation = {"summary": summary, "responses": {status: ok, **{code: PROBLEMS[code] for code in problems}}}
    if scope:
        operation["security"] = [{"bearer": [scope]}]
        operation["description"] = f"Needs the scope `{scope}`."
    else:
        operation["security"] = []
    if parameters:
        operation["parameters"] = list(parameters)
    if body:
        operation["requestBody"] = {"required": True, "content": {"application/json": {"schema": _ref(body)}}}
    return operation


def _query(name: str, schema: dict, description: str) -> dict:
    return {"name": name, "in": "query", "required": False, "schema": schema, "description": description}


def _path_id(name: str) -> dict:
    return {"name": name, "in": "path", "required": True, "schema": {"type": "integer", "minimum": 1}}


LIST_PARAMETERS = (
    _query("region", INTEGER, "Only this region's (its id)."),
    _query("changed_since", TIME, "Only what changed since: the sync.changed_since of the last answer."),
    _query("after", STRING, "The page after another: taken from the next link."),
    _query("limit", {"type": "integer", "minimum": 1, "maximum": 500}, "Records a page (100 unless given)."),
)
REFERRAL_PARAMETERS = (
    _query("status", STRING, "Only referrals in this status."),
    _query("region", INTEGER, "Only referrals to shelters of this region."),
    _query("urgency", {"type": "string", "enum": ["routine", "urgent", "emergency"]}, "Only this urgency."),
    _query("before", STRING, "The page of older referrals: taken from the next link."),
    _query("after", STRING, "The page of newer referrals: taken from the previous link."),
)


def document() -> dict:
    """The whole description, as served at /api/v1/openapi.json."""
    pool_id, referral_id, child_id = _path_id("pool_id"), _path_id("referral_id"), _path_id("child_id")
    return {
        "openapi": "3.1.0",
        "info": {"title": "Shelter and referral coordination API", "version": VERSION,
                 "description": "The bed board and referrals for other systems. Every write goes through the "
                                "same operations as the pages, with the same rules, refusals and audit trail. "
                                "Errors are RFC 9457 problem details."},
        "servers": [{"url": "/api/v1"}],
        "security": [{"bearer": []}],
        "paths": {
            "/openapi.json": {"get": _operation("This description", None, _json(
                {"type": "object"}, "The OpenAPI 3.1 document."), problems=("default",))},
            "/shelters": {"get": _operation("Shelters, with organization and region", "beds:read", _json(
                _ref("ShelterPage"), "A page of shelters, in id order."), parameters=LIST_PARAMETERS)},
            "/pools": {"get": _operation("Bed pools with availability and freshness", "beds:read", _json(
                _ref("PoolPage"), "A page of pools, in id order."), parameters=LIST_PARAMETERS)},
            "/pools/{pool_id}": {"parameters": [pool_id], "get": _operation(
                "One bed pool", "beds:read", _json(_ref("Pool"), "The pool now."))},
            "/pools/{pool_id}/adjust": {"parameters": [pool_id], "post": _operation(
                "One bed more or less occupied or out of service", "beds:write",
                _json(_ref("Pool"), "The pool after the change."), WRITE_PROBLEMS, body="AdjustInput")},
            "/pools/{pool_id}/counts": {"parameters": [pool_id], "post": _operation(
                "Set occupied and out of service", "beds:write",
                _json(_ref("Pool"), "The pool after the change."), WRITE_PROBLEMS, body="CountsInput")},
            "/pools/{pool_id}/confirm": {"parameters": [pool_id], "post": _operation(
                "Confirm the counts are still true", "beds:write",
                _json(_ref("Pool"), "The pool, confirmed now."), WRITE_PROBLEMS, body="Version")},
            "/children": {"post": _operation(
                "Register a child", "children:write", _json(_ref("Child"), "The child registered."),
                WRITE_PROBLEMS, body="ChildInput", status="201")},
            "/children/{child_id}/consent": {"parameters": [child_id], "post": _operation(
                "Record consent to share", "children:write", _json(_ref("Child"), "The child."),
                WRITE_PROBLEMS, body="ConsentInput")},
            "/referrals": {
                "get": _operation("The caller's referrals, latest change first", "referrals:read", _json(
                    _ref("ReferralPage"), "A page of referrals."), parameters=REFERRAL_PARAMETERS),
                "post": _operation("Draft a referral", "referrals:write", _json(
                    _ref("Referral"), "The draft; submit it with the move submit."), WRITE_PROBLEMS,
                    body="ReferralInput", status="201")},
            "/referrals/{referral_id}": {"parameters": [referral_id], "get": _operation(
                "One referral, its timeline and the caller's moves", "referrals:read",
                _json(_ref("Referral"), "The referral."))},
            "/referrals/{referral_id}/moves": {"parameters": [referral_id], "post": _operation(
                "Make a move of the referral", "referrals:write", _json(_ref("Referral"), "The referral after it."),
                WRITE_PROBLEMS, body="MoveInput")},
            "/hsds/services": {"get": _operation(
                "The directory as HSDS 3.1 services", "beds:read", _json(
                    {"type": "array", "items": {"type": "object"}},
                    "Each bed pool as an Open Referral HSDS 3.1 service (schema/compiled/service.json of the "
                    "specification), with its organization, location and service_capacity nested. No child "
                    "data and no shelter's address."))},
            "/hsds/datapackage.zip": {"get": _operation(
                "The directory as an HSDS 3.1 Tabular Data Package", "beds:read", {
                    "description": "datapackage.json, one CSV a table and services.json, zipped.",
                    "content": {"application/zip": {"schema": {"type": "string",
                                                               "contentMediaType": "application/zip"}}}})},
        },
        "components": {
            "securitySchemes": {"bearer": {
                "type": "http", "scheme": "bearer",
                "description": "An API token made by an administrator (/admin/api-tokens). Scopes: "
                               + ", ".join(SCOPES) + "."}},
            "schemas": SCHEMAS,
        },
    }
