"""Bad input to every admin form: missing fields, 10,000-character strings, wrong types,
unknown ids, control characters. Each is refused with a 4xx and a message, never a 500,
and nothing changes (invariant 3)."""
import pytest

from coordination.accounts.models import Organization, Region, RolePolicy, User
from coordination.audit.models import AuditEvent
from coordination.beds.models import BedPool, BedUpdate, Shelter
from coordination.extensions import db

from .pages import LONG, messages, redirected_to

HUGE = str(10**30)
MODELS = (Region, Organization, User, Shelter, BedPool, BedUpdate, RolePolicy, AuditEvent)


class Desk:
    """An admin with one of everything to edit, and the forms that would be accepted."""

    def __init__(self, make, admin):
        self.admin = admin
        self.region = make.region()
        self.organization = make.organization(region=self.region)
        self.shelter = make.shelter(organization=self.organization)
        self.pool = make.pool(self.shelter, capacity=5)
        # The admin's password hash again: hashing another one would only slow each test down.
        self.person = make._save(User(email="person@example.org", name="Person", role="caseworker",
                                      organization=self.organization, password_hash=admin.user.password_hash))
        region, organization = str(self.region.id), str(self.organization.id)
        self.forms = {
            "new region": ("/admin/regions/new", {"code": "NEW", "name": "New region"}),
            "region": (f"/admin/regions/{self.region.id}", {"code": "CHG", "name": "Changed region"}),
            "new organization": ("/admin/organizations/new", {"name": "New org", "kind": "ngo", "region": region}),
            "organization": (f"/admin/organizations/{self.organization.id}",
                             {"name": "Changed org", "kind": "state", "region": region}),
            "new shelter": ("/admin/shelters/new", {
                "organization": organization, "region": region, "name": "New shelter", "address": "1 Road",
                "phone": "123", "status": "open", "languages": "az", "services": "medical",
                "accessibility": ""}),
            "shelter": (f"/admin/shelters/{self.shelter.id}", {
                "organization": organization, "region": region, "name": "Changed shelter", "address": "2 Road",
                "phone": "456", "status": "suspended", "languages": "ru", "services": "disability",
                "accessibility": "ramp"}),
            "new pool": (f"/admin/shelters/{self.shelter.id}/pools", {
                "label": "New pool", "admits_sex": "male", "min_age": "3", "max_age": "9", "capacity": "4"}),
            "pool": (f"/admin/shelters/{self.shelter.id}/pools/{self.pool.id}", {
                "label": "Changed pool", "admits_sex": "female", "min_age": "5", "max_age": "15",
                "capacity": "7"}),
            "new user": ("/admin/users/new", {"email": "new@example.org", "name": "New Person",
                                              "role": "oversight", "organization": organization}),
            "user": (f"/admin/users/{self.person.id}", {"name": "Changed Person", "role": "guardianship",
                                                       "organization": organization, "active": "y"}),
        }

    def form(self, name: str, changes: dict) -> tuple[str, dict]:
        url, data = self.forms[name]
        data = dict(data)
        for field, value in changes.items():
            if value is None:
                data.pop(field, None)
            else:
                data[field] = value
        return url, data


def state() -> tuple:
    """What the database holds for everything the admin forms change."""
    db.session.expire_all()
    rows = []
    for model in MODELS:
        for row in db.session.scalars(db.select(model).order_by(*model.__table__.primary_key.columns)):
            rows.append(tuple(getattr(row, c.key) for c in model.__table__.columns))
    return tuple(rows)


@pytest.fixture
def desk(make, admin) -> Desk:
    return Desk(make, admin)


def test_every_form_unspoilt_is_accepted(desk):
    """The control for the refusals below: the same forms, as given, do change things."""
    for name in desk.forms:
        before = state()
        url, data = desk.form(name, {})
        response = desk.admin.post(url, data)
        if name == "new user":
            assert response.status_code == 200, response.get_data(as_text=True)[:2000]
        else:
            redirected_to(response)
        assert state() != before, name


SPOILT = [
    # form, changes, what the message says
    ("new region", {"code": None}, "Give the region a short code."),
    ("new region", {"name": "   "}, "Give the region's name."),
    ("new region", {"name": LONG}, "Keep this under 100 characters."),
    ("region", {"code": LONG}, "Keep this under 20 characters."),
    ("region", {"name": "Bad\x07name"}, "Remove the control characters from this field."),
    ("new shelter", {"address": "Line\x1bone"}, "Remove the control characters from this field."),
    ("new organization", {"name": None}, "Give the organization's name."),
    ("new organization", {"kind": "church"}, "Choose one of the kinds offered."),
    ("new organization", {"region": "abc"}, "Choose one of the regions offered."),
    ("new organization", {"region": "999999"}, "Choose one of the regions offered."),
    ("new organization", {"region": HUGE}, "Choose one of the regions offered."),
    ("organization", {"name": LONG}, "Keep this under 200 characters."),
    ("organization", {"region": None}, "Choose one of the regions offered."),
    ("new shelter", {"organization": "999999"}, "Choose one of the organizations offered."),
    ("new shelter", {"name": None}, "Give the shelter's name."),
    ("new shelter", {"status": "demolished"}, "Choose one of the statuses offered."),
    ("new shelter", {"services": "massage"}, "'massage' is not a valid choice for this field."),
    ("shelter", {"address": LONG}, "Keep this under 500 characters."),
    ("shelter", {"phone": LONG}, "Keep this under 50 characters."),
    ("shelter", {"languages": LONG}, "Choose the languages from the list offered."),
    ("shelter", {"languages": ["ru", "Russian"]}, "Choose the languages from the list offered."),
    ("shelter", {"accessibility": LONG}, "Keep this under 2000 characters."),
    ("shelter", {"region": "-1"}, "Choose one of the regions offered."),
    ("new pool", {"capacity": None}, "Give the number of beds."),
    ("new pool", {"capacity": "many"}, "Not a valid integer value."),
    ("new pool", {"capacity": HUGE}, "Capacity must be a whole number from 0 to 10000."),
    ("new pool", {"capacity": "-1"}, "Capacity must be a whole number from 0 to 10000."),
    ("new pool", {"label": LONG}, "Keep this under 100 characters."),
    ("new pool", {"admits_sex": "other"}, "Choose whom the pool admits from the choices offered."),
    ("pool", {"min_age": "18"}, "Ages run from 0 to 17."),
    ("pool", {"max_age": "1.5"}, "Not a valid integer value."),
    ("pool", {"min_age": "10", "max_age": "5"}, "The youngest age (10) cannot be above the oldest (5)."),
    ("new user", {"email": None}, "Give the person's email address."),
    ("new user", {"email": "not-an-address"}, "not-an-address is not an email address."),
    ("new user", {"email": LONG + "@example.org"}, "Keep this under 254 characters."),
    ("new user", {"name": LONG}, "Keep this under 200 characters."),
    ("new user", {"role": "superadmin"}, "Choose one of the roles offered."),
    ("new user", {"organization": "0"}, "Choose one of the organizations offered."),
    ("user", {"role": None}, "Choose one of the roles offered."),
    ("user", {"organization": "x"}, "Choose one of the organizations offered."),
    ("user", {"name": ""}, "Give the person's name."),
]


@pytest.mark.parametrize("name, changes, message", SPOILT,
                         ids=[f"{name}: {', '.join(changes)}" for name, changes, _ in SPOILT])
def test_a_spoilt_form_is_refused_with_a_message_and_nothing_changes(desk, name, changes, message):
    before = state()
    url, data = desk.form(name, changes)
    response = desk.admin.post(url, data)
    assert response.status_code == 422, response.get_data(as_text=True)[:3000]
    assert message in messages(response)
    assert state() == before


def test_a_nul_character_anywhere_is_refused_with_a_message_and_nothing_changes(desk):
    """PostgreSQL can neither store nor compare text holding NUL: refused before the database."""
    before = state()
    for name in ("new region", "organization", "new shelter", "pool", "new user", "user"):
        url, data = desk.form(name, {})
        field = next(field for field, value in data.items() if value and not value.isdigit())
        response = desk.admin.post(url, {**data, field: data[field] + "\x00"})
        assert 400 <= response.status_code < 500, (name, field)
        assert messages(response), (name, field)
    assert state() == before


def test_unknown_ids_in_addresses_answer_404_and_change_nothing(desk):
    before = state()
    for url in ("/admin/regions/999999", "/admin/organizations/999999", "/admin/shelters/999999",
                f"/admin/shelters/{desk.shelter.id}/pools/999999", "/admin/users/999999",
                f"/admin/users/{HUGE}", "/admin/users/abc", "/admin/nothing-here"):
        assert desk.admin.get(url).status_code == 404, url
        assert desk.admin.post(url, {}).status_code in (404, 405), url
    for url in ("/admin/organizations/999999/deactivate", "/admin/organizations/999999/reactivate",
                "/admin/shelters/999999/pools", "/admin/users/999999/deactivate", "/admin/users/999999/reactivate",
                "/admin/users/999999/reset-password", "/admin/users/999999/unlock"):
        assert desk.admin.post(url, {}).status_code == 404, url
    assert state() == before


def test_a_post_without_its_csrf_token_is_refused_and_changes_nothing(desk):
    before = state()
    for name in desk.forms:
        url, data = desk.form(name, {})
        response = desk.admin.post(url, data, csrf=False)
        assert response.status_code == 400, url
        assert "did not come from this site" in response.get_data(as_text=True)
    assert state() == before


def test_bad_list_parameters_answer_400_with_a_message_not_a_500(desk):
    for url in ("/admin/users?page=0", f"/admin/users?page={HUGE}", "/admin/users?page=x",
                "/admin/users?organization=abc", "/admin/users?role=king",
                "/admin/organizations?page=-3", "/admin/shelters?page=x"):
        response = desk.admin.get(url)
        assert response.status_code == 400, url
        assert messages(response), url
    assert desk.admin.get("/admin/users?page=99").status_code == 200  # past the end: an empty page
