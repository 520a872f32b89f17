"""Hostile bodies, replayed from the attack on the services: each is refused with a JSON error naming the
limit, before it costs the service what it costs the attacker (role before parsing, size from
Content-Length, values counted before parsing), and nothing is written."""

import json

import pytest

HOSTILE_REPORT = {"id": "r1", "exportEntityType": "single_process_report", "name": "r", "description": None,
                  "sourceIndexVersion": 11, "collectionId": None,
                  "data": {"definitions": [{"key": "k", "versions": ["1"], "tenantIds": [None]}],
                           "filter": [{}] * 750_000}}  # 3 MB


def test_an_import_of_a_million_tiny_values_is_refused_before_it_is_parsed(installation):
    body = json.dumps([HOSTILE_REPORT])
    response = installation.imports.post("/api/import", data=body, content_type="application/json",
                                         headers=installation.headers())
    assert (response.status_code, response.json["errorCode"]) == (413, "payloadTooLarge")
    assert response.json["limitName"] == "jsonValues"


def test_a_non_superuser_authoring_a_hostile_report_is_refused_the_same_way(installation):
    body = json.dumps({"name": "r", "data": HOSTILE_REPORT["data"]})
    response = installation.imports.post("/api/report/process/single", data=body,
                                         content_type="application/json",
                                         headers=installation.headers("kermit"))
    assert (response.status_code, response.json["errorCode"]) == (413, "payloadTooLarge")
    assert installation.app("import").extensions["import"].db["reports"].count_documents({}) == 0


@pytest.mark.parametrize(("service", "path"), [
    ("catalog", "/api/definition"), ("catalog", "/api/authorization"), ("import", "/api/import"),
    ("export", "/api/public/export/report/definition/json")])
def test_a_non_superuser_is_refused_before_the_body_is_parsed(installation, service, path):
    client = installation.app(service).test_client()
    headers = installation.headers("kermit")  # on the public path, a user token is no public token either
    not_even_json = b"[" + b'{"type": "process", "key": "k", "version": "1"},' * 20_000  # ~1 MB, cut off
    response = client.post(path, data=not_even_json, content_type="application/json", headers=headers)
    assert response.status_code in (401, 403), response.json
    assert response.json["errorCode"] in ("unauthorizedError", "forbiddenError")


def test_a_body_nested_100000_levels_to_the_public_export_is_a_bad_request(installation):
    response = installation.export.post("/api/public/export/report/definition/json",
                                        data="[" * 100_000 + "]" * 100_000, content_type="application/json",
                                        headers=installation.public_headers())
    assert (response.status_code, response.json["errorCode"]) == (400, "badRequestError")


@pytest.mark.parametrize(("length", "status", "code"), [
    (33 * 1024 * 1024, 413, "payloadTooLarge"), (10 * 1024 * 1024, 413, "payloadTooLarge"),
    (101, 400, "badRequestError")])
def test_collection_names_have_a_limit(installation, length, status, code):
    response = installation.catalog.post("/api/collection", json={"name": "n" * length},
                                         headers=installation.headers())
    assert (response.status_code, response.json["errorCode"]) == (status, code)
    if status == 400:
        assert "name" in response.json["validationErrors"]["json"]
    longest = installation.catalog.post("/api/collection", json={"name": "n" * 100},
                                        headers=installation.headers())
    assert longest.status_code == 200


@pytest.mark.parametrize("content_type", ["text/plain", "application/x-www-form-urlencoded",
                                          "application/xml", None])
def test_bodies_that_are_not_json_are_refused_and_create_nothing(installation, content_type):
    kwargs = {"content_type": content_type} if content_type else {}
    response = installation.imports.post("/api/import", data=b"[]", headers=installation.headers(), **kwargs)
    assert (response.status_code, response.json["errorCode"]) == (415, "unsupportedMediaType")
    response = installation.catalog.post("/api/collection", data=b"name=Sales",
                                         headers=installation.headers(), **kwargs)
    assert (response.status_code, response.json["errorCode"]) == (415, "unsupportedMediaType")
    catalog_db = installation.app("catalog").extensions["catalog"].db
    assert catalog_db.list_collection_names() == [] or all(
        catalog_db[name].count_documents({}) == 0 for name in catalog_db.list_collection_names()
        if "collection" in name)
