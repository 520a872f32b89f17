"""The events of imports, from their commit records to the outbox: an import records its events in the
same single-document write that commits it (the journal record, `contracts.import_journal`), and import-svc's
relay copies them from there into the outbox before each round, as of the commit's time."""

from pymongo import ASCENDING
from pymongo.database import Database

from contracts.import_journal import COMMITTED, EVENTS, EVENTS_RELAYED, JOURNAL_COLLECTION, STATE
from optimize_runtime.messaging.outbox import Outbox
from optimize_runtime.store.write_gate import WriteGate

# Records copied per round; the rest wait for the next one.
_BATCH = 500


class JournalEvents:
    def __init__(self, db: Database, gate: WriteGate, outbox: Outbox) -> None:
        self._journal = db[JOURNAL_COLLECTION]
        self._gate = gate
        self._outbox = outbox

    def ensure_indexes(self) -> None:
        with self._gate.hold():
            self._journal.create_index([(EVENTS_RELAYED, ASCENDING), ("committedMs", ASCENDING)],
                                       name="events_to_relay", sparse=True)

    def feed(self) -> int:
        """Copies the events of committed imports not copied yet, oldest commit first; how many records."""
        records = list(self._journal.find({STATE: COMMITTED, EVENTS_RELAYED: False},
                                          {EVENTS: 1, "committedMs": 1})
                       .sort("committedMs", ASCENDING).limit(_BATCH))
        for record in records:
            # Copied first, then marked: a relay dying between the two copies again, which changes nothing.
            self._outbox.copy(record[EVENTS], recorded_ns=int(record["committedMs"]) * 1_000_000)
            with self._gate.hold():
                self._journal.update_one({"_id": record["_id"], EVENTS_RELAYED: False},
                                         {"$set": {EVENTS_RELAYED: True}})
        return len(records)
