"""The entity store against a real MongoDB-protocol server: imported entities invisible until their record
commits, a constant number of commands, and documents that read back exactly as written."""

import json
from datetime import UTC, datetime

import pytest
from pymongo import MongoClient

from contracts.entities import export_entity_from_stored, stored_entity_from_export
from contracts.export_file import read_export_file
from import_svc.adapters import entity_store
from import_svc.adapters.entity_store import EntityStore
from optimize_runtime.store.write_gate import write_gate_for
from optimize_testing.pytest_plugin import REAL_OPTIMIZE_EXPORT
from optimize_testing.store_commands import StoreCommands

OPTIMIZE_FILE = REAL_OPTIMIZE_EXPORT
NOW = datetime(2024, 5, 17, 9, 30, 12, 345678, tzinfo=UTC)


@pytest.fixture
def counter() -> StoreCommands:
    return StoreCommands()


@pytest.fixture
def store(servers, names, counter):
    client = MongoClient(servers.mongodb_uri, tz_aware=True, event_listeners=[counter])
    store = EntityStore(client[names.entities_db], write_gate_for(servers.mongodb_embedded, servers.data_dir))
    store.ensure_indexes()
    yield store
    client.drop_database(names.entities_db)
    client.close()


def process_report(report_id: str, **overrides) -> dict:
    return {
        "id": report_id, "exportEntityType": "single_process_report", "name": f"Report {report_id}",
        "description": None, "sourceIndexVersion": 11, "collectionId": None,
        "data": {"definitions": [{"key": "invoice", "versions": ["all"], "tenantIds": [None]}],
                 "view": {"entity": "processInstance", "properties": ["frequency"]}},
        **overrides,
    }


def dashboard(dashboard_id: str, report_ids: list[str]) -> dict:
    return {
        "id": dashboard_id, "exportEntityType": "dashboard", "name": "Dashboard", "description": None,
        "sourceIndexVersion": 8, "collectionId": None,
        "tiles": [{"id": rid, "type": "optimize_report", "position": {"x": 0, "y": i},
                   "dimensions": {"width": 4, "height": 2}, "configuration": None}
                  for i, rid in enumerate(report_ids)],
        "availableFilters": [],
    }


def documents(*entities: dict, import_id: str | None = None) -> list[dict]:
    return [stored_entity_from_export(entity, entity_id=entity["id"], owner="demo",
                                      collection_id=entity["collectionId"],
                                      now=NOW, import_id=import_id) for entity in entities]


def commit(store: EntityStore, import_id: str) -> None:
    """What the import journal's commit does, as far as readers are concerned."""
    store._db["import_journal"].insert_one({"_id": import_id, "importId": import_id, "state": "committed"})


def test_documents_of_both_kinds_read_back_unchanged(store):
    written = documents(process_report("r1"), process_report("r2"), dashboard("d1", ["r1", "r2"]),
                        import_id="import-1")
    store.insert_pending(written, "import-1")
    commit(store, "import-1")

    found = store.get_many(["r1", "d1", "r2", "unknown"])
    assert set(found) == {"r1", "r2", "d1"}
    assert {**found["r1"], "pending": None} == {**written[0], "pending": None}
    store.clear_pending(["import-1"])
    assert store.get_many(["r1", "d1"]) == {"r1": written[0], "d1": written[2]}
    assert store.get("d1")["tiles"][1]["id"] == "r2"
    assert store.get("unknown") is None


def test_entities_of_an_import_are_invisible_to_every_read_and_write_until_its_record_commits(store):
    store.insert(documents(process_report("authored"))[0])
    store.insert_pending(documents(process_report("r1"), dashboard("d1", ["r1"]), import_id="import-1"),
                         "import-1")
    store._db["import_journal"].insert_one({"_id": "k", "importId": "import-1", "state": "pending"})

    assert set(store.get_many(["authored", "r1", "d1"])) == {"authored"}
    assert (store.get("r1"), store.get("d1", "dashboard")) == (None, None)
    assert store.update("report", "r1", {"name": "changed"}) is None
    assert store.delete("report", "r1") is False
    assert store.pending_import_ids() == {"import-1"}

    store._db["import_journal"].update_one({"_id": "k"}, {"$set": {"state": "committed"}})
    assert set(store.get_many(["authored", "r1", "d1"])) == {"authored", "r1", "d1"}
    assert store.get("r1")["name"] == "Report r1"
    store.clear_pending(["import-1"])
    assert store.pending_import_ids() == set()
    assert set(store.get_many(["r1", "d1"])) == {"r1", "d1"}


@pytest.mark.parametrize("reports", [2, 40])
def test_the_number_of_insert_commands_does_not_grow_with_the_number_of_entities(store, counter, reports):
    report_ids = [f"r{i}" for i in range(reports)]
    counter.clear()

    store.insert_pending(documents(*(process_report(rid) for rid in report_ids), dashboard("d1", report_ids),
                                   import_id="i"), "i")

    assert writes(counter) == ["insert", "insert"]  # one per collection
    commit(store, "i")
    assert len(store.get_many(report_ids)) == reports


def test_a_large_import_is_sent_in_parts_of_bounded_size_and_reads_back_whole(store, counter, monkeypatch):
    monkeypatch.setattr(entity_store, "INSERT_PART_BYTES", 4096)  # 8 MB in production: same rule, less data
    reports = [process_report(f"r{i}", data={"configuration": {"xml": "x" * 1500}, "definitions": []})
               for i in range(10)]
    written = documents(*reports, import_id="i")
    counter.clear()

    store.insert_pending(written, "i")

    assert writes(counter) == ["insert"] * 5  # two 1.6 KB documents per 4 KB part
    commit(store, "i")
    store.clear_pending(["i"])
    assert store.get_many([f"r{i}" for i in range(10)]) == {document["id"]: document for document in written}


def test_get_many_asks_each_collection_once(store, counter):
    for document in documents(*(process_report(f"r{i}") for i in range(10)), dashboard("d1", ["r1"])):
        store.insert(document)
    counter.clear()

    assert len(store.get_many([f"r{i}" for i in range(10)] + ["d1"])) == 11
    assert counter.names.count("find") == 2
    counter.clear()
    assert len(store.get_many([f"r{i}" for i in range(10)], entity_type="report")) == 10
    assert counter.names.count("find") == 1


def test_update_and_delete(store):
    store.insert(documents(process_report("r1"))[0])

    later = datetime(2024, 5, 18, 8, 0, tzinfo=UTC)
    updated = store.update("report", "r1", {"name": "Renamed", "lastModifier": "kermit",
                                            "lastModified": later})
    assert (updated["name"], updated["lastModifier"], updated["owner"]) == ("Renamed", "kermit", "demo")
    assert store.get("r1")["lastModified"] == later  # still a date, not a string
    assert store.update("report", "unknown", {"name": "x"}) is None

    assert store.delete("report", "r1") is True
    assert store.delete("report", "r1") is False
    assert store.get("r1") is None


def test_a_real_optimize_export_survives_the_store_unchanged(store):
    reading = read_export_file(json.loads(OPTIMIZE_FILE.read_text()))
    assert reading.ok
    for document in documents(*reading.entities):
        store.insert(document)

    stored = store.get_many(entity["id"] for entity in reading.entities)
    for entity in reading.entities:
        again = export_entity_from_stored(stored[entity["id"]])
        assert again == entity
        assert json.dumps(again.get("data")) == json.dumps(entity.get("data"))  # key order kept too


def writes(counter: StoreCommands) -> list[str]:
    return [name for name in counter.names if name in ("insert", "update", "delete", "findAndModify")]
