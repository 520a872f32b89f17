"""The events of imports, from their commit records to the outbox: an import records its events in the
same single-document write that commits it (the journal record, `contracts.import_journal`), and import-svc's
relay copies them from there into the outbox before each round, as of the commit's time.

A round asks for the records still to copy by `relayDueMs` (an index holding only those), copies the
events of all of them in one insert and marks them in one update: a constant number of commands however
many imports committed since the last round, and none that reads the whole journal."""

from pymongo import ASCENDING, UpdateOne
from pymongo.database import Database

from contracts.import_journal import (
    COMMITTED,
    EVENTS,
    EVENTS_RELAYED,
    JOURNAL_COLLECTION,
    RELAY_DUE_MS,
    STATE,
)
from optimize_runtime.messaging.outbox import Outbox
from optimize_runtime.store.write_gate import WriteGate

# Records copied per round; the rest wait for the next one.
_BATCH = 500
# Indexes of earlier versions, replaced by the one below (it asked for `eventsRelayed`).
_FORMER_INDEXES = ("events_to_relay",)


class JournalEvents:
    def __init__(self, db: Database, gate: WriteGate, outbox: Outbox) -> None:
        self._journal = db[JOURNAL_COLLECTION]
        self._gate = gate
        self._outbox = outbox

    def ensure_indexes(self) -> None:
        """The relay's index; records an earlier version committed with events to copy get `relayDueMs`."""
        with self._gate.hold():
            existing = self._journal.index_information()
            for name in _FORMER_INDEXES:
                if name in existing:
                    self._journal.drop_index(name)
            self._journal.create_index([(RELAY_DUE_MS, ASCENDING)], name="events_to_copy", sparse=True)
            earlier = [UpdateOne({"_id": record["_id"]}, {"$set": {RELAY_DUE_MS: record["committedMs"]}})
                       for record in self._journal.find(
                           {STATE: COMMITTED, EVENTS_RELAYED: False, RELAY_DUE_MS: {"$exists": False}},
                           {"committedMs": 1})]
            if earlier:
                self._journal.bulk_write(earlier, ordered=False)

    def feed(self) -> int:
        """Copies the events of committed imports not copied yet, oldest commit first; how many records."""
        records = list(self._journal.find({RELAY_DUE_MS: {"$gte": 0}}, {EVENTS: 1, RELAY_DUE_MS: 1})
                       .sort(RELAY_DUE_MS, ASCENDING).limit(_BATCH))
        if not records:
            return 0
        # Copied first, then marked: a relay dying between the two copies again, which changes nothing.
        self._outbox.copy((record[EVENTS], int(record[RELAY_DUE_MS]) * 1_000_000) for record in records)
        with self._gate.hold():
            self._journal.update_many({"_id": {"$in": [record["_id"] for record in records]}},
                                      {"$set": {EVENTS_RELAYED: True}, "$unset": {RELAY_DUE_MS: ""}})
        return len(records)
