"""The entity store as its only writer sees it: reports and dashboards as documents of
`contracts.entities`, in the collections `reports` and `dashboards`.

Every write runs inside the write gate (it serializes writes on the embedded server, which does not
isolate concurrent transactions; a no-op on real MongoDB)."""

from collections.abc import Callable, Iterable

import bson
from pymongo import ASCENDING, ReturnDocument
from pymongo.client_session import ClientSession
from pymongo.database import Database

from contracts.entities import COLLECTIONS, collection_of
from contracts.errors import ErrorCode, ServiceError
from optimize_runtime.store.write_gate import WriteGate

_UPDATE_ATTEMPTS = 3
# MongoDB refuses larger documents; a little room is left for the fields the store adds.
MAX_DOCUMENT_BYTES = 16 * 1024 * 1024 - 16 * 1024

# Called inside the transaction, after the inserts; raising aborts the whole write.
BeforeCommit = Callable[[ClientSession], None]


class EntityStore:
    def __init__(self, db: Database, gate: WriteGate) -> None:
        self._db = db
        self._gate = gate

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

    def insert_all(self, documents: Iterable[dict], *, before_commit: BeforeCommit | None = None) -> None:
        """Every document, reports and dashboards, in one transaction: all are stored or none.

        One `insert_many` per collection, so the number of commands does not grow with the number of
        documents. `before_commit(session)` may write more in the same transaction (pass it `session=`)."""
        by_collection: dict[str, list[dict]] = {}
        for document in documents:
            by_collection.setdefault(collection_of(document), []).append(document)

        def write(session: ClientSession) -> None:
            # Safe to repeat: with_transaction retries it after a transient error, and the retry
            # starts from an aborted (empty) transaction.
            for name, batch in by_collection.items():
                self._db[name].insert_many(batch, ordered=True, session=session)
            if before_commit is not None:
                before_commit(session)

        with self._gate.session(self._db.client) as session:
            session.with_transaction(write)

    def update(self, entity_type: str, entity_id: str, fields: dict) -> dict | None:
        """Sets `fields` on the entity; the updated document, or None when there is none.

        The whole document is replaced, guarded by its `lastModified` so that a change made meanwhile is
        not lost: nx-27017 stores a datetime given to `$set` as a string."""
        collection = self._db[collection_of(entity_type)]
        with self._gate.hold():
            for _ in range(_UPDATE_ATTEMPTS):
                current = collection.find_one({"_id": entity_id})
                if current is None:
                    return None
                updated = collection.find_one_and_replace(
                    {"_id": entity_id, "lastModified": current["lastModified"]}, {**current, **fields},
                    return_document=ReturnDocument.AFTER)
                if updated is not None:
                    return updated
        raise ServiceError(ErrorCode.CONFLICT, f"{entity_type} '{entity_id}' is being changed meanwhile",
                           "It changed while this change was being saved; try again", id=entity_id)

    def delete(self, entity_type: str, entity_id: str) -> bool:
        """Whether there was such an entity."""
        with self._gate.hold():
            return self._db[collection_of(entity_type)].delete_one({"_id": entity_id}).deleted_count == 1

    def get(self, entity_id: str, entity_type: str | None = None) -> dict | None:
        """The document with this id, looked up in the one collection of `entity_type` when given."""
        names = [collection_of(entity_type)] if entity_type else list(COLLECTIONS.values())
        for name in names:
            document = self._db[name].find_one({"_id": entity_id})
            if document is not None:
                return document
        return None

    def get_many(self, entity_ids: Iterable[str], entity_type: str | None = None) -> dict[str, dict]:
        """The documents of those ids that exist, by id: one query per collection looked in."""
        ids = list(dict.fromkeys(entity_ids))
        if not ids:
            return {}
        names = [collection_of(entity_type)] if entity_type else list(COLLECTIONS.values())
        found: dict[str, dict] = {}
        for name in names:
            for document in self._db[name].find({"_id": {"$in": ids}}):
                found[document["_id"]] = document
        return found
