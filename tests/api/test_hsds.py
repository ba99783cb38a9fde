"""The directory through the API: a directory service with a bed-board token fetches the
same HSDS 3.1 export `flask export-hsds` writes, valid against the specification's schemas,
without a child's data or a shelter's address in it."""
import io
import zipfile

from ..directory.hsds_check import json_problems, table_problems


def _world(make):
    shelter = make.shelter(name="Yasamal House", address="12 Hidden Lane, Baku", phone="+994 12 555 01 02")
    girls = make.pool(shelter=shelter, label="Girls 12–17", admits_sex="female", min_age=12, max_age=17,
                      capacity=6, occupied=2)
    child = make.child(given_name="Nigar", family_name="Quliyeva")
    make.referral(pool=girls, child=child, status="submitted")
    return shelter, girls


def test_a_bed_board_token_gets_the_services_valid_against_hsds(make, make_token):
    _world(make)
    api, _token = make_token("caseworker")

    response = api.get("/api/v1/hsds/services")

    assert response.status_code == 200
    services = response.get_json()
    assert json_problems(services) == []
    assert [s["name"] for s in services] == ["Yasamal House: Girls 12–17"]
    capacity = services[0]["capacities"][0]
    assert (capacity["available"], capacity["maximum"]) == (3, 6)  # 6 less 2 occupied, 1 held


def test_the_datapackage_zip_validates_and_holds_no_child_and_no_address(make, make_token, tmp_path):
    _world(make)
    api, _token = make_token("shelter_staff", scopes=["beds:read"])

    response = api.get("/api/v1/hsds/datapackage.zip")

    assert response.status_code == 200 and response.mimetype == "application/zip"
    assert response.headers["Content-Disposition"].startswith('attachment; filename="hsds-')
    with zipfile.ZipFile(io.BytesIO(response.data)) as archive:
        archive.extractall(tmp_path)
        everything = b"".join(archive.read(name) for name in archive.namelist()).decode()
    assert table_problems(tmp_path) == []
    assert "Yasamal House" in everything
    assert "Nigar" not in everything and "Quliyeva" not in everything and "Hidden Lane" not in everything


def test_the_directory_needs_a_token_with_the_bed_board_scope(make, make_token, anonymous_api):
    _world(make)
    referrals_only, _token = make_token("caseworker", scopes=["referrals:read"])

    for path in ("/api/v1/hsds/services", "/api/v1/hsds/datapackage.zip"):
        assert anonymous_api.get(path).status_code == 401
        refused = referrals_only.get(path)
        assert refused.status_code == 403 and refused.mimetype == "application/problem+json"
