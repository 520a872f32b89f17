"""Authoring through import-svc's API: what is stored, who may do it, and what is refused, named."""

import json
import time

import pika
import pytest
from pymongo import MongoClient

DEFINITION = {"key": "invoice", "versions": ["1"], "tenantIds": [None]}


def report_body(**overrides) -> dict:
    return {"name": "Invoices", "description": None, "collectionId": None,
            "data": {"definitions": [DEFINITION], "view": {"properties": ["frequency"]}}, **overrides}


def report_tile(report_id: str) -> dict:
    return {"id": report_id, "type": "optimize_report", "position": {"x": 0, "y": 0},
            "dimensions": {"width": 4, "height": 2}, "configuration": None}


class Client:
    def __init__(self, installation, user: str = "demo") -> None:
        self.http, self.headers = installation.imports, installation.headers(user)

    def post(self, path: str, body: dict):
        return self.http.post(path, json=body, headers=self.headers)

    def created(self, path: str, body: dict) -> str:
        response = self.post(path, body)
        assert response.status_code == 200, response.json
        return response.json["id"]

    def report(self, **overrides) -> str:
        return self.created("/api/report/process/single", report_body(**overrides))


@pytest.fixture
def demo(installation) -> Client:
    return Client(installation)


@pytest.fixture
def store(installation):
    return installation.app("import").extensions["import"].entities


@pytest.fixture
def collection(installation):
    """A collection demo manages, kermit edits and piggy views, with the process `invoice` (tenants: none
    and `north`) in its scope; `payroll` exists in the catalog but not in the scope."""
    catalog, headers = installation.catalog, installation.headers()
    definitions = [{"type": "process", "key": key, "version": "1", "tenantId": tenant}
                   for key, tenant in (("invoice", None), ("invoice", "north"), ("invoice", "south"),
                                       ("payroll", None))]
    assert catalog.post("/api/definition", json=definitions, headers=headers).status_code == 200
    collection_id = catalog.post("/api/collection", json={"name": "Finance"}, headers=headers).json["id"]
    scope = [{"definitionType": "process", "definitionKey": "invoice", "tenants": [None, "north"]}]
    response = catalog.post(f"/api/collection/{collection_id}/scope", json=scope, headers=headers)
    assert response.status_code == 204
    roles = [{"identity": {"id": "kermit", "type": "user"}, "role": "editor"},
             {"identity": {"id": "piggy", "type": "user"}, "role": "viewer"}]
    response = catalog.post(f"/api/collection/{collection_id}/role", json=roles, headers=headers)
    assert response.status_code == 204
    return collection_id


@pytest.mark.parametrize(("definition", "status", "code"), [
    ({"key": "invoice", "versions": ["1"], "tenantIds": [None, "north"]}, 200, None),
    ({"key": "payroll", "versions": ["1"], "tenantIds": [None]}, 409, "nonDefinitionScopeCompliantConflict"),
    ({"key": "no-such-process", "versions": ["1"], "tenantIds": [None]}, 409,
     "nonDefinitionScopeCompliantConflict"),
    ({"key": "invoice", "versions": ["1"], "tenantIds": ["south"]}, 409, "nonTenantScopeCompliantConflict"),
])
def test_a_report_in_a_collection_reads_only_definitions_and_tenants_of_its_scope(
        installation, collection, definition, status, code):
    """Optimize's ReportService.ensureCompliesWithCollectionScope, on create and on change; the finding:
    an editor created reports outside her collection's scope and on a definition that does not exist."""
    kermit = Client(installation, "kermit")
    body = report_body(collectionId=collection, data={"definitions": [definition]})
    response = kermit.post("/api/report/process/single", body)
    assert response.status_code == status, response.json
    if code:
        assert response.json["errorCode"] == code
        conflicted = [{"id": collection, "type": "collection", "name": "Finance"}]
        assert response.json["conflictedItems"] == conflicted
        assert [d["key"] for d in response.json["definitions"]] == [definition["key"]]
        assert installation.app("import").extensions["import"].db["reports"].count_documents({}) == 0
        existing = kermit.report(collectionId=collection)
        response = kermit.http.put(f"/api/report/{existing}", json={"data": {"definitions": [definition]}},
                                   headers=kermit.headers)
        assert (response.status_code, response.json["errorCode"]) == (409, code)


@pytest.fixture
def events(installation, names):
    """Every entity.* event of this installation, as a consumer bound to its exchange sees them (the
    events are recorded with the writes; import-svc's relay publishes them)."""
    installation.start_event_flow(consumer=False)
    connection = pika.BlockingConnection(pika.URLParameters(installation.environ["OPTIMIZE_AMQP_URL"]))
    channel = connection.channel()
    channel.exchange_declare(names.events_exchange, exchange_type="topic", durable=True)
    queue = channel.queue_declare("", exclusive=True).method.queue
    channel.queue_bind(queue, names.events_exchange, "entity.*")

    def received(count: int, timeout_s: float = 5.0) -> list[dict]:
        found, deadline = [], time.monotonic() + timeout_s
        while len(found) < count and time.monotonic() < deadline:
            _, _, body = channel.basic_get(queue, auto_ack=True)
            if body is None:
                connection.sleep(0.05)
            else:
                found.append(json.loads(body))
        return found

    yield received
    connection.close()


def test_each_kind_of_entity_is_stored_as_its_current_export_format(demo, store, events):
    process = demo.report()
    decision = demo.created("/api/report/decision/single", report_body(name="Approvals"))
    combined = demo.created("/api/report/process/combined", {
        "name": "Both", "data": {"reports": [{"id": process, "color": "#1991c8"}], "configuration": {}}})
    dashboard = demo.created("/api/dashboard", {
        "name": "Overview", "description": "What we watch",
        "tiles": [report_tile(combined),
                  {"id": "", "type": "external_url", "position": {"x": 4, "y": 0},
                   "dimensions": {"width": 4, "height": 2},
                   "configuration": {"external": "https://camunda.com"}},
                  {"id": "", "type": "text", "position": {"x": 8, "y": 0},
                   "dimensions": {"width": 2, "height": 2}, "configuration": {"text": None}}]})

    ids = [process, decision, combined, dashboard]
    stored = store.get_many(ids)
    assert [(stored[i]["exportEntityType"], stored[i]["schemaVersion"], stored[i]["owner"]) for i in ids] == [
        ("single_process_report", 11, "demo"), ("single_decision_report", 10, "demo"),
        ("combined_report", 5, "demo"), ("dashboard", 8, "demo")]
    assert stored[process]["data"] == report_body()["data"]
    assert stored[dashboard]["description"] == "What we watch"
    assert stored[dashboard]["tiles"][1]["configuration"] == {"external": "https://camunda.com"}

    created = events(4)
    assert [(e["type"], e["entityIds"], e["actor"]) for e in created] == [
        ("entity.created", [entity_id], "demo") for entity_id in (process, decision, combined, dashboard)]


def test_a_report_too_large_for_one_mongodb_document_is_refused_not_a_crash(demo, installation):
    huge = {"definitions": [DEFINITION], "configuration": {"xml": "x" * (17 * 1024 * 1024)}}
    response = demo.post("/api/report/process/single", report_body(data=huge))
    # refused from its Content-Length, before it is read: no body over one MongoDB document is taken
    assert (response.status_code, response.json["errorCode"]) == (413, "payloadTooLarge")
    assert (response.json["limitName"], response.json["limit"]) == ("bodyBytes", 16 * 1024 * 1024)
    nearly = {"definitions": [DEFINITION], "configuration": {"xml": "x" * (16 * 1024 * 1024 - 200)}}
    response = demo.post("/api/report/process/single", report_body(data=nearly))
    assert (response.status_code, response.json["errorCode"]) == (400, "badRequestError")
    [error] = response.json["validationErrors"]
    assert "bytes" in error["message"]
    assert installation.app("import").extensions["import"].db["reports"].count_documents({}) == 0


def test_content_that_is_not_a_valid_current_entity_is_refused_with_its_path(demo, store):
    response = demo.post("/api/report/process/single", report_body(data={"view": {}}))
    assert (response.status_code, response.json["errorCode"]) == (400, "badRequestError")
    assert [error["path"] for error in response.json["validationErrors"]] == ["data.definitions"]

    response = demo.post("/api/dashboard", {"name": "Board", "tiles": [{"id": "", "type": "pie"}]})
    assert response.status_code == 400
    assert {error["path"] for error in response.json["validationErrors"]} >= {"tiles[0].type"}

    response = demo.post("/api/report/process/single", report_body(data={"definitions": [], "$where": 1}))
    assert response.status_code == 400
    response = demo.post("/api/report/process/single", report_body(name=""))
    assert [error["path"] for error in response.json["validationErrors"]] == ["name"]
    assert demo.post("/api/report/process/single", {"name": "no data"}).status_code == 400


@pytest.mark.parametrize(("path", "body", "field"), [
    ("/api/dashboard", f'{{"name": "Board", "refreshRateSeconds": {2**70}}}', "refreshRateSeconds"),
    ("/api/dashboard", '{"name": "\\ud800"}', "name"),
    ("/api/dashboard", f'{{"availableFilters": [{{"n": {-(2**70)}}}]}}', "availableFilters[0].n"),
    ("/api/report/process/single", '{"data": {"n": 1e400}}', "data.n"),
    ("/api/report/process/single", '{"data": {"n": NaN}}', "_schema"),
    ("/api/report/process/single", '{"data": ' + '{"a": ' * 100 + "1" + "}" * 100 + "}", "data" + ".a" * 63),
    ("/api/dashboard", '{"tiles": ' + "[" * 100_000 + "]" * 100_000 + "}", "_schema"),
])
def test_json_that_cannot_be_stored_is_refused_naming_the_field_and_stores_nothing(installation, demo, path,
                                                                                  body, field):
    response = demo.http.post(path, data=body, content_type="application/json", headers=demo.headers)
    assert (response.status_code, response.json["errorCode"]) == (400, "badRequestError"), response.json
    assert field in response.json["validationErrors"]["json"]
    db = MongoClient(installation.environ["OPTIMIZE_MONGODB_URI"])[installation.names.entities_db]
    assert db.reports.count_documents({}) + db.dashboards.count_documents({}) == 0


def test_the_openapi_document_says_what_bodies_are_optional_or_must_not_be_empty(installation, demo):
    assert demo.http.post("/api/dashboard", headers=demo.headers).status_code == 200  # "New Dashboard"
    paths = installation.imports.get("/openapi.json").json["paths"]
    assert paths["/api/dashboard"]["post"]["requestBody"]["required"] is False
    assert paths["/api/report/process/single"]["post"]["requestBody"]["required"] is True
    export_file = paths["/api/import"]["post"]["requestBody"]["content"]["application/json"]["schema"]
    assert export_file["minItems"] == 1
    response = installation.imports.post("/api/import", json=[], headers=demo.headers)
    assert (response.status_code, response.json["errorCode"]) == (400, "importFileInvalid")


def test_references_must_exist_be_visible_and_single(installation, demo):
    mine = demo.report()
    kermits = Client(installation, "kermit").report()
    combined = demo.created("/api/report/process/combined", {"data": {"reports": [{"id": mine}]}})

    response = demo.post("/api/report/process/combined",
                         {"data": {"reports": [{"id": mine}, {"id": "gone"}]}})
    assert (response.status_code, response.json["errorCode"], response.json["ids"]) == (
        404, "notFoundError", ["gone"])
    response = demo.post("/api/dashboard", {"tiles": [report_tile(mine), report_tile(kermits)]})
    assert (response.status_code, response.json["errorCode"], response.json["ids"]) == (
        403, "forbiddenError", [kermits])
    response = demo.post("/api/report/process/combined", {"data": {"reports": [{"id": combined}]}})
    assert (response.status_code, response.json["ids"]) == (400, [combined])


def test_entities_in_a_collection_need_the_editor_or_manager_role(installation, demo, collection):
    kermit, piggy = Client(installation, "kermit"), Client(installation, "piggy")

    assert demo.report(collectionId=collection)
    shared = kermit.report(collectionId=collection)
    response = piggy.post("/api/report/process/single", report_body(collectionId=collection))
    assert (response.status_code, response.json["errorCode"]) == (403, "forbiddenError")
    response = demo.post("/api/report/process/single", report_body(collectionId="nowhere"))
    assert (response.status_code, response.json["errorCode"]) == (404, "notFoundError")

    # piggy sees the collection's report and may show it on a private dashboard of their own
    assert piggy.created("/api/dashboard", {"tiles": [report_tile(shared)]})
    response = piggy.http.put(f"/api/report/{shared}", json={"name": "Mine now"}, headers=piggy.headers)
    assert response.status_code == 403
    response = demo.http.put(f"/api/report/{shared}", json={"name": "Renamed"}, headers=demo.headers)
    assert response.status_code == 204


def test_catalog_calls_do_not_grow_with_the_collections_an_entity_involves(installation, demo, collection):
    children = [demo.report(collectionId=collection) for _ in range(3)]
    rpc = installation.app("import").extensions["import"].catalog
    calls, call = [], rpc.call

    def counted_call(method, params, **kwargs):
        calls.append(method)
        return call(method, params, **kwargs)

    rpc.call = counted_call
    demo.created("/api/report/process/combined",
                  {"collectionId": collection, "data": {"reports": [{"id": child} for child in children]}})
    demo.created("/api/dashboard", {"tiles": [report_tile(demo.report())]})  # private: no call at all

    # the check (roles and scope in one question); the verification after the write
    assert calls == ["check_import", "collection_access"]


def test_changing_and_deleting_an_entity(installation, demo, store, events):
    report = demo.report()
    kermit = Client(installation, "kermit")

    changes = {"name": "Renamed", "description": "Now described", "owner": "ignored"}
    response = demo.http.put(f"/api/report/{report}", json=changes, headers=demo.headers)
    assert response.status_code == 204
    stored = store.get(report)
    assert (stored["name"], stored["description"], stored["owner"]) == ("Renamed", "Now described", "demo")
    assert stored["lastModified"] >= stored["created"]

    response = demo.http.put(f"/api/report/{report}", json={"data": {"definitions": "none"}},
                             headers=demo.headers)
    assert response.status_code == 400
    response = kermit.http.put(f"/api/report/{report}", json={"name": "x"}, headers=kermit.headers)
    assert response.status_code == 403
    assert kermit.http.delete(f"/api/report/{report}", headers=kermit.headers).status_code == 403
    response = demo.http.put("/api/dashboard/unknown", json={"name": "x"}, headers=demo.headers)
    assert response.status_code == 404

    assert demo.http.delete(f"/api/report/{report}", headers=demo.headers).status_code == 204
    assert store.get(report) is None
    response = demo.http.delete(f"/api/report/{report}", headers=demo.headers)
    assert (response.status_code, response.json["errorCode"]) == (404, "notFoundError")
    assert [e["type"] for e in events(2)] == ["entity.created", "entity.deleted"]


def test_authoring_needs_a_token(installation):
    response = installation.imports.post("/api/report/process/single", json=report_body())
    assert (response.status_code, response.json["errorCode"]) == (401, "unauthorizedError")
