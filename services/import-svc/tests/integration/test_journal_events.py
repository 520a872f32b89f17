"""import-svc's relay copies the events of committed imports from their commit records into its outbox: in a
constant number of commands however many imports committed since its last round, reading only the
records still to copy (by index), and taking over the records an earlier version left to copy."""

import pytest
from pymongo import MongoClient

from contracts.events import ENTITY_IMPORTED, new_event
from contracts.import_journal import (
    EVENTS_RELAYED,
    JOURNAL_COLLECTION,
    RELAY_DUE_MS,
    commit_update,
    pending_record,
)
from import_svc.bootstrap import wire
from import_svc.config import ImportConfig
from optimize_testing.store_commands import StoreCommands, reads_whole_collection


@pytest.fixture
def counted(environ):
    commands = StoreCommands()
    client = MongoClient(environ["OPTIMIZE_MONGODB_URI"], event_listeners=[commands])
    wiring = wire(ImportConfig.from_env(environ), mongo=client)
    wiring.outbox.ensure_indexes()
    wiring.journal_events.ensure_indexes()
    yield wiring, commands
    client.drop_database(wiring.db.name)
    client.close()


def commit(journal, import_id: str, committed_ms: int, with_events: bool = True) -> list[dict]:
    """A committed import's record, as the importer writes it: pending, then the one commit update."""
    events = [new_event(ENTITY_IMPORTED, "demo", [f"report-{import_id}"],
                        details={"importId": import_id, "sourceIds": ["s"]})] if with_events else []
    journal.insert_one(pending_record(record=import_id, import_id=import_id, owner={}, now_ms=committed_ms,
                                      lease_ms=1000, entity_count={"reports": 1}, user_id="demo", key=None,
                                      digest=None))
    journal.update_one({"_id": import_id}, commit_update([], events, committed_ms))
    return events


def test_copying_costs_the_same_commands_for_1_and_100_committed_imports_and_reads_no_whole_collection(
        counted):
    wiring, commands = counted
    journal = wiring.db[JOURNAL_COLLECTION]
    for n in range(300):  # copied long ago: what a whole-journal read would go through
        commit(journal, f"old-{n}", 1_000 + n)
    wiring.journal_events.feed()
    for n in range(50):
        commit(journal, f"none-{n}", 2_000 + n, with_events=False)
    sent, copied = {}, []
    for count in (1, 100):
        for n in range(count):
            copied += commit(journal, f"new-{count}-{n}", 3_000 + n)
        commands.clear()
        assert wiring.journal_events.feed() == count
        sent[count] = list(commands.sent)
    assert [c["name"] for c in sent[1]] == [c["name"] for c in sent[100]] == ["find", "insert", "update"]
    assert not reads_whole_collection(wiring.db, sent[100][0]["command"])

    stored = {d["_id"]: d for d in wiring.db.outbox.find({"_id": {"$in": [e["eventId"] for e in copied]}})}
    assert [stored[e["eventId"]]["event"] for e in copied] == copied
    assert stored[copied[-1]["eventId"]]["recordedNs"] == 3_099 * 1_000_000, "as of its commit"
    assert journal.count_documents({EVENTS_RELAYED: False}) == 0
    assert journal.count_documents({RELAY_DUE_MS: {"$exists": True}}) == 0
    commands.clear()
    assert wiring.journal_events.feed() == 0
    assert commands.names == ["find"]


def test_records_an_earlier_version_left_to_copy_are_copied(counted):
    wiring, _ = counted
    journal = wiring.db[JOURNAL_COLLECTION]
    [event] = commit(journal, "earlier", 5_000)
    journal.update_one({"_id": "earlier"}, {"$unset": {RELAY_DUE_MS: ""}})  # committed before relayDueMs

    wiring.journal_events.ensure_indexes()

    assert wiring.journal_events.feed() == 1
    assert wiring.db.outbox.find_one({"_id": event["eventId"]})["event"] == event
