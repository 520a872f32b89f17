"""What import-svc does when the catalog announces `collection.deleted`: the collection's reports and
dashboards are deleted with it, as Optimize does (`CollectionService.deleteCollection` →
`CollectionRelationService.handleDeleted`, which deletes the collection's reports and dashboards).

First the collection is marked deleted (its own write: an authoring write into it that comes later is
refused, see `EntityStore.insert`); then one transaction removes its entities (those of imports still
in progress too: their commit then shows nothing) and records `entity.deleted` for the visible ones in
the outbox. Running it twice for the same event changes nothing more: at-least-once delivery is safe."""

import logging
import uuid

from pymongo.client_session import ClientSession
from pymongo.database import Database

from contracts.entities import COLLECTIONS
from contracts.events import COLLECTION_DELETED, ENTITY_DELETED, new_event
from contracts.import_journal import COMMITTED, IMPORT_ID, JOURNAL_COLLECTION, PENDING_MARKER, STATE
from import_svc.adapters.entity_store import EntityStore
from optimize_runtime.messaging.outbox import Outbox
from optimize_runtime.store.write_gate import WriteGate

log = logging.getLogger(__name__)

# The eventId of the entity.deleted that a collection.deleted causes: the same on every redelivery.
_CAUSED_EVENT_NAMESPACE = uuid.UUID("7c0f3a57-4a8e-4f55-9d55-0a3c5e1f9b21")


class CollectionEvents:
    def __init__(self, db: Database, gate: WriteGate, outbox: Outbox, entities: EntityStore) -> None:
        self._db = db
        self._gate = gate
        self._outbox = outbox
        self._entities = entities

    def handle(self, event: dict) -> None:
        if event["type"] == COLLECTION_DELETED:
            self.collection_deleted(event)

    def collection_deleted(self, event: dict) -> list[str]:
        """The ids of the entities deleted now (none when a redelivery finds them gone already)."""
        collection_id = event["collectionId"]
        if not collection_id:
            raise ValueError(f"{COLLECTION_DELETED} {event['eventId']} names no collection")

        self._entities.mark_collection_deleted(collection_id, event["eventId"])

        def delete(session: ClientSession) -> list[str]:
            deleted: list[str] = []
            for name in COLLECTIONS.values():
                found = list(self._db[name].find({"collectionId": collection_id}, {PENDING_MARKER: 1},
                                                 session=session))
                if found:
                    self._db[name].delete_many({"collectionId": collection_id}, session=session)
                    marked = {document[PENDING_MARKER] for document in found if PENDING_MARKER in document}
                    committed = self._committed_imports(marked, session)
                    deleted += [document["_id"] for document in found
                                if PENDING_MARKER not in document or document[PENDING_MARKER] in committed]
            if deleted:
                caused = new_event(ENTITY_DELETED, event["actor"], deleted, collection_id=collection_id,
                                   request_id=event.get("requestId"),
                                   details={"cause": COLLECTION_DELETED, "causeEventId": event["eventId"]})
                caused["eventId"] = str(uuid.uuid5(_CAUSED_EVENT_NAMESPACE, event["eventId"]))
                self._outbox.record([caused], session=session)
            return deleted

        with self._gate.session(self._db.client) as session:
            deleted = session.with_transaction(delete)
        log.info("collection %s deleted: %d of its entities deleted with it", collection_id, len(deleted))
        return deleted

    def _committed_imports(self, import_ids: set[str], session: ClientSession) -> frozenset:
        """Those of these imports that are committed: their entities were visible even while still marked
        (the markers are cleared a moment after the commit)."""
        if not import_ids:
            return frozenset()
        return frozenset(record[IMPORT_ID] for record in self._db[JOURNAL_COLLECTION].find(
            {IMPORT_ID: {"$in": list(import_ids)}, STATE: COMMITTED}, {IMPORT_ID: True}, session=session))

    def deleted_collections(self, collection_ids: list[str]) -> set[str]:
        """Which of these collections were deleted."""
        return self._entities.deleted_collections(collection_ids)
