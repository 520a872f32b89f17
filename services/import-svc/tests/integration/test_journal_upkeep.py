"""What the import journal does beside the request: its pending markers cleared after the answer, many
imports per command, and one thread renewing the leases of every import in flight."""

import threading
import time

import pytest
from pymongo import MongoClient

from contracts.events import COLLECTION_DELETED, new_event
from contracts.import_journal import JOURNAL_COLLECTION, LEASE_UNTIL_MS, pending_record
from import_svc.adapters.entity_store import EntityStore
from import_svc.adapters.import_journal import ImportJournal, this_process
from import_svc.app import create_app
from import_svc.config import ImportConfig
from optimize_runtime.store.write_gate import write_gate_for
from optimize_testing.factories import ok, process_report
from optimize_testing.store_commands import StoreCommands

WAIT_S = 30  # only to end a test that fails; the checks count and look, they never time


@pytest.fixture
def seeded(installation):
    installation.seed_invoice()
    return installation


@pytest.fixture
def unhurried(seeded):
    """An import-svc app whose markers are cleared only when a test flushes them, and its commands."""
    commands = StoreCommands()
    client = MongoClient(seeded.environ["OPTIMIZE_MONGODB_URI"], event_listeners=[commands], tz_aware=True)
    app = create_app(ImportConfig.from_env({**seeded.environ, "OPTIMIZE_IMPORT_MARKER_CLEAR_DELAY_S": "3600",
                                            "OPTIMIZE_IMPORT_SWEEP_INTERVAL_S": "0"}), mongo=client)
    yield app, commands
    for attribute in ("catalog", "events"):
        getattr(app.extensions["import"], attribute).close()
    client.close()


def marked(installation) -> int:
    db = MongoClient(installation.environ["OPTIMIZE_MONGODB_URI"])[installation.names.entities_db]
    try:
        return sum(db[name].count_documents({"pending": {"$exists": True}})
                   for name in ("reports", "dashboards"))
    finally:
        db.client.close()


def listed(installation) -> list[str]:
    return sorted(entity["id"] for entity in ok(installation.export.get("/api/entities",
                                                                         headers=installation.headers())))


def test_markers_are_cleared_after_the_answer_for_many_imports_at_once_and_readers_never_depend_on_it(
        seeded, unhurried):
    app, commands = unhurried
    client, headers = app.test_client(), seeded.headers()
    first = ok(client.post("/api/import", json=[process_report("a")], headers=headers))
    second = ok(client.post("/api/import", json=[process_report("b"), process_report("c")], headers=headers))
    imported = sorted(item["id"] for item in first + second)

    assert marked(seeded) == 3  # still marked: nothing cleared them on the request path
    assert listed(seeded) == imported  # committed, so shown: readers ask the commit record

    commands.clear()
    app.extensions["import"].import_journal.markers.flush()
    assert commands.names == ["update"]  # the markers of both imports, one command for the collection
    assert marked(seeded) == 0
    assert listed(seeded) == imported


def test_the_clearing_thread_clears_them_by_itself(seeded):
    app = create_app(ImportConfig.from_env({**seeded.environ, "OPTIMIZE_IMPORT_MARKER_CLEAR_DELAY_S": "0.05",
                                            "OPTIMIZE_IMPORT_SWEEP_INTERVAL_S": "0"}))
    try:
        ok(app.test_client().post("/api/import", json=[process_report("a")], headers=seeded.headers()))
        deadline = time.monotonic() + WAIT_S
        while marked(seeded) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert marked(seeded) == 0
    finally:
        for attribute in ("catalog", "events", "mongo"):
            getattr(app.extensions["import"], attribute).close()


def test_markers_a_killed_process_left_on_committed_imports_are_cleared_by_the_sweeper(seeded, unhurried):
    app, _ = unhurried
    other_process = seeded.app("import").extensions["import"].import_journal  # made (and swept once) first
    imported = ok(app.test_client().post("/api/import", json=[process_report("a"), process_report("b")],
                                         headers=seeded.headers()))
    assert marked(seeded) == 2  # the process "dies" here: its clearer never runs

    swept = other_process.sweep()
    assert swept.deleted_entities == 0 and len(swept.cleared_imports) == 1
    assert marked(seeded) == 0
    assert listed(seeded) == sorted(item["id"] for item in imported)


def test_a_collection_deleted_before_the_markers_of_its_import_are_cleared_announces_every_entity(
        seeded, unhurried):
    app, _ = unhurried
    catalog, headers = seeded.catalog, seeded.headers()
    collection_id = ok(catalog.post("/api/collection", json={"name": "Finance"}, headers=headers))["id"]
    ok(catalog.post(f"/api/collection/{collection_id}/scope", headers=headers, json=[
        {"definitionType": "process", "definitionKey": "invoice", "tenants": [None]}]), 204)
    imported = ok(app.test_client().post(f"/api/import?collectionId={collection_id}",
                                         json=[process_report("a"), process_report("b")], headers=headers))
    assert marked(seeded) == 2

    deletion = new_event(COLLECTION_DELETED, "demo", [], collection_id=collection_id)
    deleted = app.extensions["import"].collection_events.collection_deleted(deletion)
    assert sorted(deleted) == sorted(item["id"] for item in imported)  # visible, so announced as deleted


@pytest.fixture
def journal(servers, names):
    client = MongoClient(servers.mongodb_uri)
    db, gate = client[names.entities_db], write_gate_for(servers.mongodb_embedded, servers.data_dir)
    journal = ImportJournal(db, EntityStore(db, gate), gate, lease_s=0.3)
    journal.ensure_indexes()
    yield journal, db[JOURNAL_COLLECTION]
    client.drop_database(names.entities_db)
    client.close()


def lease_threads() -> set[threading.Thread]:
    return {thread for thread in threading.enumerate() if thread.name == "import-leases"}


def test_one_thread_renews_the_lease_of_every_import_in_flight_and_tells_one_that_lost_its_record(journal):
    journal, records = journal
    for import_id in ("i1", "i2"):
        records.insert_one(pending_record(record=import_id, import_id=import_id, owner=this_process(),
                                          now_ms=int(time.time() * 1000), lease_ms=300, entity_count={},
                                          user_id="demo", key=None, digest=None))
    taken = {import_id: records.find_one({"_id": import_id})[LEASE_UNTIL_MS] for import_id in ("i1", "i2")}
    before = lease_threads()  # other apps' in this test process, ending on their own
    leases = journal._leases
    for import_id in ("i1", "i2"):
        leases.start(import_id, import_id)
    first, second = leases.lease_of("i1"), leases.lease_of("i2")
    try:
        [renewer] = lease_threads() - before
        deadline = time.monotonic() + WAIT_S
        while (any(records.find_one({"_id": i})[LEASE_UNTIL_MS] <= taken[i] + 300 for i in taken)
               and time.monotonic() < deadline):
            time.sleep(0.05)  # until each lease was renewed past its first end
        assert all(records.find_one({"_id": i})[LEASE_UNTIL_MS] > taken[i] + 300 for i in taken)
        records.delete_one({"_id": "i2"})  # as a sweeper that took its owner for dead would
        while not second.lost and time.monotonic() < deadline:
            time.sleep(0.05)
        assert (first.lost, second.lost) == (False, True)
    finally:
        leases.stop("i1")
        leases.stop("i2")
    renewer.join(WAIT_S)
    assert not renewer.is_alive()  # no import in flight any more: the thread ended
