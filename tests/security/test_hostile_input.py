"""Random and hostile values, thrown at every form and every query parameter by the person
who would rightly use it: never a 500, nothing changed when refused, and nothing echoed
back unescaped (invariant 3 of DESIGN.md, and the reason the CSP can be strict).

Each test builds its world once; Hypothesis then runs its examples against it, and
every example takes its own snapshot of the database first. The world drifts as examples
succeed (a referral accepted, a child registered): that is fine, every property here
holds in whatever state the world is in."""
import itertools
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from urllib.parse import urlsplit

import pyotp
import pytest
from hypothesis import HealthCheck, example, given, note, settings
from hypothesis import strategies as st
from sqlalchemy import select

from coordination.accounts.models import ROLES as ALL_ROLES
from coordination.accounts.models import Organization, Region, User
from coordination.beds.models import SERVICES, SEXES, BedPool, Shelter
from coordination.extensions import db
from coordination.referrals import services as referral_services
from coordination.referrals.models import TRANSFERABLE, Child

from ..conftest import PASSWORD, Client, owing_a_code
from .checks import inline_code
from .world import World, build_world, signed_in

EXAMPLES = 25
# No example database: ids differ from one run to the next, so a saved example would not
# mean the same thing again.
SETTINGS = settings(max_examples=EXAMPLES, deadline=None, database=None,
                    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow,
                                           HealthCheck.data_too_large, HealthCheck.large_base_example,
                                           HealthCheck.filter_too_much])

# --- hostile values ------------------------------------------------------------------------------

HOSTILE = [
    "<script>alert(1)</script>",
    '"><img src=x onerror=alert(1)>',
    "'><svg onload=alert(1)>",
    "</textarea><script>alert(1)</script>",
    "javascript:alert(1)",
    "'; DROP TABLE child; --",
    "1 OR 1=1",
    "' OR '1'='1",
    "1; SELECT pg_sleep(5)",
    "%", "_", "\\", "'", '"', "--", "/*", "{{ 7*7 }}", "${7*7}", "%(ref)s", "%s%s%n",
    "../../etc/passwd", "//evil.example/", "/\\evil.example",
    "x" * 10_000,
    "<b>" * 3_000,
    "ə" * 10_000,
    "", " ", "\t\r\n", "\x00", "a\x00b", "\x1b[31m", "\u202eevil", "\ufeff", "\u0000<script>",
    "Əli Məmmədov", "Şəki-Zaqatala", "محمد العلي", "Дмитрий Иванов", "👧🏽🛏️", "٣", "１２",
    "null", "None", "undefined", "true", "false", "[]", "{}", "NaN", "-0", "1e309", "0x10", "1_000",
]
NUMBERS = [0, -1, 1, 2, 17, 18, 2**31 - 1, 2**31, -(2**31), 2**63, 2**64, 10**30, -(10**30)]


def hostile_values(world: World) -> st.SearchStrategy[str]:
    """Anything a hostile client can put in one form field or query parameter. Only lone
    surrogates are left out: they cannot be encoded as UTF-8, so no HTTP request can carry
    them. Control characters, NUL included, travel percent-encoded and are in."""
    foreign = [str(world.rival_child.id), str(world.rival_referral.id), str(world.rival_pool.id),
               str(world.rival_shelter.id), str(world.users["rival_caseworker"].id),
               str(world.organizations[-1].id)]
    return st.one_of(
        st.sampled_from(HOSTILE),
        st.text(st.characters(exclude_categories=("Cs",)), max_size=40),
        st.integers(-(10**30), 10**30).map(str),
        st.sampled_from(NUMBERS).map(str),
        st.floats().map(str),
        st.sampled_from(foreign),
    )


# What each field would hold if filled in honestly: mixed in, so that examples get past
# the first check and reach the service, and hostile values land next to valid ones.
PLAUSIBLE: dict[str, Callable[[World], list]] = {
    # signing in
    "email": lambda w: [w.users["caseworker"].email, w.users["caseworker"].email.upper(), "nobody@example.org"],
    "password": lambda w: [PASSWORD, "wrong password"],
    "next": lambda w: ["/beds", "//evil.example/", "https://evil.example/", "/\\evil.example"],
    "code": lambda w: ["123456", "000000", "12 34 56", "R99"],
    "turn": lambda w: ["off", "on"],
    "current": lambda w: [PASSWORD, "not my password"],
    "new": lambda w: ["a much longer new password 2026", "short"],
    "confirm": lambda w: ["a much longer new password 2026", "short"],
    # beds
    "version": lambda w: ["1", "2", "3"],
    "field": lambda w: ["occupied", "out_of_service", "capacity", "held"],
    "delta": lambda w: ["1", "-1"],
    "occupied": lambda w: ["0", "1", "3"],
    "out_of_service": lambda w: ["0", "1"],
    "out_of_service_reason": lambda w: ["leaking roof", ""],
    "region": lambda w: [str(r.id) for r in w.regions],
    "sex": lambda w: ["female", "male", "any"],
    "age": lambda w: ["0", "12", "17"],
    "free": lambda w: ["1", "0", "on"],
    # children and referrals
    "status": lambda w: list(referral_services.MOVES["withdraw"].sources) + ["unreferred", "placed", "draft",
                                                                              "open", "closed"],
    "urgency": lambda w: ["routine", "urgent", "emergency"],
    "page": lambda w: ["1", "2"],
    "q": lambda w: ["Leyla", "Лейла Гасанова", "UC-2026-", "00001", "%", "_"],
    "given_name": lambda w: ["Leyla", "Aysel 3"],
    "family_name": lambda w: ["Həsənova", "<i>Məmmədova</i>"],
    "birth_date": lambda w: ["2012-05-01", "2030-01-01", "1990-01-01", "2012-02-30", "0001-01-01", "9999-12-31"],
    "estimated_age": lambda w: ["13", "9"],
    "nationality": lambda w: ["Syrian", "Afghan"],
    "languages": lambda w: ["ar", "ku", "prs", "fa", "xx", "Arabic", "AR"],
    "language_filter": lambda w: ["far", "Farsi", "персид", "ərəb", "zz"],
    "needs": lambda w: ["medical", "trafficking", "flying"],
    "consent_given_by": lambda w: ["her aunt", ""],
    "consent_given_at": lambda w: ["2026-03-01T10:00", "2026-03-01 10:00", "0001-01-01T00:00", "9999-12-31T23:59"],
    "child_assent": lambda w: ["y", "on", ""],
    "confirm_not_duplicate": lambda w: ["y"],
    "case_reference": lambda w: [c.case_reference for c in w.children] + ["uc-2026-00001", "UC-1999-99999"],
    "children": lambda w: [str(c.id) for c in w.children],
    "shelter": lambda w: [str(s.id) for s in w.shelters] + [str(w.rival_shelter.id)],
    "back": lambda w: [f"/referrals/{w.referrals[min(w.referrals)].id}" if w.referrals else "/referrals/1",
                       "//evil.example/", "/referrals/../admin/"],
    "child": lambda w: [str(c.id) for c in w.children],
    "pool": lambda w: [str(p.id) for p in w.pools],
    "note": lambda w: ["Arrives at 22:00 by bus."],
    "body": lambda w: ["She slept well and ate.", "x" * 4001],
    "then": lambda w: ["submit", "draft"],
    "reason_code": lambda w: ["no_capacity", "not_eligible", "needs_not_met", "other"],
    "reason_text": lambda w: ["She is reunited with her mother."],
    "arrived_at": lambda w: ["2026-03-04T10:00", "2020-01-01T00:00", "0001-01-01T00:00", "9999-12-31T23:59"],
    # the audit trail
    "user": lambda w: [u.email for u in w.users.values()],
    "organization": lambda w: [str(o.id) for o in w.organizations],
    "action": lambda w: ["login", "child.view", "referral.submit"],
    "object_type": lambda w: ["referral", "child", "user"],
    "object_id": lambda w: ["1", "2"],
    "date_from": lambda w: ["2026-03-01", "2026-13-01", "0001-01-01", "9999-12-31"],
    "date_to": lambda w: ["2026-03-31", "yesterday", "0001-01-01", "9999-12-31"],
    # administration
    "name": lambda w: ["Mil-Mughan", "Harbour House", "New Person"],
    "kind": lambda w: ["ngo", "state", "international", "church"],
    "address": lambda w: ["1 Nizami Street, Baku"],
    "phone": lambda w: ["+994 12 555 55 55"],
    "services": lambda w: list(SERVICES) + ["spa"],
    "accessibility": lambda w: ["Step-free entrance"],
    "label": lambda w: ["Girls 12–17", "Boys"],
    "admits_sex": lambda w: list(SEXES) + ["other"],
    "min_age": lambda w: ["0", "12", "17"],
    "max_age": lambda w: ["17", "5"],
    "capacity": lambda w: ["0", "1", "25"],
    "role": lambda w: list(ALL_ROLES) + ["superuser"],
    "active": lambda w: ["y", ""],
    "require_totp": lambda w: list(ALL_ROLES),
}

# Fields no form has: a client trying to set what it should not.
EXTRA_FIELDS = ["id", "organization_id", "user_id", "role", "status", "held", "capacity", "is_admin",
                "caseworker_id", "hold_until", "version[]", "__class__"]

# Put into every free-text field of an otherwise honest form, before the random examples:
# the values most likely to break something, sure to reach the form at least once each.
# In this order, because some forms can be used once only (a referral declined stays
# declined): the first value the app accepts uses them up.
KEY_PAYLOADS = [
    "a\x00b",
    "x" * 10_000,
    "'; DROP TABLE child; --",
    "Əli Məmmədov محمد Дмитрий 👧🏽 \u202e",
    '"><img src=x onerror=alert(1)>',
    "<script>alert(1)</script>",
]


DATE_FIELDS = {"birth_date", "date_from", "date_to"}
DATETIME_FIELDS = {"consent_given_at", "arrived_at"}


def field_values(name: str, world: World) -> st.SearchStrategy:
    single = hostile_values(world)
    if name in DATE_FIELDS:  # any real date, the first and the last included
        single = st.one_of(st.dates().map(date.isoformat), single)
    if name in DATETIME_FIELDS:
        single = st.one_of(st.datetimes().map(lambda moment: moment.isoformat(timespec="minutes")), single)
    plausible = PLAUSIBLE.get(name, lambda w: [])(world)
    if plausible:
        single = st.one_of(st.sampled_from(plausible), single)
    # Sometimes the field comes twice (a list where one value was expected).
    return st.one_of(single, single, single, st.lists(single, min_size=2, max_size=3))


# --- the forms -------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Form:
    """One form or filter: where it goes, what it carries, who rightly uses it, and what an
    honest submission to each address looks like. `paths` lists the addresses to try, the
    rightful one first, then other records, other organizations' among them. `text` names
    the fields that take free text."""
    name: str
    method: str
    paths: Callable[[World], list[str]]
    fields: tuple[str, ...]
    who: str                                  # a key of World.users, "anonymous" or "signing in"
    valid: Callable[[World, str], dict] = lambda w, path: {}
    text: tuple[str, ...] = ()
    statuses: tuple[str, ...] = ()            # the referrals the world needs
    examples: int = EXAMPLES
    pages: Callable[[World], list[str]] = lambda w: []   # pages whose own markup is not an echo
    sign_in: bool = False                     # a sign-in form: its bookkeeping may change
    edges: tuple[dict, ...] = ()              # spoilt fields tried on an honest form, before the rest


@dataclass(frozen=True)
class Honest:
    """An honest submission, as the form would be filled in when the example runs, with
    `spoilt` put over it (for the explicit examples, which are written before they run)."""
    spoilt: dict

    def __repr__(self) -> str:
        return f"an honest form with {self.spoilt!r}"


def payloads(form: Form, world: World, path: str) -> st.SearchStrategy[dict]:
    """Either an honest submission with a few fields spoilt or left out, or any of the
    form's fields with any values; either way, sometimes with fields the form does not have."""
    names = form.fields
    unknown = st.dictionaries(st.sampled_from([n for n in EXTRA_FIELDS if n not in names]),
                              hostile_values(world), max_size=2)
    extra = st.one_of(st.just({}), unknown)
    if not names:
        return extra
    honest = st.builds(lambda: form.valid(world, path))  # read when the example runs: versions move on
    spoilt = st.sets(st.sampled_from(names), max_size=3).flatmap(
        lambda chosen: st.fixed_dictionaries({n: field_values(n, world) for n in sorted(chosen)}))
    left_out = st.sets(st.sampled_from(names), max_size=2)
    nearly_honest = st.tuples(honest, spoilt, left_out, extra).map(
        lambda t: {**t[3], **{k: v for k, v in t[0].items() if k not in t[2]}, **t[1]})
    anything = st.tuples(st.fixed_dictionaries({}, optional={n: field_values(n, world) for n in names}), extra
                         ).map(lambda t: {**t[1], **t[0]})
    return st.one_of(nearly_honest, anything)


def _id(path: str, position: int) -> int:
    return int(path.strip("/").split("/")[position])


def _fresh(model, record_id: int) -> dict:
    """A record's columns as the database holds them now."""
    return db.session.execute(select(model.__table__).where(model.__table__.c.id == record_id)).mappings().one()


# bed pools: /shelters/<shelter>/pools/<pool>/<action>
def _pool_paths(action: str):
    def paths(w: World) -> list[str]:
        own = w.shelters[0]
        return ([f"/shelters/{own.id}/pools/{p.id}/{action}" for p in w.pools if p.shelter_id == own.id]
                + [f"/shelters/{own.id}/pools/{w.rival_pool.id}/{action}",
                   f"/shelters/{w.rival_shelter.id}/pools/{w.rival_pool.id}/{action}"])
    return paths


def _pool_version(path: str) -> str:
    return str(_fresh(BedPool, _id(path, 3))["version"])


# referrals: /referrals/<referral>/<action>
def _referral_paths(action: str):
    def paths(w: World) -> list[str]:
        sources = (referral_services.MOVES[action].sources if action in referral_services.MOVES
                   else TRANSFERABLE if action == "transfer" else ("draft",))
        referrals = sorted(w.all_referrals(), key=lambda r: (r.status not in sources, r is w.rival_referral, r.id))
        return [f"/referrals/{r.id}/{action}" for r in referrals]
    return paths


def _sibling_paths(tail: str):
    def paths(w: World) -> list[str]:
        return [f"/children/{c.id}/siblings{tail}" for c in (w.child_unreferred, w.child_without_consent,
                                                              w.rival_child)]
    return paths


def _referral_pages(w: World) -> list[str]:
    return [f"/referrals/{r.id}" for r in w.referrals.values()]


MOVER = {referral_services.REFERRING_CASEWORKER: "caseworker", referral_services.POOL_STAFF: "shelter_staff",
         referral_services.REGIONAL_GUARDIAN: "guardianship"}
SHELTER_FIELDS = ("organization", "region", "name", "address", "phone", "status", "languages", "services",
                  "accessibility")
POOL_FIELDS = ("label", "admits_sex", "min_age", "max_age", "capacity")
CHILD_TEXT = ("given_name", "family_name", "nationality", "consent_given_by")
CHILD_FIELDS = CHILD_TEXT + ("sex", "birth_date", "estimated_age", "languages", "needs", "region",
                             "consent_given_at", "child_assent", "confirm_not_duplicate", "found_place",
                             "found_region", "found_at")
REFERRAL_FIELDS = ("child", "pool", "urgency", "note", "then")
DATE_EDGES = tuple({name: day} for name in ("date_from", "date_to") for day in ("0001-01-01", "9999-12-31"))
AUDIT_FIELDS = ("person", "organization", "action", "object_type", "object", "date_from", "date_to", "before",
                "after")


def _new_child(w: World, path: str) -> dict:
    return {"given_name": "Leyla", "family_name": "Həsənova", "sex": "female", "estimated_age": "13",
            "nationality": "Syrian", "languages": ["ar", "ku"], "needs": "psychosocial",
            "region": str(w.regions[0].id), "consent_given_by": "her aunt", "consent_given_at": "2026-03-01T10:00",
            "child_assent": "y", "confirm_not_duplicate": "y", "found_place": "airport",
            "found_region": str(w.regions[0].id), "found_at": "2026-03-01T08:00"}


RECORD_FIELDS = tuple(name for name in CHILD_FIELDS if not name.startswith(("consent_", "child_assent")))
RECORD_TEXT = ("given_name", "family_name", "nationality")


def _child_record(w: World, path: str) -> dict:
    """An honest correction: the record as it stands, with the age and the needs put right."""
    child = _fresh(Child, _id(path, 1))
    return {"given_name": child["given_name"], "family_name": child["family_name"], "sex": child["sex"],
            "birth_date": "2012-05-01", "estimated_age": "", "nationality": "Syrian",
            "languages": list(child["languages"]) or ["ar"], "needs": ["medical", "psychosocial"],
            "region": str(child["region_id"]), "confirm_not_duplicate": "y", "found_place": "airport",
            "found_region": str(child["region_id"]), "found_at": "2026-03-01T08:00"}


def _new_referral(w: World, path: str) -> dict:
    boys = next(p for p in w.pools if p.admits_sex == "male")
    return {"child": str(w.child_unreferred.id), "pool": str(boys.id), "urgency": "urgent",
            "note": "Arrives at 22:00 by bus.", "then": "draft"}


def _transfer(w: World, path: str) -> dict:
    """An honest transfer: to a pool that admits the world's girls, other than the one she is in."""
    placed = w.referrals["placed"]
    other = next(p for p in w.pools if p.id != placed.pool_id and p.admits_sex in ("female", "any"))
    return {"pool": str(other.id), "urgency": "urgent", "note": "Nearer her school."}


def _audit_filter(w: World, path: str) -> dict:
    return {"person": w.users["caseworker"].email, "organization": str(w.organizations[1].id), "action": "login",
            "object_type": "user", "object": str(w.users["caseworker"].id), "date_from": "2026-03-01",
            "date_to": "2026-03-31", "before": "1000000"}


FORMS = [
    Form("login", "POST", lambda w: ["/login"], ("email", "password", "next"), "anonymous",
         valid=lambda w, path: {"email": w.users["caseworker"].email, "password": PASSWORD, "next": "/beds"},
         text=("email", "password", "next"), sign_in=True, pages=lambda w: ["/login"]),
    Form("two-factor code at sign-in", "POST", lambda w: ["/login/code"], ("code",), "signing in",
         valid=lambda w, path: {"code": "123456"}, text=("code",), sign_in=True, pages=lambda w: ["/login/code"]),
    Form("pool adjust", "POST", _pool_paths("adjust"), ("version", "field", "delta"), "shelter_staff",
         valid=lambda w, path: {"version": _pool_version(path), "field": "occupied", "delta": "1"},
         pages=lambda w: [f"/shelters/{w.shelters[0].id}"]),
    Form("pool counts", "POST", _pool_paths("counts"), ("version", "occupied", "out_of_service",
                                                         "out_of_service_reason"), "shelter_staff",
         valid=lambda w, path: {"version": _pool_version(path), "occupied": "1", "out_of_service": "1",
                                "out_of_service_reason": "leaking roof"},
         text=("out_of_service_reason",), pages=lambda w: [f"/shelters/{w.shelters[0].id}"]),
    Form("pool confirm", "POST", _pool_paths("confirm"), ("version",), "shelter_staff",
         valid=lambda w, path: {"version": _pool_version(path)}, pages=lambda w: [f"/shelters/{w.shelters[0].id}"]),
    Form("bed board filters", "GET", lambda w: ["/beds"], ("region", "sex", "age", "free"), "shelter_staff",
         valid=lambda w, path: {"region": str(w.regions[0].id), "sex": "female", "age": "12", "free": "1"}),
    Form("children filters", "GET", lambda w: ["/children"], ("status", "region", "urgency", "q", "page"),
         "caseworker", valid=lambda w, path: {"status": "referred", "region": str(w.regions[1].id),
                                              "urgency": "urgent", "q": "Leyla", "page": "1"},
         text=("q",), statuses=("submitted",)),
    Form("new child", "POST", lambda w: ["/children/new"], CHILD_FIELDS, "caseworker", valid=_new_child,
         text=CHILD_TEXT, pages=lambda w: ["/children/new", "/children"],
         edges=({"birth_date": "0001-01-01"}, {"birth_date": "9999-12-31"}, {"estimated_age": str(10**30)},
                {"consent_given_at": "0001-01-01T00:00"}, {"consent_given_at": "9999-12-31T23:59"})),
    Form("consent", "POST",
         lambda w: [f"/children/{c.id}/consent" for c in (w.child_without_consent, w.child_unreferred, w.rival_child)],
         ("consent_given_by", "consent_given_at", "child_assent", "back"), "caseworker",
         valid=lambda w, path: {"consent_given_by": "her aunt", "consent_given_at": "2026-03-01T10:00",
                                "child_assent": "y"},
         text=("consent_given_by", "back"),
         edges=({"consent_given_at": "0001-01-01T00:00"}, {"consent_given_at": "9999-12-31T23:59"}),
         pages=lambda w: [f"/children/{w.child_without_consent.id}", f"/children/{w.child_unreferred.id}"]),
    Form("child's record", "POST",
         lambda w: [f"/children/{c.id}/edit" for c in (w.child_unreferred, w.child_without_consent, w.rival_child)],
         RECORD_FIELDS, "caseworker", valid=_child_record, text=RECORD_TEXT,
         pages=lambda w: [f"/children/{w.child_unreferred.id}/edit", f"/children/{w.child_unreferred.id}"],
         edges=({"birth_date": "0001-01-01"}, {"birth_date": "9999-12-31"}, {"estimated_age": str(10**30)},
                {"birth_date": "", "estimated_age": "18"}, {"region": str(2**31)})),
    Form("child's languages", "POST",
         lambda w: [f"/children/{c.id}/languages" for c in (w.child_unreferred, w.child_without_consent, w.rival_child)],
         ("languages",), "caseworker", valid=lambda w, path: {"languages": ["ar", "ku"]},
         pages=lambda w: [f"/children/{w.child_unreferred.id}"]),
    Form("language search", "GET", lambda w: ["/languages"], ("language_filter", "languages"), "caseworker",
         valid=lambda w, path: {"language_filter": "far", "languages": ["ar"]}, text=("language_filter",),
         pages=lambda w: ["/languages", "/children/new"]),
    Form("case note", "POST",
         lambda w: [f"/children/{c.id}/notes" for c in (w.child_unreferred, w.rival_child)],
         ("body", "back"), "caseworker",
         valid=lambda w, path: {"body": "She slept well and ate.", "back": f"/children/{w.child_unreferred.id}"},
         text=("body", "back"), examples=15,
         pages=lambda w: [f"/children/{w.child_unreferred.id}", f"/children/{w.child_unreferred.id}/notes"]),
    Form("child search", "GET", lambda w: ["/search"], ("q", "before", "after"), "guardianship",
         valid=lambda w, path: {"q": "Aysel"}, text=("q",), statuses=("accepted", "placed"),
         pages=lambda w: ["/search?q=Aysel"]),
    Form("referral filters", "GET", lambda w: ["/referrals"], ("status", "region", "urgency", "page"), "caseworker",
         valid=lambda w, path: {"status": "submitted", "region": str(w.regions[0].id), "urgency": "urgent",
                                "page": "1"},
         statuses=("submitted", "accepted")),
    Form("new referral, choosing", "GET", lambda w: ["/referrals/new"], REFERRAL_FIELDS, "caseworker",
         valid=_new_referral, text=("note",), pages=lambda w: [f"/referrals/new?child={w.child_unreferred.id}"]),
    Form("new referral", "POST", lambda w: ["/referrals/new"], REFERRAL_FIELDS, "caseworker",
         valid=_new_referral, text=("note",), pages=lambda w: [f"/referrals/new?child={w.child_unreferred.id}"]),
    *[Form(f"referral {action}", "POST", _referral_paths(action), ("reason_code", "reason_text", "arrived_at"),
           MOVER[move.part], valid=lambda w, path: {"reason_code": "other", "reason_text": "A test reason."},
           text=("reason_text",), statuses=tuple(dict.fromkeys(("draft", "placed", *move.sources))),
           pages=_referral_pages, examples=15,
           edges=({"arrived_at": "0001-01-01T00:00"}, {"arrived_at": "9999-12-31T23:59"}) if action in ("place", "place_now") else ())
      for action, move in referral_services.MOVES.items()],
    Form("referral to another pool", "POST", _referral_paths("repoint"), ("pool",), "caseworker",
         valid=lambda w, path: {"pool": str(w.pools[2].id)}, statuses=("draft", "submitted"), pages=_referral_pages),
    Form("sibling link", "POST", _sibling_paths(""), ("case_reference",), "caseworker",
         valid=lambda w, path: {"case_reference": w.child_without_consent.case_reference}, text=("case_reference",),
         pages=lambda w: [f"/children/{w.child_unreferred.id}"]),
    Form("sibling unlink", "POST", _sibling_paths("/unlink"), (), "caseworker", examples=10,
         pages=lambda w: [f"/children/{w.child_unreferred.id}"]),
    Form("siblings referred together", "POST", _sibling_paths("/refer"), ("children", "shelter", "urgency", "note"),
         "caseworker", valid=lambda w, path: {"children": [str(w.child_unreferred.id), str(w.child_without_consent.id)],
                                              "shelter": str(w.shelters[0].id), "urgency": "urgent",
                                              "note": "Arrive together."},
         text=("note",), pages=lambda w: [f"/children/{w.child_unreferred.id}/siblings/refer"]),
    Form("transfer to another shelter", "POST", _referral_paths("transfer"), ("pool", "urgency", "note"),
         "caseworker", valid=_transfer, text=("note",), statuses=("placed",), pages=_referral_pages),
    Form("notifications read", "POST", lambda w: ["/notifications/read"], (), "shelter_staff",
         statuses=("submitted",), examples=10, pages=lambda w: ["/notifications"]),
    Form("password change", "POST", lambda w: ["/account/password"], ("current", "new", "confirm"), "caseworker",
         valid=lambda w, path: {"current": PASSWORD, "new": "a much longer new password 2026",
                                "confirm": "a much longer new password 2026"},
         text=("current", "new", "confirm"), pages=lambda w: ["/account/password"]),
    Form("language", "POST", lambda w: ["/account/language"], ("language", "next"), "caseworker",
         valid=lambda w, path: {"language": "ru", "next": "/beds"}, text=("next",), pages=lambda w: ["/account"]),
    Form("language before sign-in", "POST", lambda w: ["/account/language"], ("language", "next"), "anonymous",
         valid=lambda w, path: {"language": "az"}, text=("next",), pages=lambda w: ["/login"]),
    Form("two-factor setup", "POST", lambda w: ["/account/two-factor"], ("code", "turn"), "caseworker",
         valid=lambda w, path: {"code": "123456"}, text=("code",), pages=lambda w: ["/account/two-factor"]),
    Form("e-mail choice", "POST", lambda w: ["/account/mail"], ("kinds",), "shelter_staff",
         valid=lambda w, path: {"kinds": ["referral.approved"]}, pages=lambda w: ["/account"]),
    Form("audit filters", "GET", lambda w: ["/audit", "/audit.csv"], AUDIT_FIELDS, "admin", valid=_audit_filter,
         text=("person", "object"), edges=DATE_EDGES),
]


# --- the administration's forms --------------------------------------------------------------------

def _region_form(w: World, path: str) -> dict:
    region = _fresh(Region, _id(path, 2))
    return {"code": region["code"], "name": region["name"]}


def _organization_form(w: World, path: str) -> dict:
    organization = _fresh(Organization, _id(path, 2))
    return {"name": organization["name"], "kind": organization["kind"], "region": str(organization["region_id"])}


def _new_shelter(w: World, path: str) -> dict:
    return {"organization": str(w.organizations[0].id), "region": str(w.regions[0].id), "name": "New House",
            "address": "1 Nizami Street, Baku", "phone": "+994 12 555 55 55", "status": "open",
            "languages": ["az", "ru"], "services": ["medical", "psychosocial"],
            "accessibility": "Step-free entrance"}


def _shelter_form(w: World, path: str) -> dict:
    shelter = _fresh(Shelter, _id(path, 2))
    return {"organization": str(shelter["organization_id"]), "region": str(shelter["region_id"]),
            "name": shelter["name"], "address": shelter["address"], "phone": shelter["phone"],
            "status": shelter["status"], "languages": list(shelter["languages"]),
            "services": list(shelter["services"]), "accessibility": shelter["accessibility"]}


def _pool_form(w: World, path: str) -> dict:
    pool = _fresh(BedPool, _id(path, 4))
    return {"label": pool["label"], "admits_sex": pool["admits_sex"], "min_age": str(pool["min_age"]),
            "max_age": str(pool["max_age"]), "capacity": str(pool["capacity"])}


def _user_form(w: World, path: str) -> dict:
    user = _fresh(User, _id(path, 2))
    return {"name": user["name"], "role": user["role"], "organization": str(user["organization_id"]),
            "active": "y" if user["active"] else ""}


def _admin_users(w: World) -> list:
    """The people an administrator manages: someone else first, themselves last."""
    return [w.users["caseworker"], w.users["rival_caseworker"], w.users["shelter_staff"], w.users["admin"]]


SHELTER_TEXT = ("name", "address", "phone", "accessibility")
ADMIN_PAGES = lambda w: ["/admin/", "/admin/regions", "/admin/organizations", "/admin/shelters",  # noqa: E731
                         "/admin/users", f"/admin/shelters/{w.shelters[0].id}"]

ADMIN_FORMS = [
    Form("admin: new region", "POST", lambda w: ["/admin/regions/new"], ("code", "name"), "admin",
         valid=lambda w, path: {"code": "NX", "name": "Nakhchivan"}, text=("code", "name"), pages=ADMIN_PAGES),
    Form("admin: region", "POST", lambda w: [f"/admin/regions/{r.id}" for r in w.regions], ("code", "name"),
         "admin", valid=_region_form, text=("code", "name"), pages=ADMIN_PAGES),
    Form("admin: new organization", "POST", lambda w: ["/admin/organizations/new"], ("name", "kind", "region"),
         "admin", valid=lambda w, path: {"name": "Children First", "kind": "ngo", "region": str(w.regions[0].id)},
         text=("name",), pages=ADMIN_PAGES),
    Form("admin: organization", "POST", lambda w: [f"/admin/organizations/{o.id}" for o in w.organizations],
         ("name", "kind", "region"), "admin", valid=_organization_form, text=("name",), pages=ADMIN_PAGES),
    Form("admin: organization buttons", "POST",
         lambda w: [f"/admin/organizations/{o.id}/{button}" for button in ("deactivate", "reactivate")
                    for o in (w.organizations[-1], w.organizations[0], w.users["admin"].organization)],
         (), "admin", examples=12, pages=ADMIN_PAGES),
    Form("admin: new shelter", "POST", lambda w: ["/admin/shelters/new"], SHELTER_FIELDS, "admin",
         valid=_new_shelter, text=SHELTER_TEXT, pages=ADMIN_PAGES),
    Form("admin: shelter", "POST", lambda w: [f"/admin/shelters/{s.id}" for s in w.shelters], SHELTER_FIELDS,
         "admin", valid=_shelter_form, text=SHELTER_TEXT, pages=ADMIN_PAGES),
    Form("admin: new pool", "POST", lambda w: [f"/admin/shelters/{s.id}/pools" for s in w.shelters], POOL_FIELDS,
         "admin", valid=lambda w, path: {"label": "Boys 6–11", "admits_sex": "male", "min_age": "6",
                                         "max_age": "11", "capacity": "4"},
         text=("label",), pages=ADMIN_PAGES),
    Form("admin: pool", "POST",
         lambda w: [f"/admin/shelters/{p.shelter_id}/pools/{p.id}" for p in w.pools]
         + [f"/admin/shelters/{w.shelters[0].id}/pools/{w.rival_pool.id}"],
         POOL_FIELDS, "admin", valid=_pool_form, text=("label",), pages=ADMIN_PAGES),
    Form("admin: user filters", "GET", lambda w: ["/admin/users"], ("organization", "role", "page"), "admin",
         valid=lambda w, path: {"organization": str(w.organizations[1].id), "role": "caseworker", "page": "1"}),
    Form("admin: list pages", "GET", lambda w: ["/admin/regions", "/admin/organizations", "/admin/shelters"],
         ("page",), "admin", valid=lambda w, path: {"page": "1"}, examples=15),
    Form("admin: new user", "POST", lambda w: ["/admin/users/new"], ("email", "name", "role", "organization"),
         "admin", valid=lambda w, path: {"email": "new.person@example.org", "name": "New Person",
                                         "role": "caseworker", "organization": str(w.organizations[1].id)},
         text=("email", "name"), pages=ADMIN_PAGES),
    Form("admin: user", "POST", lambda w: [f"/admin/users/{u.id}" for u in _admin_users(w)],
         ("name", "role", "organization", "active"), "admin", valid=_user_form, text=("name",), pages=ADMIN_PAGES),
    Form("admin: user buttons", "POST",
         lambda w: [f"/admin/users/{u.id}/{button}" for button in ("deactivate", "reactivate", "unlock",
                                                                   "reset-password") for u in _admin_users(w)],
         (), "admin", examples=12, pages=ADMIN_PAGES),
    Form("admin: two-factor policy", "POST", lambda w: ["/admin/security"], ("require_totp",), "admin",
         valid=lambda w, path: {"require_totp": ["guardianship"]}, pages=ADMIN_PAGES),
    Form("admin: new API token", "POST", lambda w: ["/admin/api-tokens/new"],
         ("label", "organization", "role", "scopes", "expires_on"), "admin",
         valid=lambda w, path: {"label": "Case system", "organization": str(w.organizations[1].id),
                                "role": "caseworker", "scopes": ["beds:read", "referrals:read"]},
         text=("label",), pages=lambda w: ["/admin/api-tokens/"]),
    Form("admin: revoke API token", "POST",
         lambda w: [f"/admin/api-tokens/{token.id}/revoke" for token, _secret in w.api_tokens.values()],
         (), "admin", examples=8, pages=lambda w: ["/admin/api-tokens/"]),
]
FORMS += ADMIN_FORMS


@pytest.fixture(params=FORMS, ids=lambda form: form.name)
def form(request) -> Form:
    return request.param


# Posts that take nothing a person types: signing out ends the very session the examples use.
NOT_IN_THE_TABLE = {"accounts.logout"}


def test_every_form_of_the_app_is_in_the_table(app, make):
    """A POST route added later (the administration grows) fails here until it has its row."""
    world = build_world(make, statuses=())
    adapter = app.url_map.bind("coordination.test")
    covered = {adapter.match(path, method=form.method)[0] for form in FORMS for path in form.paths(world)}
    # The API's routes take JSON from a token, never a person's form: tests/api/test_hostile_json.py.
    missing = sorted(rule.rule for rule in app.url_map.iter_rules()
                     if "POST" in rule.methods and rule.endpoint not in covered | NOT_IN_THE_TABLE
                     and not rule.endpoint.startswith("api."))
    assert not missing, f"POST routes without a row in FORMS ({__name__}): {missing}"


# --- what a request may and may not do -------------------------------------------------------------

IGNORED_TABLES = {"audit_event", "audit_head"}  # every request may write its audit trail
SIGN_IN_COLUMNS = {"last_login_at", "totp_last_step"}
# A failed sign-in is counted (per account and address, and per pending sign-in), and a
# count that pauses an address tells the account's owner and the administrators.
SIGN_IN_TABLES = {"pending_sign_in", "sign_in_pause", "notification"}


def snapshot(sign_in: bool = False) -> dict:
    """Every row of every table, read afresh."""
    state = {}
    for table in db.metadata.sorted_tables:
        if table.name in IGNORED_TABLES or (sign_in and table.name in SIGN_IN_TABLES):
            continue
        columns = [c for c in table.columns if not (sign_in and table.name == "user" and c.name in SIGN_IN_COLUMNS)]
        order = list(table.primary_key.columns) or columns
        state[table.name] = [tuple(row) for row in db.session.execute(select(*columns).order_by(*order))]
    db.session.rollback()  # hold no transaction (on SQLite, not even a read lock) while the app works
    return state


def changes(before: dict, after: dict) -> list[str]:
    found = []
    for table in before:
        gone = [row for row in before[table] if row not in after[table]]
        new = [row for row in after[table] if row not in before[table]]
        if gone or new:
            found.append(f"{table}: {len(gone)} rows changed or removed {gone[:3]}, "
                         f"{len(new)} rows new or changed {new[:3]}")
    return found


def strings_of(data: dict) -> list[str]:
    values = []
    for value in data.values():
        values += value if isinstance(value, list) else [value]
    return values


def unescaped_echoes(body: str, data: dict, markup: str) -> list[str]:
    """Values with < or > that appear raw in the body. A value that is itself part of the
    page's own markup (it is in the pages the same person sees anyway) proves nothing."""
    return [value for value in strings_of(data)
            if ("<" in value or ">" in value) and value in body and value not in markup]


def context_of(body: str, value: str) -> str:
    at = body.find(value)
    return body[max(0, at - 200):at + len(value) + 200]


def is_local(location: str) -> bool:
    parts = urlsplit(location)
    return parts.netloc in ("", "coordination.test") and parts.scheme in ("", "http", "https") \
        and not location.startswith("//")


REFUSAL_FLASHES = ('class="flash flash-error"', 'class="flash flash-warning"')


@dataclass
class Visitor:
    """The person who uses the form, through a test client made on first need and made
    again when an example changed who it is (an anonymous visitor who signed in for real)."""
    app: object
    world: World
    form: Form
    client: Client | None = None

    def get(self) -> Client:
        if self.client is None:
            self.client = self._new_client()
        return self.client

    def forget(self) -> None:
        self.client = None

    def _new_client(self) -> Client:
        who = self.form.who
        if who == "anonymous":
            return Client(self.app)
        if who == "signing in":
            user = self.world.person("guardianship", self.world.organizations[2], totp_secret=pyotp.random_base32())
            return owing_a_code(self.app, user)
        return signed_in(self.app, self.world.users[who])


def test_hostile_values_never_break_a_form(app, make, form):
    world = build_world(make, statuses=form.statuses)
    visitor = Visitor(app, world, form)
    paths = form.paths(world)
    # The markup this person sees anyway: it is no echo when a value happens to be part of it.
    markup = "".join(visitor.get().get(page).get_data(as_text=True)
                     for page in ["/", "/beds", *form.pages(world)])
    if form.who in ("anonymous", "signing in"):
        visitor.forget()  # the pages above may have ended a half-finished sign-in
    counter = itertools.count()
    cases = st.sampled_from(paths).flatmap(lambda path: st.tuples(st.just(path), payloads(form, world, path)))

    @settings(SETTINGS, max_examples=form.examples)
    @given(case=cases, htmx=st.booleans())
    def throw(case, htmx):
        path, data = case
        if isinstance(data, Honest):
            data = {**form.valid(world, path), **data.spoilt}
        client = visitor.get()
        before = snapshot(form.sign_in)
        if form.method == "GET":
            response = client.get(path, htmx=htmx, query_string=data)
        else:
            response = client.post(path, data, htmx=htmx)
        after = snapshot(form.sign_in)
        status = response.status_code
        body = response.get_data(as_text=True)
        note(f"example {next(counter)}: {form.method} {path} htmx={htmx} -> {status}")

        assert status < 500, body[:2000]
        echoed = unescaped_echoes(body, data, markup)
        assert not echoed, [context_of(body, value) for value in echoed]
        assert inline_code(body, strict=False) == [], inline_code(body, strict=False)

        refused = status >= 400
        if status in (301, 302, 303, 307, 308):
            location = response.headers.get("Location", "")
            assert is_local(location), f"redirected off the site: {location}"
            shown = client.get(location, htmx=htmx)  # where the browser goes next, with any message
            shown_body = shown.get_data(as_text=True)
            assert shown.status_code < 500, shown_body[:2000]
            echoed = unescaped_echoes(shown_body, data, markup)
            assert not echoed, [context_of(shown_body, value) for value in echoed]
            assert inline_code(shown_body, strict=False) == [], inline_code(shown_body, strict=False)
            refused = refused or any(flash in shown_body for flash in REFUSAL_FLASHES)
            if form.who == "anonymous" and "/login" not in location:
                visitor.forget()  # signed in for real: the next example starts anonymous again
        if form.method == "GET" or refused:
            assert changes(before, after) == [], f"{form.method} {path} answered {status}"

    # Hypothesis runs the explicit examples last-added first: this puts them in order.
    explicit = [{name: payload for name in form.text} for payload in KEY_PAYLOADS] if form.text else []
    for spoilt in reversed([*explicit, *form.edges]):
        throw = example(case=(paths[0], Honest(spoilt)), htmx=False)(throw)
    throw()


@pytest.mark.parametrize("where", ["form", "query", "field name"])
def test_a_nul_character_is_refused_whole_and_changes_nothing(app, make, where):
    """PostgreSQL can neither store nor compare text with a NUL in it; the app refuses such a
    request (400) before it reaches the database, on SQLite too, so both behave alike."""
    world = build_world(make, statuses=())
    caseworker = signed_in(app, world.users["caseworker"])
    form = {**_new_child(world, "/children/new"), "given_name": "Ley\x00la"}
    before = snapshot()
    if where == "form":
        response = caseworker.post("/children/new", form)
    elif where == "query":
        response = caseworker.get("/children", query_string={"status": "\x00"})
    else:
        response = caseworker.post("/children/new", {**_new_child(world, "/children/new"), "x\x00": "1"})
    assert response.status_code == 400
    assert "nothing was changed" in response.get_data(as_text=True)
    assert changes(before, snapshot()) == []
