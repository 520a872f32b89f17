"""POST /api/import against the real catalog worker, RabbitMQ and the MongoDB-protocol server."""

import json
import time

import pika
from prometheus_client import REGISTRY
from pymongo import MongoClient

from import_svc.app import create_app
from import_svc.config import ImportConfig
from optimize_testing.pytest_plugin import REAL_OPTIMIZE_EXPORT
from optimize_testing.store_commands import StoreCommands

FIXTURE = REAL_OPTIMIZE_EXPORT
NASA = "NasaImageProcessing"


def seed_definitions(installation, *definitions):
    """Registers `(key, versions, tenants)` process definitions and authorizes demo for every process key."""
    headers = installation.headers()
    items = [{"type": "process", "key": key, "name": key, "version": version, "tenantId": tenant,
              "xml": f"<definitions id='{key}-{version}'/>"}
             for key, versions, tenants in definitions for version in versions for tenant in tenants]
    response = installation.catalog.post("/api/definition", json=items, headers=headers)
    assert response.status_code in (200, 204), response.get_data(as_text=True)
    grant = [{"identity": {"id": "demo", "type": "user"}, "definitionType": "process", "definitionKey": "*",
              "tenants": [None, "t1", "t2"]}]
    response = installation.catalog.post("/api/authorization", json=grant, headers=headers)
    assert response.status_code in (200, 204), response.get_data(as_text=True)


def new_collection(installation, name="Target", scope=(), user="demo"):
    headers = installation.headers(user)
    created = installation.catalog.post("/api/collection", json={"name": name}, headers=headers)
    assert created.status_code == 200, created.json
    collection_id = created.json["id"]
    if scope:
        entries = [{"definitionType": "process", "definitionKey": key, "tenants": list(tenants)}
                   for key, tenants in scope]
        response = installation.catalog.post(f"/api/collection/{collection_id}/scope", json=entries,
                                             headers=headers)
        assert response.status_code in (200, 204), response.get_data(as_text=True)
    return collection_id


def stored(installation) -> MongoClient:
    return MongoClient(installation.environ["OPTIMIZE_MONGODB_URI"])[installation.names.entities_db]


def entity_count(installation) -> int:
    db = stored(installation)
    return db.reports.count_documents({}) + db.dashboards.count_documents({})


def process_report(report_id="r1", key="invoice", versions=("1",), tenants=(None,), **overrides):
    entity = {
        "id": report_id, "exportEntityType": "single_process_report", "name": f"Report {report_id}",
        "description": None, "sourceIndexVersion": 11, "collectionId": None,
        "data": {"definitions": [{"identifier": "d", "key": key, "versions": list(versions),
                                  "tenantIds": list(tenants)}],
                 "configuration": {"xml": "<old/>"}, "filter": [], "view": None, "groupBy": None,
                 "visualization": "number", "managementReport": False, "instantPreviewReport": False},
    }
    entity.update(overrides)
    return entity


def post_import(installation, entities=None, *, raw=None, query="", headers=None, client=None):
    client = client or installation.imports
    return client.post(f"/api/import{query}", data=raw if raw is not None else json.dumps(entities),
                       content_type="application/json", headers=headers or installation.headers())


def test_real_optimize_file_imports_into_a_collection_whose_scope_holds_its_definition(installation):
    seed_definitions(installation, (NASA, ["1", "2"], [None]))
    collection_id = new_collection(installation, "Mars", scope=[(NASA, [None])])

    response = post_import(installation, raw=FIXTURE.read_bytes(), query=f"?collectionId={collection_id}")

    assert response.status_code == 200, response.json
    outcome = response.json
    source = json.loads(FIXTURE.read_bytes())
    assert [item["sourceId"] for item in outcome] == [entity["id"] for entity in source]
    assert [item["entityType"] for item in outcome] == ["report"] * 6 + ["dashboard"]
    new_id_of = {item["sourceId"]: item["id"] for item in outcome}
    db = stored(installation)
    board = db.dashboards.find_one({"_id": outcome[-1]["id"]})
    assert [tile["id"] for tile in board["tiles"]] == [
        new_id_of[tile["id"]] for tile in source[-1]["reports"]]
    reports = list(db.reports.find({"_id": {"$in": [item["id"] for item in outcome[:6]]}}))
    assert len(reports) == 6
    assert {(doc["collectionId"], doc["owner"]) for doc in [board, *reports]} == {(collection_id, "demo")}
    # The target's XML replaces the file's, as Optimize does.
    assert {doc["data"]["configuration"]["xml"] for doc in reports} == {f"<definitions id='{NASA}-2'/>"}


def test_real_optimize_file_is_refused_by_a_target_without_its_definition(installation):
    seed_definitions(installation, ("invoice", ["1"], [None]))
    collection_id = new_collection(installation, "Mars", scope=[(NASA, [None])])

    response = post_import(installation, raw=FIXTURE.read_bytes(), query=f"?collectionId={collection_id}")

    assert response.status_code == 400
    assert response.json["errorCode"] == "importDefinitionDoesNotExist"
    assert response.json["definitions"] == [
        {"type": "process", "key": NASA, "versions": ["all"], "tenantIds": [None]}]
    assert NASA in response.json["errorMessage"]
    assert entity_count(installation) == 0


def test_private_import_with_versions_dropped_and_a_combined_report(installation):
    seed_definitions(installation, ("invoice", ["1", "2"], [None]))
    entities = [process_report("a", versions=["2", "3"]), process_report("b"),
                {"id": "c", "exportEntityType": "combined_report", "name": "Both", "description": "two",
                 "sourceIndexVersion": 5, "collectionId": "elsewhere",
                 "data": {"reports": [{"id": "a", "color": "red"}, {"id": "b", "color": "blue"}],
                          "configuration": {}, "visualization": "line"}}]

    response = post_import(installation, entities)

    assert response.status_code == 200, response.json
    a, b, c = response.json
    assert "3" in a["warnings"][0] and "warnings" not in b
    db = stored(installation)
    assert db.reports.find_one({"_id": a["id"]})["data"]["definitions"][0]["versions"] == ["2"]
    combined = db.reports.find_one({"_id": c["id"]})
    assert [child["id"] for child in combined["data"]["reports"]] == [a["id"], b["id"]]
    assert combined["collectionId"] is None and combined["owner"] == "demo"


def test_each_report_takes_the_targets_xml_of_its_own_latest_version(installation):
    seed_definitions(installation, ("invoice", ["1", "2"], [None]))

    response = post_import(installation, [process_report("a", versions=["1"]),
                                          process_report("b", versions=["1", "2"])])

    assert response.status_code == 200, response.json
    db = stored(installation)
    assert [db.reports.find_one({"_id": item["id"]})["data"]["configuration"]["xml"]
            for item in response.json] == ["<definitions id='invoice-1'/>", "<definitions id='invoice-2'/>"]


def test_who_may_import_where(installation):
    seed_definitions(installation, ("invoice", ["1"], [None]))
    collection_id = new_collection(installation, scope=[("invoice", [None])])
    roles = [{"identity": {"id": "bob", "type": "user"}, "role": "viewer"}]
    response = installation.catalog.post(f"/api/collection/{collection_id}/role", json=roles,
                                         headers=installation.headers())
    assert response.status_code in (200, 204), response.get_data(as_text=True)
    file = [process_report()]

    assert post_import(installation, file, headers={"Authorization": "Bearer nope"}).status_code == 401
    not_superuser = post_import(installation, file, headers=installation.headers("alice"))
    assert (not_superuser.status_code, not_superuser.json["errorCode"]) == (403, "forbiddenError")
    viewer = post_import(installation, file, query=f"?collectionId={collection_id}",
                         headers=installation.headers("bob", ["optimize-admins"]))
    assert (viewer.status_code, viewer.json["errorCode"]) == (403, "forbiddenError")
    unknown = post_import(installation, file, query="?collectionId=no-such-collection")
    assert (unknown.status_code, unknown.json["errorCode"]) == (404, "notFoundError")
    public = installation.imports.post("/api/public/import", data=json.dumps(file),
                                       content_type="application/json", headers=installation.public_headers())
    assert (public.status_code, public.json["errorCode"]) == (400, "badRequestError")
    assert installation.imports.post(f"/api/public/import?collectionId={collection_id}",
                                     data=json.dumps(file), content_type="application/json",
                                     headers=installation.headers()).status_code == 401
    assert entity_count(installation) == 0

    public = installation.imports.post(f"/api/public/import?collectionId={collection_id}",
                                       data=json.dumps(file), content_type="application/json",
                                       headers=installation.public_headers())
    assert public.status_code == 200, public.json
    assert stored(installation).reports.find_one({"_id": public.json[0]["id"]})["owner"] == "System User"


def test_one_catalog_call_and_as_many_mongodb_commands_for_1_as_for_1000_entities(installation,
                                                                                   monkeypatch):
    """Commit record included: the key's record is read, inserted pending, the entities inserted, the record
    committed with one update. The pending markers are cleared after the answer, for both imports at once:
    one update per collection."""
    seed_definitions(installation, ("invoice", ["1"], [None]))
    counter = StoreCommands()
    client = MongoClient(installation.environ["OPTIMIZE_MONGODB_URI"], event_listeners=[counter],
                         tz_aware=True)
    # The markers are cleared only when the test says (below), not by the clearing thread meanwhile.
    environ = {**installation.environ, "OPTIMIZE_IMPORT_MARKER_CLEAR_DELAY_S": "3600"}
    app = create_app(ImportConfig.from_env(environ), mongo=client)
    rpc, calls = app.extensions["import"].catalog, []
    call = rpc.call
    monkeypatch.setattr(rpc, "call",
                        lambda method, params, **kw: calls.append(method) or call(method, params, **kw))

    def commands_for(count: int, key: str) -> tuple[list[str], list[str]]:
        counter.clear()
        calls.clear()
        response = post_import(installation, [process_report(f"r{i}") for i in range(count)],
                               client=app.test_client(),
                               headers={**installation.headers(), "Idempotency-Key": key})
        assert response.status_code == 200 and len(response.json) == count
        return sorted(counter.names), list(calls)

    try:
        one, one_calls = commands_for(1, "one")
        many, many_calls = commands_for(1000, "many")
        counter.clear()
        app.extensions["import"].import_journal.markers.flush()
        clearing = list(counter.names)
    finally:
        app.extensions["import"].catalog.close()
        client.close()
    assert one_calls == many_calls == ["check_import"]
    assert one == many == ["find", "insert", "insert", "update"]
    assert clearing == ["update"]
    assert entity_count(installation) == 1001
    assert stored(installation).reports.count_documents({"pending": {"$exists": True}}) == 0


def test_an_import_and_a_refusal_are_announced_as_events(installation, names):
    seed_definitions(installation, ("invoice", ["1"], [None]))
    installation.start_event_flow(consumer=False)  # the relays publish what the writes recorded
    connection = pika.BlockingConnection(pika.URLParameters(installation.environ["OPTIMIZE_AMQP_URL"]))
    channel = connection.channel()
    channel.exchange_declare(names.events_exchange, exchange_type="topic", durable=True)
    queue = channel.queue_declare("", exclusive=True).method.queue
    for routing_key in ("entity.imported", "import.rejected"):
        channel.queue_bind(queue, names.events_exchange, routing_key)

    installation.environ["OPTIMIZE_IMPORT_MAX_BYTES"] = "6000"  # read when the app is made, below
    imported = post_import(installation, [process_report("a"), process_report("b")])
    refused = post_import(installation, [process_report("c", key="nowhere")])
    too_large = post_import(installation, [process_report(f"r{i}") for i in range(20)])
    assert too_large.status_code == 413

    events, deadline = [], time.monotonic() + 5
    while len(events) < 3 and time.monotonic() < deadline:
        _, _, body = channel.basic_get(queue, auto_ack=True)
        if body is None:
            connection.sleep(0.05)
        else:
            events.append(json.loads(body))
    connection.close()
    assert [(event["type"], event["actor"]) for event in events] == [
        ("entity.imported", "demo"), ("import.rejected", "demo"), ("import.rejected", "demo")]
    assert events[2]["details"] == {"errorCode": "payloadTooLarge"}
    assert events[0]["entityIds"] == [item["id"] for item in imported.json]
    assert events[1]["details"] == {"errorCode": refused.json["errorCode"]} == {
        "errorCode": "importDefinitionDoesNotExist"}
    assert events[0]["requestId"] == imported.headers["X-Request-Id"]


def test_a_retried_import_is_counted_as_replayed_not_as_a_new_import(installation):
    """The import metrics are the service's: a retry with the same Idempotency-Key returns the first result
    and counts as replayed; the import and its entities are counted once."""
    seed_definitions(installation, ("invoice", ["1"], [None]))

    def sample(name, **labels):
        return REGISTRY.get_sample_value(name, labels) or 0.0

    def counts():
        return (sample("optimize_imports_total", outcome="imported", error_code=""),
                sample("optimize_imports_total", outcome="replayed", error_code=""),
                sample("optimize_entities_written_total", entity_type="report", operation="imported"))

    before = counts()
    headers = {**installation.headers(), "Idempotency-Key": "retried-once"}
    first = post_import(installation, [process_report("a"), process_report("b")], headers=headers)
    again = post_import(installation, [process_report("a"), process_report("b")], headers=headers)
    assert first.status_code == again.status_code == 200 and again.json == first.json
    assert entity_count(installation) == 2
    imported, replayed, written = (after - earlier for after, earlier in zip(counts(), before, strict=True))
    assert (imported, replayed, written) == (1, 1, 2)


def test_a_dashboard_variable_filter_naming_a_variable_its_reports_lack_is_refused(installation, monkeypatch):
    """Follows optimize/backend/src/main/java/io/camunda/optimize/service/dashboard/DashboardService.java
    (validateVariableFiltersExistInReports), with the variables of the tiles' reports'
    definitions from the catalog, as ProcessVariableService.getVariableNamesForAuthorizedReports collects
    them: refused with importFileInvalid naming the dashboard and the filter; accepted once the catalog
    records the variable. One catalog call per import either way."""
    def register_nasa(variables):
        items = [{"type": "process", "key": NASA, "version": version, "tenantId": None,
                  "variables": variables} for version in ("1", "2")]
        response = installation.catalog.post("/api/definition", json=items, headers=installation.headers())
        assert response.status_code == 200, response.get_data(as_text=True)

    seed_definitions(installation, (NASA, ["1", "2"], [None]))
    register_nasa([{"name": "imageCount", "type": "Integer"}])
    source = json.loads(FIXTURE.read_bytes())
    source[-1]["availableFilters"] = [
        {"type": "variable", "data": {"name": "imageCount", "type": "Integer", "data": None}},
        {"type": "variable", "data": {"name": "missionName", "type": "String", "data": None}}]
    rpc, calls = installation.app("import").extensions["import"].catalog, []
    call = rpc.call
    monkeypatch.setattr(rpc, "call",
                        lambda method, params, **kw: calls.append(method) or call(method, params, **kw))

    refused = post_import(installation, source)

    assert refused.status_code == 400, refused.json
    assert refused.json["errorCode"] == "importFileInvalid"
    [error] = refused.json["validationErrors"]
    assert (error["entityId"], error["path"]) == (source[-1]["id"], "[6].availableFilters[1].data.name")
    assert "'missionName'" in error["message"]
    assert entity_count(installation) == 0

    register_nasa([{"name": "imageCount", "type": "Integer"}, {"name": "missionName", "type": "String"}])
    accepted = post_import(installation, source)

    assert accepted.status_code == 200, accepted.json
    board = stored(installation).dashboards.find_one({"_id": accepted.json[-1]["id"]})
    assert [f["data"]["name"] for f in board["availableFilters"]] == ["imageCount", "missionName"]
    assert calls == ["check_import", "check_import"]
