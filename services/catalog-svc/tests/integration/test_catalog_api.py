"""The catalog's HTTP API as a user sees it: shapes, who may do what, and the error codes of misuse."""

import time

import jwt
import pytest

from optimize_testing.pytest_plugin import TEST_JWT_SECRET

INVOICE_V1 = {
    "type": "process",
    "key": "invoice",
    "name": "Invoice",
    "version": "1",
    "tenantId": None,
    "xml": "<bpmn/>",
}


@pytest.fixture
def catalog(installation):
    return installation.catalog


@pytest.fixture
def admin(installation):
    return installation.headers("demo")


def create_collection(catalog, headers, name="Sales") -> str:
    response = catalog.post("/api/collection", json={"name": name}, headers=headers)
    assert response.status_code == 200, response.json
    return response.json["id"]


def test_definitions_are_registered_idempotently_and_listed_by_key(catalog, admin):
    body = [
        INVOICE_V1,
        {**INVOICE_V1, "version": "2"},
        {**INVOICE_V1, "version": "2", "tenantId": "t1"},
        {"type": "decision", "key": "risk", "version": "1"},
    ]
    for _ in range(2):
        assert catalog.post("/api/definition", json=body, headers=admin).json == {"registered": 4}
    listed = catalog.get("/api/definition?type=process", headers=admin).json
    assert [(d["key"], d["versions"], d["tenantIds"]) for d in listed] == [
        ("invoice", ["1", "2"], [None, "t1"])
    ]
    assert len(listed[0]["deployments"]) == 3
    everything = catalog.get("/api/definition", headers=admin).json
    assert [(d["type"], d["key"]) for d in everything] == [("decision", "risk"), ("process", "invoice")]


def test_definitions_are_registered_with_their_process_variables_as_documented(catalog, admin):
    amount = {"name": "amount", "type": "Double"}
    body = [{"type": "process", "key": "invoice", "version": "1", "variables": [amount, amount]},
            {"type": "process", "key": "invoice", "version": "2"}]
    assert catalog.post("/api/definition", json=body, headers=admin).status_code == 200
    [listed] = catalog.get("/api/definition?key=invoice", headers=admin).json
    assert [d["variables"] for d in listed["deployments"]] == [[amount], None]
    wrong = [{"type": "process", "key": "invoice", "version": "1",
              "variables": [{"name": "a", "type": "Text"}]}]
    refused = catalog.post("/api/definition", json=wrong, headers=admin)
    assert (refused.status_code, refused.json["errorCode"]) == (400, "badRequestError")
    assert "variables" in str(refused.json["validationErrors"])
    documented = catalog.get("/openapi.json").json["components"]["schemas"]
    assert "variables" in documented["Definition"]["properties"]
    assert "Double" in documented["Variable"]["properties"]["type"]["enum"]


def test_a_definition_is_deleted_whole_or_by_version_and_tenant(catalog, admin):
    body = [INVOICE_V1, {**INVOICE_V1, "version": "2"}, {**INVOICE_V1, "tenantId": "t1"}]
    catalog.post("/api/definition", json=body, headers=admin)
    assert (
        catalog.delete("/api/definition/process/invoice?version=1&tenantId=", headers=admin).status_code
        == 204
    )
    listed = catalog.get("/api/definition?key=invoice", headers=admin).json[0]["deployments"]
    assert [(d["version"], d["tenantId"]) for d in listed] == [("1", "t1"), ("2", None)]
    assert catalog.delete("/api/definition/process/invoice", headers=admin).status_code == 204
    assert catalog.get("/api/definition?key=invoice", headers=admin).json == []
    missing = catalog.delete("/api/definition/process/invoice", headers=admin)
    assert (missing.status_code, missing.json["errorCode"]) == (404, "notFoundError")


def test_definitions_and_authorizations_are_for_superusers_only(installation, catalog):
    alice = installation.headers("alice")
    for method, path, body in [
        ("post", "/api/definition", [INVOICE_V1]),
        ("get", "/api/definition", None),
        ("delete", "/api/definition/process/invoice", None),
        ("post", "/api/authorization", []),
        ("get", "/api/authorization", None),
        ("delete", "/api/authorization/user:alice:process:invoice", None),
    ]:
        response = getattr(catalog, method)(path, json=body, headers=alice)
        assert (response.status_code, response.json["errorCode"]) == (403, "forbiddenError"), path
    admins_group = installation.headers("carol", groups=["optimize-admins"])
    assert catalog.get("/api/definition", headers=admins_group).status_code == 200


@pytest.mark.parametrize(
    "method, path",
    [
        ("post", "/api/definition"),
        ("get", "/api/definition"),
        ("delete", "/api/definition/process/k"),
        ("post", "/api/collection"),
        ("get", "/api/collection/c"),
        ("put", "/api/collection/c"),
        ("delete", "/api/collection/c"),
        ("get", "/api/collection/c/scope"),
        ("post", "/api/collection/c/scope"),
        ("put", "/api/collection/c/scope/process:k"),
        ("delete", "/api/collection/c/scope/process:k"),
        ("post", "/api/collection/c/role"),
        ("put", "/api/collection/c/role/user:u"),
        ("delete", "/api/collection/c/role/user:u"),
        ("post", "/api/authorization"),
        ("get", "/api/authorization"),
        ("delete", "/api/authorization/a"),
    ],
)
def test_every_endpoint_needs_a_valid_token(catalog, method, path):
    expired = jwt.encode({"sub": "demo", "exp": int(time.time()) - 60}, TEST_JWT_SECRET, algorithm="HS256")
    foreign = jwt.encode(
        {"sub": "demo", "exp": int(time.time()) + 60}, "another-secret-entirely-0123456789", algorithm="HS256"
    )
    for headers in ({}, {"Authorization": f"Bearer {expired}"}, {"Authorization": f"Bearer {foreign}"}):
        response = getattr(catalog, method)(path, json={}, headers=headers)
        assert (response.status_code, response.json["errorCode"]) == (401, "unauthorizedError")


@pytest.mark.parametrize(
    "method, path, body, field",
    [
        ("post", "/api/definition", [{"type": "case", "key": "k", "version": "1"}], "type"),
        ("post", "/api/definition", [{"type": "process", "key": "k", "version": "v1"}], "version"),
        ("post", "/api/definition", {"type": "process"}, "_schema"),
        ("post", "/api/collection", {"name": ""}, "name"),
        ("put", "/api/collection/{id}", {}, "name"),
        ("post", "/api/collection/{id}/scope", [{"definitionType": "process"}], "definitionKey"),
        ("put", "/api/collection/{id}/scope/process:invoice", {"tenants": "t1"}, "tenants"),
        (
            "post",
            "/api/collection/{id}/role",
            [{"identity": {"id": "x", "type": "robot"}, "role": "viewer"}],
            "identity",
        ),
        ("put", "/api/collection/{id}/role/user:demo", {"role": "owner"}, "role"),
        (
            "post",
            "/api/authorization",
            [{"identity": {"id": "x", "type": "user"}, "definitionType": "process"}],
            "definitionKey",
        ),
    ],
)
def test_invalid_bodies_are_bad_requests_naming_the_field(catalog, admin, method, path, body, field):
    collection_id = create_collection(catalog, admin)
    response = getattr(catalog, method)(path.format(id=collection_id), json=body, headers=admin)
    assert (response.status_code, response.json["errorCode"]) == (400, "badRequestError")
    assert field in str(response.json["validationErrors"])


@pytest.mark.parametrize(
    "path, body, field",
    [
        ("/api/collection", '{"name": "\\ud800"}', "name"),
        ("/api/definition", '[{"type": "process", "key": "\\udc00", "version": "1"}]', "[0].key"),
        ("/api/collection", '{"name": ' + "[" * 5000 + "]" * 5000 + "}", "_schema"),
        ("/api/collection/{id}/scope", f'[{{"definitionType": "process", "definitionKey": {2**70}}}]',
         "[0].definitionKey"),
    ],
)
def test_json_the_store_cannot_hold_is_a_bad_request_naming_the_field(catalog, admin, path, body, field):
    collection_id = create_collection(catalog, admin)
    response = catalog.post(path.format(id=collection_id), data=body, content_type="application/json",
                            headers=admin)
    assert (response.status_code, response.json["errorCode"]) == (400, "badRequestError"), response.json
    assert field in response.json["validationErrors"]["json"]


def test_a_collection_created_without_a_body_is_named_new_collection_as_documented(catalog, admin):
    response = catalog.post("/api/collection", headers=admin)
    assert response.status_code == 200
    collection = catalog.get(f"/api/collection/{response.json['id']}", headers=admin).json
    assert collection["name"] == "New Collection"
    operation = catalog.get("/openapi.json").json["paths"]["/api/collection"]["post"]
    assert operation["requestBody"]["required"] is False


def test_a_collection_as_its_creator_sees_it(installation, catalog):
    bob = installation.headers("bob")
    collection_id = create_collection(catalog, bob, "Sales")
    collection = catalog.get(f"/api/collection/{collection_id}", headers=bob).json
    assert collection["id"] == collection_id
    assert (collection["name"], collection["owner"], collection["currentUserRole"]) == (
        "Sales",
        "bob",
        "manager",
    )
    assert collection["roles"] == [
        {"id": "user:bob", "identity": {"id": "bob", "type": "user"}, "role": "manager"}
    ]
    assert collection["scope"] == [] and collection["created"]
    assert (
        catalog.put(f"/api/collection/{collection_id}", json={"name": "Sales 2"}, headers=bob).status_code
        == 204
    )
    assert catalog.get(f"/api/collection/{collection_id}", headers=bob).json["name"] == "Sales 2"
    assert catalog.delete(f"/api/collection/{collection_id}", headers=bob).status_code == 204
    gone = catalog.get(f"/api/collection/{collection_id}", headers=bob)
    assert (gone.status_code, gone.json["errorCode"]) == (404, "notFoundError")


def test_scope_entries_are_added_replaced_and_removed(installation, catalog):
    bob = installation.headers("bob")
    collection_id = create_collection(catalog, bob)
    scope_path = f"/api/collection/{collection_id}/scope"
    entries = [
        {"definitionType": "process", "definitionKey": "invoice", "tenants": [None, "t1"]},
        {"definitionType": "decision", "definitionKey": "risk"},
    ]
    assert catalog.post(scope_path, json=entries, headers=bob).status_code == 204
    assert (
        catalog.put(f"{scope_path}/process:invoice", json={"tenants": ["t2"]}, headers=bob).status_code == 204
    )
    assert catalog.delete(f"{scope_path}/decision:risk", headers=bob).status_code == 204
    assert catalog.get(scope_path, headers=bob).json == [
        {"id": "process:invoice", "definitionType": "process", "definitionKey": "invoice", "tenants": ["t2"]}
    ]
    missing = catalog.delete(f"{scope_path}/decision:risk", headers=bob)
    assert (missing.status_code, missing.json["errorCode"]) == (404, "notFoundError")


def test_roles_are_added_changed_and_removed_keeping_a_manager(installation, catalog):
    bob = installation.headers("bob")
    collection_id = create_collection(catalog, bob)
    role_path = f"/api/collection/{collection_id}/role"
    roles = [
        {"identity": {"id": "vic", "type": "user"}, "role": "viewer"},
        {"identity": {"id": "sales", "type": "group"}, "role": "editor"},
    ]
    assert catalog.post(role_path, json=roles, headers=bob).status_code == 204
    again = catalog.post(role_path, json=roles[:1], headers=bob)
    assert (again.status_code, again.json["errorCode"]) == (409, "conflictError")
    assert catalog.put(f"{role_path}/group:sales", json={"role": "manager"}, headers=bob).status_code == 204
    assert catalog.delete(f"{role_path}/user:vic", headers=bob).status_code == 204
    last = catalog.delete(f"{role_path}/group:sales", headers=bob)
    assert last.status_code == 204
    refused = catalog.put(f"{role_path}/user:bob", json={"role": "viewer"}, headers=bob)
    assert (refused.status_code, refused.json["errorCode"]) == (409, "conflictError")
    assert [r["id"] for r in catalog.get(f"/api/collection/{collection_id}", headers=bob).json["roles"]] == [
        "user:bob"
    ]


def test_a_viewer_may_read_but_not_change_roles_scope_or_name(installation, catalog):
    bob, vic = installation.headers("bob"), installation.headers("vic")
    collection_id = create_collection(catalog, bob)
    catalog.post(
        f"/api/collection/{collection_id}/role",
        headers=bob,
        json=[{"identity": {"id": "vic", "type": "user"}, "role": "viewer"}],
    )
    assert catalog.get(f"/api/collection/{collection_id}", headers=vic).json["currentUserRole"] == "viewer"
    base = f"/api/collection/{collection_id}"
    for method, path, body in [
        ("post", f"{base}/role", [{"identity": {"id": "eve", "type": "user"}, "role": "manager"}]),
        ("put", f"{base}/role/user:vic", {"role": "manager"}),
        ("delete", f"{base}/role/user:bob", None),
        ("post", f"{base}/scope", [{"definitionType": "process", "definitionKey": "invoice"}]),
        ("put", f"{base}/scope/process:invoice", {"tenants": [None]}),
        ("delete", f"{base}/scope/process:invoice", None),
        ("put", base, {"name": "Mine"}),
        ("delete", base, None),
    ]:
        response = getattr(catalog, method)(path, json=body, headers=vic)
        assert (response.status_code, response.json["errorCode"]) == (403, "forbiddenError"), (method, path)
    assert catalog.get(base, headers=bob).json["name"] == "Sales"


def test_strangers_may_not_read_a_collection_and_superusers_may_administer_it(installation, catalog, admin):
    collection_id = create_collection(catalog, installation.headers("bob"))
    eve = installation.headers("eve")
    for path in (f"/api/collection/{collection_id}", f"/api/collection/{collection_id}/scope"):
        response = catalog.get(path, headers=eve)
        assert (response.status_code, response.json["errorCode"]) == (403, "forbiddenError")
    as_admin = catalog.get(f"/api/collection/{collection_id}", headers=admin).json
    assert as_admin["currentUserRole"] is None  # superusers have no implicit role, as in Optimize
    assert (
        catalog.post(
            f"/api/collection/{collection_id}/role",
            headers=admin,
            json=[{"identity": {"id": "eve", "type": "user"}, "role": "viewer"}],
        ).status_code
        == 204
    )
    assert catalog.get(f"/api/collection/{collection_id}", headers=eve).status_code == 200


@pytest.mark.parametrize(
    "method, path, body",
    [
        ("get", "/api/collection/nope", None),
        ("put", "/api/collection/nope", {"name": "x"}),
        ("delete", "/api/collection/nope", None),
        ("get", "/api/collection/nope/scope", None),
        ("post", "/api/collection/nope/scope", []),
        ("put", "/api/collection/nope/scope/process:k", {"tenants": []}),
        ("delete", "/api/collection/nope/scope/process:k", None),
        ("post", "/api/collection/nope/role", []),
        ("put", "/api/collection/nope/role/user:u", {"role": "viewer"}),
        ("delete", "/api/collection/nope/role/user:u", None),
        ("delete", "/api/authorization/user:u:process:k", None),
    ],
)
def test_unknown_ids_are_not_found(catalog, admin, method, path, body):
    response = getattr(catalog, method)(path, json=body, headers=admin)
    assert (response.status_code, response.json["errorCode"]) == (404, "notFoundError")


def test_authorizations_are_granted_listed_and_revoked(catalog, admin):
    body = [
        {
            "identity": {"id": "alice", "type": "user"},
            "definitionType": "process",
            "definitionKey": "invoice",
            "tenants": [None, "t1"],
        },
        {"identity": {"id": "sales", "type": "group"}, "definitionType": "decision", "definitionKey": "*"},
    ]
    granted = catalog.post("/api/authorization", json=body, headers=admin).json
    assert [a["id"] for a in granted] == ["user:alice:process:invoice", "group:sales:decision:*"]
    assert granted[1]["tenants"] == [None]
    listed = catalog.get("/api/authorization?identityType=group", headers=admin).json
    assert [a["id"] for a in listed] == ["group:sales:decision:*"]
    assert catalog.delete("/api/authorization/group:sales:decision:*", headers=admin).status_code == 204
    assert [a["id"] for a in catalog.get("/api/authorization", headers=admin).json] == [
        "user:alice:process:invoice"
    ]


def test_authorizations_add_up_and_revoking_is_explicit(installation, catalog, admin):
    """Optimize's authorizations add up (a user holds the union of what was granted, as its
    DataSourceDefinitionAuthorizationService reads every grant); a second grant for the same key adds
    tenants instead of replacing them, and only a revoke takes them away."""
    def grant(*tenants):
        return catalog.post("/api/authorization", headers=admin, json=[
            {"identity": {"id": "demo", "type": "user"}, "definitionType": "process",
             "definitionKey": "invoice", "tenants": list(tenants)}])

    catalog.post("/api/definition", headers=admin, json=[
        {"type": "process", "key": "invoice", "name": "Invoice", "version": "1", "tenantId": tenant}
        for tenant in ("t1", "t2")])
    assert grant("t1").json[0]["tenants"] == ["t1"]
    assert grant("t2", "t1").json[0]["tenants"] == ["t1", "t2"]

    report = {"id": "r", "exportEntityType": "single_process_report", "name": "Both tenants",
              "description": None, "sourceIndexVersion": 11, "collectionId": None,
              "data": {"definitions": [{"key": "invoice", "versions": ["1"], "tenantIds": ["t1", "t2"]}]}}
    imported = installation.imports.post("/api/import", json=[report], headers=admin)
    assert imported.status_code == 200, imported.json

    revoked = catalog.delete("/api/authorization/user:demo:process:invoice?tenant=t2", headers=admin)
    assert revoked.status_code == 204
    [left] = catalog.get("/api/authorization?identityId=demo", headers=admin).json
    assert left["tenants"] == ["t1"]
    refused = installation.imports.post("/api/import", json=[report], headers=admin)
    assert (refused.status_code, refused.json["errorCode"]) == (403, "importDefinitionForbidden")
