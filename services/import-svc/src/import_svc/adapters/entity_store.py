"""The entity store as its only writer sees it: reports and dashboards as documents of
`contracts.entities`, in the collections `reports` and `dashboards`.

An import writes its entities with a `pending` marker and makes them visible with one write to its
journal record (`import_journal.py`), which also records its events; every read here shows an imported
entity only once that record is committed (`ImportVisibility`). An authoring create or delete is one
transaction: the entity, its event in the outbox, and (in a collection) the collection's state document.
On MongoDB that is atomic. On the embedded server a process killed inside it may leave the entity
written without its event (or the event without the entity): never an entity half written.

Every write runs inside the write gate (it serializes writes on the embedded server; a no-op on real
MongoDB)."""

import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence

import bson
from bson.raw_bson import RawBSONDocument
from pymongo import ASCENDING, ReturnDocument
from pymongo.client_session import ClientSession
from pymongo.database import Database

from contracts.entities import COLLECTIONS, collection_of
from contracts.errors import ErrorCode, ServiceError, not_found
from contracts.import_journal import PENDING_MARKER
from optimize_runtime.messaging.outbox import Outbox
from optimize_runtime.store.entity_lookup import EntityLookup
from optimize_runtime.store.import_visibility import ImportVisibility
from optimize_runtime.store.write_gate import WriteGate

_UPDATE_ATTEMPTS = 3
# MongoDB refuses larger documents; a little room is left for the fields the store adds.
MAX_DOCUMENT_BYTES = 16 * 1024 * 1024 - 16 * 1024
# What one insert_many sends at most (MongoDB takes 48 MB per message): a 1,000-entity file of ordinary
# reports is one command per collection, a 30 MB file four.
INSERT_PART_BYTES = 8 * 1024 * 1024

# One document per collection that import-svc has written into or heard was deleted: an authoring write
# into a collection and the deletion of the collection both write it, so on MongoDB the two conflict
# (one transaction is retried and sees the other) instead of passing each other.
COLLECTION_STATES = "collection_states"

def _encoded_parts(documents: list[dict], extra: dict) -> Iterator[list[RawBSONDocument]]:
    """The documents (with `extra` fields) encoded as BSON, in parts of at most INSERT_PART_BYTES each
    (one document alone may be larger): a large import is never held as one whole message of encoded
    documents beside the documents themselves. Encoded here, not again by the driver."""
    part: list[RawBSONDocument] = []
    size = 0
    for document in documents:
        encoded = bson.encode({**document, **extra})
        if part and size + len(encoded) > INSERT_PART_BYTES:
            yield part
            part, size = [], 0
        part.append(RawBSONDocument(encoded))
        size += len(encoded)
    if part:
        yield part


class EntityStore(EntityLookup):
    """Every write of reports and dashboards, and the lookups by id (`EntityLookup`) its writers need."""

    def __init__(self, db: Database, gate: WriteGate, visibility: ImportVisibility | None = None,
                 outbox: Outbox | None = None) -> None:
        super().__init__(db, visibility)
        self._gate = gate
        self._outbox = outbox
        # Tests only: runs just before an authoring write (to change the catalog at that moment).
        self.before_write: Callable[[], None] | None = None

    @staticmethod
    def storage_problem(entity: dict) -> str | None:
        """Why this entity could not be stored as one document (too large for MongoDB, say), or None."""
        try:
            size = len(bson.encode(entity))
        except (bson.errors.InvalidDocument, OverflowError) as error:
            return f"The entity cannot be stored: {error}"
        if size > MAX_DOCUMENT_BYTES:
            return f"The entity takes {size} bytes; a stored entity may take at most {MAX_DOCUMENT_BYTES}."
        return None

    def ensure_indexes(self) -> None:
        with self._gate.hold():
            for name in COLLECTIONS.values():
                collection = self._db[name]
                collection.create_index([("collectionId", ASCENDING)], name="collectionId")
                collection.create_index([("owner", ASCENDING), ("collectionId", ASCENDING)],
                                        name="owner_collectionId")
                collection.create_index([("importId", ASCENDING)], name="importId", sparse=True)
                # Only entities of imports in progress (or left by dead ones) carry it: the sweeper's index.
                collection.create_index([(PENDING_MARKER, ASCENDING)], name=PENDING_MARKER, sparse=True)

    def insert(self, document: dict, events: Sequence[dict] = ()) -> None:
        """One entity, visible at once, and `events` recorded in the outbox with it (one transaction).
        Refused (404) when its collection was deleted meanwhile."""
        if self.before_write is not None:
            self.before_write()

        def write(session: ClientSession) -> None:
            if document.get("collectionId") is not None:
                self._write_into(document["collectionId"], session)
            self._db[collection_of(document)].insert_one(document, session=session)
            self._record(events, session)

        with self._gate.session(self._db.client) as session:
            session.with_transaction(write)

    def _write_into(self, collection_id: str, session: ClientSession) -> None:
        states = self._db[COLLECTION_STATES]
        states.update_one({"_id": collection_id}, {"$inc": {"writes": 1}}, upsert=True, session=session)
        state = states.find_one({"_id": collection_id}, session=session)
        if state is not None and state.get("deleted"):
            raise not_found("Collection", collection_id)

    def _record(self, events: Sequence[dict], session: ClientSession) -> None:
        if events:
            if self._outbox is None:
                raise RuntimeError("events to record, but the entity store was given no outbox")
            self._outbox.record(events, session=session)

    def delete_import(self, import_id: str, events: Sequence[dict] = ()) -> int:
        """Deletes every entity of this import (committed or not) and records `events` with it; how many."""
        def delete(session: ClientSession) -> int:
            deleted = sum(self._db[name].delete_many({"importId": import_id}, session=session).deleted_count
                          for name in COLLECTIONS.values())
            # Even when a collection's deletion took them first: the import was announced, so is its end.
            self._record(events, session)
            return deleted

        with self._gate.session(self._db.client) as session:
            return session.with_transaction(delete)

    def mark_collection_deleted(self, collection_id: str, event_id: str) -> None:
        """Its own write, before the collection's entities are deleted: a write into it that comes later
        is refused, and one that came earlier is among what is deleted."""
        with self._gate.hold():
            self._db[COLLECTION_STATES].update_one(
                {"_id": collection_id},
                {"$set": {"deleted": True, "deletedAt": time.time(), "eventId": event_id}}, upsert=True)

    def deleted_collections(self, collection_ids: Iterable[str]) -> set[str]:
        """Which of these collections import-svc knows were deleted."""
        ids = list(collection_ids)
        if not ids:
            return set()
        found = self._db[COLLECTION_STATES].find({"_id": {"$in": ids}, "deleted": True}, {"_id": 1})
        return {document["_id"] for document in found}

    def insert_pending(self, documents: Iterable[dict], import_id: str,
                       after_batch: Callable[[str], None] | None = None) -> dict[str, list[str]]:
        """The documents of an import, marked `pending: import_id` (invisible until the import's record
        is committed); the ids that went into each collection.

        One `insert_many` per collection and 8 MB (`INSERT_PART_BYTES`), so the number of commands does not
        grow with the number of documents. `after_batch(collection name)` is called after each collection's
        batch."""
        by_collection: dict[str, list[dict]] = {}
        for document in documents:
            by_collection.setdefault(collection_of(document), []).append(document)
        for name, batch in by_collection.items():
            for part in _encoded_parts(batch, {PENDING_MARKER: import_id}):
                with self._gate.hold():
                    self._db[name].insert_many(part, ordered=False)
            if after_batch is not None:
                after_batch(name)
        return {name: [document["_id"] for document in batch] for name, batch in by_collection.items()}

    def clear_pending(self, import_ids: list[str], written: Mapping[str, list[str]] | None = None) -> None:
        """Removes the marker from entities of committed imports (their record decides already; this
        only keeps the marker index small): those `written` (ids by collection, as `insert_pending` says)
        found by their ids, else every marked one. By id, because the embedded server looks at every
        document of a collection for a marker (its cost grew with the store), and MongoDB finds ids in its
        primary index anyway."""
        for name in COLLECTIONS.values() if written is None else written:
            query = {PENDING_MARKER: {"$in": import_ids}}
            if written is not None:
                query = {"_id": {"$in": written[name]}, **query}
            with self._gate.hold():
                self._db[name].update_many(query, {"$unset": {PENDING_MARKER: ""}})

    def delete_pending(self, import_ids: list[str]) -> int:
        """Deletes the still-marked entities of imports that will never commit; how many."""
        deleted = 0
        for name in COLLECTIONS.values():
            with self._gate.hold():
                deleted += self._db[name].delete_many({PENDING_MARKER: {"$in": import_ids}}).deleted_count
        return deleted

    def pending_import_ids(self) -> set[str]:
        """The imports whose entities still carry a pending marker."""
        return {import_id for name in COLLECTIONS.values()
                for import_id in self._db[name].distinct(PENDING_MARKER)}

    def update(self, entity_type: str, entity_id: str, fields: dict) -> dict | None:
        """Sets `fields` on the entity; the updated document, or None when there is none.

        The whole document is replaced, guarded by its `lastModified` so that a change made meanwhile is
        not lost: nx-27017 stores a datetime given to `$set` as a string."""
        collection = self._db[collection_of(entity_type)]
        with self._gate.hold():
            for _ in range(_UPDATE_ATTEMPTS):
                current = self.visibility.one(lambda: collection.find_one({"_id": entity_id}))
                if current is None:
                    return None
                updated = collection.find_one_and_replace(
                    {"_id": entity_id, "lastModified": current["lastModified"]}, {**current, **fields},
                    return_document=ReturnDocument.AFTER)
                if updated is not None:
                    return updated
        raise ServiceError(ErrorCode.CONFLICT, f"{entity_type} '{entity_id}' is being changed meanwhile",
                           "It changed while this change was being saved; try again", id=entity_id)

    def delete(self, entity_type: str, entity_id: str, events: Sequence[dict] = ()) -> bool:
        """Whether there was such an entity (an entity of an import in progress is none); `events` are
        recorded in the outbox with the deletion (one transaction)."""
        collection = self._db[collection_of(entity_type)]
        found = self.visibility.one(lambda: collection.find_one({"_id": entity_id}, {"importId": True}))
        if found is None:
            return False

        def delete(session: ClientSession) -> bool:
            if collection.delete_one({"_id": entity_id}, session=session).deleted_count != 1:
                return False
            self._record(events, session)
            return True

        with self._gate.session(self._db.client) as session:
            return session.with_transaction(delete)
