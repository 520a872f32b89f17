"""POST /api/import?mode=overwrite: importing the same entities again updates what the earlier import made
in the same target, instead of leaving one more copy (mode=newCopies, Optimize's way, stays the default).
Checked as a user sees it: the responses, the entity lists and single entities of export-svc, events."""

import json
import time

import pika
from pymongo import MongoClient

from import_svc.app import create_app
from import_svc.config import ImportConfig
from optimize_testing.pytest_plugin import REAL_OPTIMIZE_EXPORT
from optimize_testing.store_commands import StoreCommands

NASA = "NasaImageProcessing"
# "Saved Carbon per Camunda Carbon Reductor Execution", shown on the dashboard
REPORT_IN_FILE = "3522eda0-80c5-4a7d-a280-8667f7261f4f"
DASHBOARD_IN_FILE = "de13c9f3-4704-4feb-b307-73f7ee80c606"


def real_file(**renamed: str) -> list[dict]:
    """The real Optimize export, with the entities of the given source ids renamed."""
    entities = json.loads(REAL_OPTIMIZE_EXPORT.read_bytes())
    for entity in entities:
        entity["name"] = renamed.get(entity["id"], entity["name"])
    return entities


def target(installation, name="Mars") -> str:
    """A collection the real file imports into."""
    catalog, headers = installation.catalog, installation.headers()
    definitions = [{"type": "process", "key": NASA, "name": NASA, "version": "1", "tenantId": None,
                    "xml": "<definitions/>"}]
    assert catalog.post("/api/definition", json=definitions, headers=headers).status_code in (200, 204)
    grant = [{"identity": {"id": "demo", "type": "user"}, "definitionType": "process", "definitionKey": "*",
              "tenants": [None]}]
    assert catalog.post("/api/authorization", json=grant, headers=headers).status_code in (200, 204)
    collection_id = catalog.post("/api/collection", json={"name": name}, headers=headers).json["id"]
    scope = [{"definitionType": "process", "definitionKey": NASA, "tenants": [None]}]
    assert catalog.post(f"/api/collection/{collection_id}/scope", json=scope,
                        headers=headers).status_code in (200, 204)
    return collection_id


def read(installation, path: str):
    return installation.export.get(path, headers=installation.headers())


def import_file(installation, entities, collection_id=None, *, public=False, **query):
    arguments = {"collectionId": collection_id, **query}
    text = "&".join(f"{name}={value}" for name, value in arguments.items() if value is not None)
    path = "/api/public/import" if public else "/api/import"
    headers = installation.public_headers() if public else installation.headers()
    return installation.imports.post(f"{path}?{text}", data=json.dumps(entities),
                                     content_type="application/json", headers=headers)


def overwrite(installation, entities, collection_id=None, **query):
    return import_file(installation, entities, collection_id, mode="overwrite", **query)


def listed(installation, collection_id) -> dict[str, str]:
    """id -> name of what the collection's entity list shows."""
    response = read(installation, f"/api/collection/{collection_id}/entities")
    assert response.status_code == 200, response.json
    return {entity["id"]: entity["name"] for entity in response.json}


def actions(response) -> dict[str, int]:
    counts: dict[str, int] = {}
    for item in response.json:
        counts[item["action"]] = counts.get(item["action"], 0) + 1
    return counts


def by_source(response) -> dict[str, str]:
    return {item["sourceId"]: item["id"] for item in response.json}


def test_three_overwrites_of_the_real_file_keep_seven_entities_and_their_ids(installation):
    collection_id = target(installation)
    first = overwrite(installation, real_file(), collection_id)
    assert first.status_code == 200, first.json
    assert actions(first) == {"created": 7}
    ids = by_source(first)

    second = overwrite(installation, real_file(), collection_id)
    assert second.status_code == 200, second.json
    assert actions(second) == {"unchanged": 7} and by_source(second) == ids

    third = overwrite(installation, real_file(**{REPORT_IN_FILE: "Saved carbon per run"}), collection_id)
    assert third.status_code == 200, third.json
    assert actions(third) == {"updated": 1, "unchanged": 6} and by_source(third) == ids
    assert [item["sourceId"] for item in third.json if item["action"] == "updated"] == [REPORT_IN_FILE]

    shown = listed(installation, collection_id)
    assert sorted(shown) == sorted(ids.values())
    assert shown[ids[REPORT_IN_FILE]] == "Saved carbon per run"
    report = read(installation, f"/api/report/{ids[REPORT_IN_FILE]}").json
    assert report["lastModified"] > report["created"]
    dashboard = read(installation, f"/api/dashboard/{ids[DASHBOARD_IN_FILE]}")
    source_tiles = [tile["id"] for tile in real_file()[-1]["reports"]]
    assert [tile["id"] for tile in dashboard.json["tiles"]] == [ids[source] for source in source_tiles]


def test_a_report_edited_in_the_target_is_a_conflict_unless_overwrite_modified(installation):
    collection_id = target(installation)
    ids = by_source(overwrite(installation, real_file(), collection_id))
    edited = installation.imports.put(f"/api/report/{ids[REPORT_IN_FILE]}", json={"name": "Edited here"},
                                      headers=installation.headers())
    assert edited.status_code == 204

    refused = overwrite(installation, real_file(), collection_id)
    assert (refused.status_code, refused.json["errorCode"]) == (409, "importConflict")
    conflicted = refused.json["conflictedItems"]
    assert [(item["id"], item["sourceId"], item["type"], item["name"]) for item in conflicted] == [
        (ids[REPORT_IN_FILE], REPORT_IN_FILE, "report", "Edited here")]
    assert "Edited here" in refused.json["errorMessage"]
    assert listed(installation, collection_id)[ids[REPORT_IN_FILE]] == "Edited here"

    forced = overwrite(installation, real_file(), collection_id, overwriteModified="true")
    assert forced.status_code == 200, forced.json
    assert actions(forced) == {"updated": 1, "unchanged": 6} and by_source(forced) == ids
    shown = listed(installation, collection_id)
    assert shown[ids[REPORT_IN_FILE]] == real_file()[1]["name"] and len(shown) == 7


def test_new_copies_stays_the_default_and_makes_copies_without_saying_what_happened(installation):
    """Optimize's way (optimize/backend .../service/entities/EntityImportService.java and the report and
    dashboard import services it calls): every import stores every entity under a new id."""
    collection_id = target(installation)
    first = import_file(installation, real_file(), collection_id)
    again = import_file(installation, real_file(), collection_id, mode="newCopies")
    assert first.status_code == again.status_code == 200
    assert not set(by_source(first).values()) & set(by_source(again).values())
    assert all("action" not in item for item in first.json + again.json)
    assert len(listed(installation, collection_id)) == 14


def test_of_two_earlier_copies_the_most_recent_is_overwritten_and_a_warning_says_so(installation):
    collection_id = target(installation)
    older = by_source(import_file(installation, real_file(), collection_id))
    newer = by_source(import_file(installation, real_file(), collection_id))

    response = overwrite(installation, real_file(**{REPORT_IN_FILE: "Renamed"}), collection_id)
    assert response.status_code == 200, response.json
    assert by_source(response) == newer
    warned = {item["sourceId"]: item.get("warnings", []) for item in response.json}
    assert all(len(warnings) == 1 and older[source] in warnings[0] and newer[source] in warnings[0]
               for source, warnings in warned.items()), warned
    shown = listed(installation, collection_id)
    assert (shown[newer[REPORT_IN_FILE]], shown[older[REPORT_IN_FILE]]) == ("Renamed", real_file()[1]["name"])
    assert len(shown) == 14


def test_a_deleted_earlier_copy_is_created_again_and_the_dashboard_shows_the_new_one(installation):
    collection_id = target(installation)
    ids = by_source(overwrite(installation, real_file(), collection_id))
    deleted = installation.imports.delete(f"/api/report/{ids[REPORT_IN_FILE]}",
                                          headers=installation.headers())
    assert deleted.status_code == 204

    response = overwrite(installation, real_file(), collection_id)
    assert response.status_code == 200, response.json
    outcome = {item["sourceId"]: (item["action"], item["id"]) for item in response.json}
    action, recreated = outcome.pop(REPORT_IN_FILE)
    assert action == "created" and recreated != ids[REPORT_IN_FILE]
    # its tile points at the new report now
    assert outcome.pop(DASHBOARD_IN_FILE) == ("updated", ids[DASHBOARD_IN_FILE])
    assert set(outcome.values()) == {("unchanged", ids[source]) for source in outcome}
    dashboard = read(installation, f"/api/dashboard/{ids[DASHBOARD_IN_FILE]}")
    assert recreated in [tile["id"] for tile in dashboard.json["tiles"]]
    assert len(listed(installation, collection_id)) == 7


def test_the_dry_run_says_per_entity_what_would_happen_and_writes_nothing(installation):
    collection_id = target(installation)
    planned = overwrite(installation, real_file(), collection_id, dryRun="true")
    assert planned.status_code == 200
    assert [(item["id"], item["action"]) for item in planned.json] == [(None, "created")] * 7
    assert listed(installation, collection_id) == {}

    ids = by_source(overwrite(installation, real_file(), collection_id))
    planned = overwrite(installation, real_file(**{REPORT_IN_FILE: "Renamed"}), collection_id, dryRun="true")
    assert [(item["sourceId"], item["id"], item["action"]) for item in planned.json] == [
        (source, ids[source], "updated" if source == REPORT_IN_FILE else "unchanged") for source in ids]
    assert "Renamed" not in listed(installation, collection_id).values()


def test_overwrite_on_the_public_api_and_into_private_entities_stays_in_its_target(installation):
    collection_id = target(installation)
    public = import_file(installation, real_file(), collection_id, public=True, mode="overwrite")
    assert public.status_code == 200, public.json
    again = import_file(installation, real_file(**{REPORT_IN_FILE: "Renamed"}), collection_id, public=True,
                        mode="overwrite")
    assert actions(again) == {"updated": 1, "unchanged": 6} and by_source(again) == by_source(public)

    private = overwrite(installation, real_file())  # the same source ids, another target: new copies
    assert actions(private) == {"created": 7}
    assert not set(by_source(private).values()) & set(by_source(public).values())
    other_collection = target(installation, "Venus")
    elsewhere = overwrite(installation, real_file(), other_collection)
    assert actions(elsewhere) == {"created": 7}


def test_an_unknown_mode_is_a_bad_request_naming_it(installation):
    response = import_file(installation, real_file(), mode="upsert")
    assert response.status_code == 400
    assert "mode" in json.dumps(response.json)


def test_updated_entities_are_announced_as_entity_updated_and_recorded_with_the_commit(installation, names):
    collection_id = target(installation)
    installation.start_event_flow(consumer=False)  # the relay publishes what the commit records recorded
    connection = pika.BlockingConnection(pika.URLParameters(installation.environ["OPTIMIZE_AMQP_URL"]))
    channel = connection.channel()
    channel.exchange_declare(names.events_exchange, exchange_type="topic", durable=True)
    queue = channel.queue_declare("", exclusive=True).method.queue
    channel.queue_bind(queue, names.events_exchange, "entity.*")

    ids = by_source(overwrite(installation, real_file(), collection_id))
    overwrite(installation, real_file(), collection_id)  # unchanged: no write, no event
    updated = overwrite(installation, real_file(**{REPORT_IN_FILE: "Renamed"}), collection_id)

    events, deadline = [], time.monotonic() + 30
    while len(events) < 2 and time.monotonic() < deadline:
        _, _, body = channel.basic_get(queue, auto_ack=True)
        if body is None:
            connection.sleep(0.05)
        else:
            events.append(json.loads(body))
    connection.close()
    assert [(event["type"], len(event["entityIds"])) for event in events] == [
        ("entity.imported", 7), ("entity.updated", 1)]
    assert events[1]["entityIds"] == [ids[REPORT_IN_FILE]]
    assert events[1]["details"]["sourceIds"] == [REPORT_IN_FILE]
    assert events[1]["requestId"] == updated.headers["X-Request-Id"]
    journal = installation.app("import").extensions["import"].db.import_journal
    records = sorted(journal.find({"state": "committed"}), key=lambda record: record["committedMs"])
    # The unchanged import recorded none: nothing else is relayed, ever.
    assert [[event["eventId"] for event in record["events"]] for record in records] == [
        [events[0]["eventId"]], [], [events[1]["eventId"]]]


def test_an_overwrite_of_1_or_300_reports_makes_the_same_mongodb_commands(installation):
    """The key's record read, one find per store collection for the earlier copies, the record inserted,
    the replaced versions read again and the new versions written in one bulk write (one part: 300 reports
    are less than `INSERT_PART_BYTES`), the commit, the replaced versions dropped once the import is
    verified; after the answer, the markers cleared (one update, with those of the import before)."""
    collection_id = target(installation)
    counter = StoreCommands()
    client = MongoClient(installation.environ["OPTIMIZE_MONGODB_URI"], event_listeners=[counter],
                         tz_aware=True)
    # The markers are cleared only when the test says (below), not by the clearing thread meanwhile.
    environ = {**installation.environ, "OPTIMIZE_IMPORT_MARKER_CLEAR_DELAY_S": "3600"}
    app = create_app(ImportConfig.from_env(environ), mongo=client)
    nasa_report = real_file()[1]

    def commands_for(count: int) -> list[str]:
        reports = [{**nasa_report, "id": f"{count}-{i}"} for i in range(count)]
        path = f"/api/import?collectionId={collection_id}&mode=overwrite"
        created = app.test_client().post(path, json=reports, headers=installation.headers())
        assert [item["action"] for item in created.json] == ["created"] * count
        counter.clear()
        renamed = [{**report, "name": "Renamed"} for report in reports]
        updated = app.test_client().post(path, json=renamed, headers={**installation.headers(),
                                                                       "Idempotency-Key": f"k{count}"})
        assert [item["action"] for item in updated.json] == ["updated"] * count
        answered = sorted(counter.names)
        counter.clear()
        app.extensions["import"].import_journal.markers.flush()
        return answered, list(counter.names)

    try:
        one, many = commands_for(1), commands_for(300)
    finally:
        app.extensions["import"].catalog.close()
        client.close()
    assert one == many == (["find", "find", "find", "find", "insert", "update", "update", "update"],
                           ["update"])


def test_a_report_too_large_to_hold_with_its_previous_version_is_invalid_and_the_old_one_stays(installation):
    collection_id = target(installation)
    big = {**real_file()[1], "id": "big", "name": "Big"}
    configuration = {**big["data"]["configuration"], "note": "x" * (9 * 1024 * 1024)}
    big["data"] = {**big["data"], "configuration": configuration}
    first = overwrite(installation, [big], collection_id)
    assert first.status_code == 200, first.json

    response = overwrite(installation, [{**big, "name": "Bigger"}], collection_id)
    assert (response.status_code, response.json["errorCode"]) == (400, "importFileInvalid")
    assert response.json["validationErrors"][0]["entityId"] == "big"
    assert "mode=newCopies" in response.json["validationErrors"][0]["message"]
    assert listed(installation, collection_id) == {first.json[0]["id"]: "Big"}


def test_an_overwrite_undone_right_after_its_commit_puts_the_previous_versions_back(installation):
    """The collection's scope narrowed between the import's re-check and its commit: the verification
    after the commit undoes it, and an overwrite is undone by restoring what it replaced (not deleting)."""
    collection_id = target(installation)
    ids = by_source(overwrite(installation, real_file(), collection_id))
    wiring = installation.app("import").extensions["import"]
    recheck, changed = wiring.importer.recheck, []

    def recheck_then_narrow_the_scope(request, plan):
        recheck(request, plan)
        if not changed:  # once: between the re-check and the commit
            changed.append(True)
            [entry] = installation.catalog.get(f"/api/collection/{collection_id}/scope",
                                               headers=installation.headers()).json
            assert installation.catalog.delete(f"/api/collection/{collection_id}/scope/{entry['id']}",
                                               headers=installation.headers()).status_code == 204

    wiring.importer.recheck = recheck_then_narrow_the_scope
    response = overwrite(installation, real_file(**{REPORT_IN_FILE: "Renamed"}), collection_id)

    assert (response.status_code, response.json["errorCode"]) == (409, "nonDefinitionScopeCompliantConflict")
    shown = listed(installation, collection_id)
    assert sorted(shown) == sorted(ids.values()) and shown[ids[REPORT_IN_FILE]] == real_file()[1]["name"]
    assert wiring.db.reports.count_documents({"previous": {"$exists": True}}) == 0
    [undone] = [entry["event"] for entry in wiring.db.outbox.find({"event.type": "entity.updated",
                                                                   "event.details.cause": "import.revoked"})]
    assert undone["entityIds"] == [ids[REPORT_IN_FILE]]
