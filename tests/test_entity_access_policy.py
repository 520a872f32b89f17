"""OPTIMIZE_ENTITY_ACCESS: who may export and import, route by identity, under both policies.

`superuser` follows the documentation of Optimize 3.3 (export and import are for superusers); `optimize8`
follows Optimize 8.x's code: no superuser check, a private import needs the entity-editor authorization
(DashboardService.validateEntityEditorAuthorization), an export needs the definitions and the owner or an
editor/manager role in the collection (ReportExportService.validateReportAuthorizationsOrFail), an import
into a collection a role there (EntityImportService.getAndValidateCollectionExistsAndIsAccessibleOrFail)."""

import json

import pytest

from optimize_testing.installation import start_installation
from optimize_testing.pytest_plugin import isolated_names

KEY = "invoice"
USERS = ("demo", "ed", "bob", "vic")  # superuser and manager of C; entity editor; editor in C; viewer in C
ROUTES = ("export private report of ed", "export report of C", "export collection C", "import privately",
          "import into C")

# route -> expected status for demo, ed, bob, vic
EXPECTED = {
    "superuser": {
        "export private report of ed": (403, 403, 403, 403),  # a superuser exports what is theirs only
        "export report of C": (200, 403, 403, 403),
        "export collection C": (200, 403, 403, 403),
        "import privately": (200, 403, 403, 403),
        "import into C": (200, 403, 403, 403),
    },
    "optimize8": {
        "export private report of ed": (403, 200, 403, 403),
        "export report of C": (200, 403, 200, 403),           # editor or manager in C; a viewer may not
        "export collection C": (200, 403, 200, 403),
        "import privately": (200, 200, 403, 403),             # entity editors (superusers included)
        "import into C": (200, 403, 200, 403),                # editor or manager role in C
    },
}


def ok(response, *statuses):
    assert response.status_code in (statuses or (200, 204)), response.get_data(as_text=True)
    return response


@pytest.fixture(params=["superuser", "optimize8"])
def policy_installation(request, servers):
    installation = start_installation(servers, isolated_names(request.param[:4]),
                                      OPTIMIZE_ENTITY_ACCESS=request.param,
                                      OPTIMIZE_AUTH_ENTITY_EDITOR_IDS="ed")
    yield request.param, installation
    installation.close()


def report_body(name, collection_id=None):
    return {"name": name, "collectionId": collection_id,
            "data": {"definitions": [{"key": KEY, "versions": ["1"], "tenantIds": [None]}]}}


def prepare(installation):
    demo = installation.headers("demo")
    ok(installation.catalog.post("/api/definition", headers=demo, json=[
        {"type": "process", "key": KEY, "name": KEY, "version": "1", "tenantId": None}]))
    ok(installation.catalog.post("/api/authorization", headers=demo, json=[
        {"identity": {"id": user, "type": "user"}, "definitionType": "process", "definitionKey": KEY,
         "tenants": [None]} for user in USERS]))
    collection = ok(installation.catalog.post("/api/collection", json={"name": "C"}, headers=demo)).json["id"]
    ok(installation.catalog.post(f"/api/collection/{collection}/scope", headers=demo, json=[
        {"definitionType": "process", "definitionKey": KEY, "tenants": [None]}]))
    ok(installation.catalog.post(f"/api/collection/{collection}/role", headers=demo, json=[
        {"identity": {"id": "bob", "type": "user"}, "role": "editor"},
        {"identity": {"id": "vic", "type": "user"}, "role": "viewer"}]))
    private = ok(installation.imports.post("/api/report/process/single", json=report_body("Ed's"),
                                           headers=installation.headers("ed"))).json["id"]
    shared = ok(installation.imports.post("/api/report/process/single", json=report_body("C's", collection),
                                          headers=demo)).json["id"]
    return collection, private, shared


def call(installation, route, user, collection, private, shared):
    headers = installation.headers(user)
    file = json.dumps([{"id": "a1b2c3d4-0000-4000-8000-000000000001",
                        "exportEntityType": "single_process_report", "name": "Imported", "description": None,
                        "sourceIndexVersion": 11, "collectionId": None, "data": report_body("x")["data"]}])
    if route == "export private report of ed":
        return installation.export.get(f"/api/export/report/json/{private}/r.json", headers=headers)
    if route == "export report of C":
        return installation.export.get(f"/api/export/report/json/{shared}/r.json", headers=headers)
    if route == "export collection C":
        return installation.export.get(f"/api/export/collection/json/{collection}/c.json", headers=headers)
    query = f"?collectionId={collection}" if route == "import into C" else ""
    return installation.imports.post(f"/api/import{query}", data=file, content_type="application/json",
                                     headers=headers)


def test_routes_by_identity_under_each_policy(policy_installation):
    policy, installation = policy_installation
    collection, private, shared = prepare(installation)

    answered = {route: tuple(call(installation, route, user, collection, private, shared).status_code
                             for user in USERS) for route in ROUTES}

    assert answered == EXPECTED[policy]


def test_a_private_import_without_the_entity_editor_authorization_says_so(servers):
    """Optimize 8's message for the missing authorization: "User is not an authorized entity editor"."""
    installation = start_installation(servers, isolated_names("opt8"), OPTIMIZE_ENTITY_ACCESS="optimize8")
    try:
        response = installation.imports.post("/api/import", data="[]", content_type="application/json",
                                             headers=installation.headers("bob"))
        assert (response.status_code, response.json["errorCode"]) == (403, "forbiddenError")
        assert response.json["errorMessage"] == "User is not an authorized entity editor"
    finally:
        installation.close()
