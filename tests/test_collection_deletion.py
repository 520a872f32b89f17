"""Deleting a collection deletes its reports and dashboards, as Optimize does
(optimize/backend/.../service/collection/CollectionService.java, deleteCollection →
CollectionRelationService.handleDeleted): the catalog records `collection.deleted` in its outbox with the
deletion, its relay publishes it, and import-svc's consumer deletes the entities and announces
`entity.deleted`. Afterwards no list, read or export (user or public API) shows them."""

import json
import time

import pika
import pytest

from contracts.events import COLLECTION_DELETED, ENTITY_DELETED
from optimize_testing.factories import ok, process_report

# The bound this test holds the system to: from the catalog's 204 to the entities gone everywhere.
GONE_WITHIN_S = 10


def dashboard(dashboard_id: str, report_ids: list[str]) -> dict:
    return {"id": dashboard_id, "exportEntityType": "dashboard", "name": "Overview", "description": None,
            "sourceIndexVersion": 8, "collectionId": None, "availableFilters": [],
            "refreshRateSeconds": None, "managementDashboard": False, "instantPreviewDashboard": False,
            "tiles": [{"id": report_id, "type": "optimize_report", "position": {"x": 4 * n, "y": 0},
                       "dimensions": {"width": 4, "height": 2}, "configuration": None}
                      for n, report_id in enumerate(report_ids)]}


def finance_collection(installation) -> str:
    catalog, headers = installation.catalog, installation.headers()
    installation.seed_invoice()
    collection_id = ok(catalog.post("/api/collection", json={"name": "Finance"}, headers=headers))["id"]
    ok(catalog.post(f"/api/collection/{collection_id}/scope", headers=headers, json=[
        {"definitionType": "process", "definitionKey": "invoice", "tenants": [None]}]), 204)
    return collection_id


@pytest.fixture
def events_seen(installation, amqp_url):
    """A queue bound to every event of the installation, as another service would bind one."""
    connection = pika.BlockingConnection(pika.URLParameters(amqp_url))
    channel = connection.channel()
    exchange = installation.names.events_exchange
    channel.exchange_declare(exchange, exchange_type="topic", durable=True)
    queue = channel.queue_declare("", exclusive=True).method.queue
    channel.queue_bind(queue, exchange, routing_key="#")

    received: list[dict] = []

    def drain(event_type: str, timeout_s: float = 10.0) -> list[dict]:
        """Every event of this type received so far, waiting up to `timeout_s` for the first."""
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            method, _, body = channel.basic_get(queue, auto_ack=True)
            if method is not None:
                received.append(json.loads(body))
            elif any(event["type"] == event_type for event in received):
                break
            else:
                connection.sleep(0.05)
        return [event for event in received if event["type"] == event_type]

    yield drain
    connection.close()
    installation.stop_event_flow()
    installation.delete_event_queues()


def test_deleting_a_collection_deletes_its_entities_from_every_list_read_and_export(installation,
                                                                                   events_seen):
    installation.start_event_flow()
    collection_id = finance_collection(installation)
    headers = installation.headers()
    file = [process_report("r1"), process_report("r2"), dashboard("d1", ["r1", "r2"])]
    imported = ok(installation.imports.post(f"/api/import?collectionId={collection_id}", json=file,
                                            headers=headers))
    ids = {item["sourceId"]: item["id"] for item in imported}
    private = ok(installation.imports.post("/api/import", json=[process_report("p1")], headers=headers))
    private_id = private[0]["id"]
    export, public = installation.export, installation.public_headers()
    ok(export.get(f"/api/report/{ids['r1']}", headers=headers))
    ok(export.post("/api/public/export/dashboard/definition/json", json=[ids["d1"]], headers=public))

    ok(installation.catalog.delete(f"/api/collection/{collection_id}", headers=headers), 204)
    deleted_at = time.monotonic()
    # Gone from the store, not only hidden (export-svc already hides a deleted collection's entities).
    store = installation.app("import").extensions["import"].db
    while (store.reports.count_documents({"collectionId": collection_id})
           + store.dashboards.count_documents({"collectionId": collection_id}) > 0
           and time.monotonic() - deleted_at < GONE_WITHIN_S):
        time.sleep(0.05)
    gone_after_s = time.monotonic() - deleted_at
    assert gone_after_s < GONE_WITHIN_S, f"still stored {GONE_WITHIN_S} s after the deletion"

    for source_id in ("r1", "r2"):
        assert export.get(f"/api/report/{ids[source_id]}", headers=headers).status_code == 404
        download = f"/api/export/report/json/{ids[source_id]}/r.json"
        assert export.get(download, headers=headers).status_code == 404
    assert export.get(f"/api/dashboard/{ids['d1']}", headers=headers).status_code == 404
    assert export.get(f"/api/export/dashboard/json/{ids['d1']}/d.json", headers=headers).status_code == 404
    for kind, entity_id in (("report", ids["r1"]), ("dashboard", ids["d1"])):
        response = export.post(f"/api/public/export/{kind}/definition/json", json=[entity_id], headers=public)
        assert response.status_code == 404, response.get_data(as_text=True)
    assert export.get(f"/api/collection/{collection_id}/entities", headers=headers).status_code == 404
    listed = {entity["id"] for entity in ok(export.get("/api/entities", headers=headers))}
    assert listed == {private_id}, "the private report stays; nothing of the collection is listed"

    [announced] = events_seen(COLLECTION_DELETED)
    assert (announced["collectionId"], announced["actor"]) == (collection_id, "demo")
    [entities_deleted] = events_seen(ENTITY_DELETED)
    assert sorted(entities_deleted["entityIds"]) == sorted(ids.values())
    assert entities_deleted["details"]["causeEventId"] == announced["eventId"]
    print(f"entities gone {gone_after_s:.2f} s after the collection was deleted")


def test_collection_deleted_handled_twice_deletes_nothing_more_and_announces_nothing_more(installation):
    collection_id = finance_collection(installation)
    headers = installation.headers()
    ok(installation.imports.post(f"/api/import?collectionId={collection_id}", json=[process_report("r1")],
                                 headers=headers))
    ok(installation.catalog.delete(f"/api/collection/{collection_id}", headers=headers), 204)
    catalog_wiring = installation.app("catalog").extensions["catalog"]
    [recorded] = list(catalog_wiring.db.outbox.find({"event.type": COLLECTION_DELETED}))
    wiring = installation.app("import").extensions["import"]

    assert len(wiring.collection_events.collection_deleted(recorded["event"])) == 1
    assert wiring.collection_events.collection_deleted(recorded["event"]) == [], "a redelivery"
    assert wiring.db.outbox.count_documents({"event.type": ENTITY_DELETED}) == 1
    assert wiring.collection_events.deleted_collections([collection_id, "other"]) == {collection_id}
