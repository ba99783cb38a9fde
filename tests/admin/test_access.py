"""Only administrators reach the administration area: every other role gets 403 on every
page and action (and nothing changes), an anonymous visitor is sent to sign in."""
from urllib.parse import urlparse

import pytest

from coordination.accounts.models import ROLES
from coordination.audit.models import AuditEvent

from .pages import count, redirected_to

NON_ADMIN_ROLES = [role for role in ROLES if role != "admin"]


@pytest.fixture
def estate(make):
    """One of each thing the admin pages name by id."""
    region = make.region()
    organization = make.organization(region=region)
    shelter = make.shelter(organization=organization)
    pool = make.pool(shelter)
    person = make.user("caseworker", organization=organization)
    return {"region": region.id, "organization": organization.id, "shelter": shelter.id, "pool": pool.id,
            "user": person.id}


def pages(ids: dict) -> list[str]:
    return [
        "/admin/", "/admin/regions", "/admin/regions/new", f"/admin/regions/{ids['region']}",
        "/admin/organizations", "/admin/organizations/new", f"/admin/organizations/{ids['organization']}",
        "/admin/shelters", "/admin/shelters/new", f"/admin/shelters/{ids['shelter']}",
        f"/admin/shelters/{ids['shelter']}/pools/{ids['pool']}",
        "/admin/users", "/admin/users/new", f"/admin/users/{ids['user']}", "/admin/security",
    ]


def actions(ids: dict) -> list[tuple[str, dict]]:
    """Each POST with input an admin's request would be accepted with."""
    region, organization = str(ids["region"]), str(ids["organization"])
    return [
        ("/admin/regions/new", {"code": "NEW", "name": "New region"}),
        (f"/admin/regions/{ids['region']}", {"code": "CHG", "name": "Changed"}),
        ("/admin/organizations/new", {"name": "New org", "kind": "ngo", "region": region}),
        (f"/admin/organizations/{ids['organization']}", {"name": "Changed", "kind": "state", "region": region}),
        (f"/admin/organizations/{ids['organization']}/deactivate", {}),
        (f"/admin/organizations/{ids['organization']}/reactivate", {}),
        ("/admin/shelters/new", {"organization": organization, "region": region, "name": "New", "status": "open"}),
        (f"/admin/shelters/{ids['shelter']}", {"organization": organization, "region": region, "name": "Changed",
                                               "status": "closed"}),
        (f"/admin/shelters/{ids['shelter']}/pools", {"label": "New", "admits_sex": "any", "min_age": "0",
                                                     "max_age": "17", "capacity": "3"}),
        (f"/admin/shelters/{ids['shelter']}/pools/{ids['pool']}", {"label": "Changed", "admits_sex": "any",
                                                                   "min_age": "0", "max_age": "17",
                                                                   "capacity": "9"}),
        ("/admin/users/new", {"email": "new@example.org", "name": "New", "role": "caseworker",
                              "organization": organization}),
        (f"/admin/users/{ids['user']}", {"name": "Changed", "role": "oversight", "organization": organization}),
        (f"/admin/users/{ids['user']}/deactivate", {}),
        (f"/admin/users/{ids['user']}/reactivate", {}),
        (f"/admin/users/{ids['user']}/reset-password", {}),
        (f"/admin/users/{ids['user']}/unlock", {}),
        ("/admin/security", {"require_totp": "caseworker"}),
    ]


@pytest.mark.parametrize("role", NON_ADMIN_ROLES)
def test_every_admin_page_and_action_answers_403_to_a_non_admin_and_changes_nothing(role, login_as, estate):
    person = login_as(role)
    for url in pages(estate):
        assert person.get(url).status_code == 403, url
        assert person.get(url, htmx=True).status_code == 403, url
    events = count(AuditEvent)
    for url, data in actions(estate):
        response = person.post(url, data)
        assert response.status_code == 403, url
        assert "You are not allowed to do that" in response.get_data(as_text=True)
    assert count(AuditEvent) == events


def test_anonymous_visitors_are_sent_to_sign_in_from_every_admin_page(client, estate):
    for url in pages(estate):
        location = redirected_to(client.get(url))
        assert urlparse(location).path == "/login", url
    events = count(AuditEvent)
    for url, data in actions(estate):
        assert urlparse(redirected_to(client.post(url, data))).path == "/login", url
    assert count(AuditEvent) == events


def test_an_admin_reaches_every_admin_page(admin, estate):
    """The control for the refusals above: the same pages open for an administrator."""
    for url in pages(estate):
        response = admin.get(url)
        assert response.status_code == 200, (url, response.get_data(as_text=True)[:2000])


def test_admin_pages_carry_no_inline_script_style_or_hx_on(admin, estate):
    """The strict Content-Security-Policy holds only if the pages need nothing inline."""
    for url in pages(estate):
        page = admin.get(url).get_data(as_text=True)
        assert "<script>" not in page and "<script " not in page.replace('<script src=', ''), url
        assert 'style="' not in page and "hx-on" not in page, url


def test_the_admin_index_links_to_every_section(admin):
    page = admin.get("/admin/").get_data(as_text=True)
    for section in ("/admin/regions", "/admin/organizations", "/admin/shelters", "/admin/users",
                    "/admin/security"):
        assert f'href="{section}"' in page
