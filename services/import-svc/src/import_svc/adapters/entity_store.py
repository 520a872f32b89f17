"""The entity store as its only writer sees it: reports and dashboards as documents of
`contracts.entities`, in the collections `reports` and `dashboards`.

An import writes its entities with a `pending` marker and makes them visible with one write to its
journal record (`import_journal.py`), which also records its events; every read here shows an imported
entity only once that record is committed (`ImportVisibility`). An overwriting import replaces a
document by its new version holding the replaced one under `previous`, shown until the import commits
(`contracts.import_journal`). An authoring create or delete is one
transaction: the entity, its event in the outbox, and (in a collection) the collection's state document.
On MongoDB that is atomic. On the embedded server a process killed inside it may leave the entity
written without its event (or the event without the entity): never an entity half written.

Every write runs inside the write gate (it serializes writes on the embedded server; a no-op on real
MongoDB)."""

import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from typing import TypeVar

import bson
from bson.raw_bson import RawBSONDocument
from pymongo import ASCENDING, DESCENDING, ReplaceOne, ReturnDocument
from pymongo.client_session import ClientSession
from pymongo.database import Database

from contracts.entities import COLLECTIONS, SOURCE_ID, collection_of
from contracts.errors import ErrorCode, ServiceError, not_found
from contracts.import_journal import IMPORT_ID, PENDING_MARKER, PREVIOUS_VERSION
from import_svc.domain.importing.overwrite import EarlierCopy
from optimize_runtime.messaging.outbox import Outbox
from optimize_runtime.store.entity_lookup import EntityLookup
from optimize_runtime.store.import_visibility import ImportVisibility
from optimize_runtime.store.write_gate import WriteGate

_UPDATE_ATTEMPTS = 3
# An overwrite reads the earlier copies in batches of this many documents, keeping only what it needs of each
# (`overwrite.COPY_FIELDS` and a digest): it holds one batch (16 MB at most from MongoDB) at a time.
EARLIER_COPIES_BATCH = 500
# MongoDB refuses larger documents; a little room is left for the fields the store adds.
MAX_DOCUMENT_BYTES = 16 * 1024 * 1024 - 16 * 1024
# What one insert_many sends at most (MongoDB takes 48 MB per message): a 1,000-entity file of ordinary
# reports is one command per collection, a 30 MB file eight. A part costs the worker about 2.5 times its
# size while it is sent (encoded, then the driver's message): 8 MB parts took ~20 MB of peak RSS, 4 MB ~10.
INSERT_PART_BYTES = 4 * 1024 * 1024

# One document per collection that import-svc has written into or heard was deleted: an authoring write
# into a collection and the deletion of the collection both write it, so on MongoDB the two conflict
# (one transaction is retried and sees the other) instead of passing each other.
COLLECTION_STATES = "collection_states"
T = TypeVar("T")


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
        except (bson.errors.InvalidDocument, OverflowError, UnicodeEncodeError) as error:
            return f"The entity cannot be stored: {error}"
        if size > MAX_DOCUMENT_BYTES:
            return f"The entity takes {size} bytes; a stored entity may take at most {MAX_DOCUMENT_BYTES}."
        return None

    def ensure_indexes(self) -> None:
        with self._gate.hold():
            for name in COLLECTIONS.values():
                collection = self._db[name]
                # Made by earlier versions: the two compound indexes below begin with their fields and serve
                # their queries (a collection's entities; a user's private ones), and each index more is
                # written with every entity an import inserts and again when its marker is cleared.
                for redundant in ("collectionId", "owner_collectionId"):
                    if redundant in collection.index_information():
                        collection.drop_index(redundant)
                collection.create_index([("importId", ASCENDING)], name="importId", sparse=True)
                # The entity lists' pages (export-svc): a keyset read in their order (lastModified, then
                # id, descending) within a collection, and among a user's private entities; and every
                # query by collection, or by owner and collection, on a prefix of them.
                collection.create_index([("collectionId", ASCENDING), ("lastModified", DESCENDING),
                                         ("id", DESCENDING)], name="collectionId_lastModified_id")
                collection.create_index([("owner", ASCENDING), ("collectionId", ASCENDING),
                                         ("lastModified", DESCENDING), ("id", DESCENDING)],
                                        name="owner_collectionId_lastModified_id")
                # Only entities of imports in progress (or left by dead ones) carry it: the sweeper's index.
                collection.create_index([(PENDING_MARKER, ASCENDING)], name=PENDING_MARKER, sparse=True)
                # An overwriting import looks up what earlier imports made in its target.
                collection.create_index([(SOURCE_ID, ASCENDING), ("collectionId", ASCENDING)],
                                        name=SOURCE_ID, sparse=True)

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
        """Undoes every entity of this import (committed or not): one it overwrote gets the version it
        replaced back (kept until the import is settled), one it created is deleted; records `events` with
        it; how many."""
        def delete(session: ClientSession) -> int:
            deleted = 0
            for name in COLLECTIONS.values():
                collection = self._db[name]
                with_previous = {IMPORT_ID: import_id, PREVIOUS_VERSION: {"$exists": True}}
                overwritten = list(collection.find(with_previous, session=session))
                if overwritten:
                    deleted += collection.bulk_write([ReplaceOne(
                        {"_id": document["_id"], IMPORT_ID: import_id}, document[PREVIOUS_VERSION])
                        for document in overwritten], ordered=False, session=session).matched_count
                created = {IMPORT_ID: import_id, PREVIOUS_VERSION: {"$exists": False}}
                deleted += collection.delete_many(created, session=session).deleted_count
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
                       after_batch: Callable[[str], None] | None = None,
                       after_part: Callable[[str], None] | None = None) -> dict[str, list[str]]:
        """The documents of an import, marked `pending: import_id` (invisible until the import's record
        is committed); the ids that went into each collection.

        One `insert_many` per collection and 4 MB (`INSERT_PART_BYTES`), so the number of commands does not
        grow with the number of documents. The documents are encoded as BSON (here, not again by the
        driver) as they come, and each part is sent once full: a large import holds one part per collection,
        never all of its documents. `after_batch(collection name)` is called after each collection's last
        part, in the order the collections came; `after_part(collection name)` after each part that is
        not its collection's last."""
        ids: dict[str, list[str]] = {}

        def encoded() -> Iterator[tuple[str, int, RawBSONDocument]]:
            for document in documents:
                name = collection_of(document)
                raw = bson.encode({**document, PENDING_MARKER: import_id})
                ids.setdefault(name, []).append(document["_id"])
                yield name, len(raw), RawBSONDocument(raw)

        _in_parts(encoded(), self._insert_part, after_part, after_batch)
        return ids

    def _insert_part(self, name: str, part: list[RawBSONDocument]) -> None:
        with self._gate.hold():
            self._db[name].insert_many(part, ordered=False)

    def overwrite_pending(self, overwrites: Iterable[tuple[dict, dict]], import_id: str,
                          after_batch: Callable[[str], None] | None = None,
                          after_part: Callable[[str], None] | None = None) -> dict[str, list[str]]:
        """Replaces entities by new versions of an import, marked `pending: import_id`, each keeping the
        version it replaces under `previous` (shown until the import commits); the ids replaced in each
        collection. `overwrites`: (new version, the version it replaces as it was read: its id, importId
        and lastModified at least). A replaced entity that changed since it was read (edited, overwritten,
        deleted) fails the import with a conflict: the caller undoes what was written (`delete_pending`).

        In parts, as `insert_pending` writes (`INSERT_PART_BYTES` of new versions, `after_batch` and
        `after_part` called the same way): each part reads the versions it replaces again (one find) and
        replaces them in one bulk write, each replacement conditional on the entity being as read. So an
        overwrite holds one part of new and replaced versions at a time, never all of them. An entity too
        large to be held together with its previous version is refused with every such entity named (once
        one is found, the parts after it are only checked, not written)."""
        ids: dict[str, list[str]] = {}
        too_large: list[dict] = []

        def sized() -> Iterator[tuple[str, int, tuple[dict, dict]]]:
            for document, replaced in overwrites:
                name = collection_of(document)
                ids.setdefault(name, []).append(replaced["_id"])
                yield name, len(bson.encode(document)), (document, replaced)

        _in_parts(sized(), lambda name, part: self._overwrite_part(name, part, import_id, too_large),
                  after_part, after_batch)
        if too_large:
            raise ServiceError(ErrorCode.IMPORT_FILE_INVALID, "Entities are too large to be overwritten in "
                               "place", validationErrors=too_large)
        return ids

    def _overwrite_part(self, name: str, part: list[tuple[dict, dict]], import_id: str,
                        too_large: list[dict]) -> None:
        """One part of `overwrite_pending`: written unless an entity too large was found (in it or before)."""
        collection = self._db[name]
        replaced_ids = [replaced["_id"] for _, replaced in part]
        stored = {document["_id"]: document for document in collection.find(
            {"_id": {"$in": replaced_ids}}, batch_size=len(replaced_ids) + 1)}  # one batch: the part's size
        batch, changed = [], 0
        for document, replaced in part:
            expected = {"_id": replaced["_id"], IMPORT_ID: replaced.get(IMPORT_ID),
                        "lastModified": replaced["lastModified"]}
            current = stored.get(replaced["_id"])
            if current is None or any(current.get(field) != value for field, value in expected.items()):
                changed += 1
                continue
            previous = {field: value for field, value in current.items()
                        if field not in (PENDING_MARKER, PREVIOUS_VERSION)}
            replacement = {**document, PENDING_MARKER: import_id, PREVIOUS_VERSION: previous}
            if (problem := self.storage_problem(replacement)) is not None:
                too_large.append({"entityId": document.get(SOURCE_ID), "path": "",
                                  "message": f"Too large to overwrite in place together with the version it "
                                             f"replaces: {problem} Import it with mode=newCopies."})
            batch.append(ReplaceOne(expected, replacement))
        if changed:
            raise _changed_meanwhile(name, changed)
        if too_large:
            return
        with self._gate.hold():
            matched = collection.bulk_write(batch, ordered=False).matched_count
        if matched != len(batch):
            raise _changed_meanwhile(name, len(batch) - matched)

    def settle(self, import_id: str, overwritten: Mapping[str, list[str]]) -> None:
        """Drops the versions a committed and verified overwrite replaced (ids by collection)."""
        for name, ids in overwritten.items():
            with self._gate.hold():
                self._db[name].update_many({"_id": {"$in": ids}, IMPORT_ID: import_id},
                                           {"$unset": {PREVIOUS_VERSION: ""}})

    def clear_pending(self, import_ids: list[str], written: Mapping[str, list[str]] | None = None, *,
                      keep_previous: bool = False) -> None:
        """Removes the marker (and, unless `keep_previous`, the version an overwrite replaced) from entities
        of committed imports (their record decides already; this only keeps the marker index small): those
        `written` (ids by collection, as `insert_pending` says) found by their ids, else every marked one.
        By id, because the embedded server looks at every document of a collection for a marker (its cost
        grew with the store), and MongoDB finds ids in its primary index anyway."""
        # One import (as after every commit): its id itself, the same on MongoDB as `$in` of one; the embedded
        # server runs `_id $in` beside it as one SQL query, while beside `$in` it reads every document it
        # matches into Python first (about a third of its cost of clearing).
        marker = import_ids[0] if len(import_ids) == 1 else {"$in": import_ids}
        for name in COLLECTIONS.values() if written is None else written:
            query = {PENDING_MARKER: marker}
            if written is not None:
                query = {"_id": {"$in": written[name]}, **query}
            with self._gate.hold():
                dropped = {PENDING_MARKER: ""} if keep_previous else {
                    PENDING_MARKER: "", PREVIOUS_VERSION: ""}
                self._db[name].update_many(query, {"$unset": dropped})

    def delete_pending(self, import_ids: list[str]) -> int:
        """Undoes the still-marked entities of imports that will never commit: an entity an import
        overwrote gets its previous version back, one it created is deleted; how many were undone."""
        undone = 0
        for name in COLLECTIONS.values():
            collection = self._db[name]
            overwritten = list(collection.find({PENDING_MARKER: {"$in": import_ids},
                                                PREVIOUS_VERSION: {"$exists": True}}))
            with self._gate.hold():
                if overwritten:
                    undone += collection.bulk_write([ReplaceOne(
                        {"_id": document["_id"], PENDING_MARKER: document[PENDING_MARKER]},
                        document[PREVIOUS_VERSION]) for document in overwritten], ordered=False).matched_count
                undone += collection.delete_many({PENDING_MARKER: {"$in": import_ids},
                                                  PREVIOUS_VERSION: {"$exists": False}}).deleted_count
        return undone

    def pending_import_ids(self) -> set[str]:
        """The imports whose entities still carry a pending marker."""
        return {import_id for name in COLLECTIONS.values()
                for import_id in self._db[name].distinct(PENDING_MARKER)}

    def update(self, entity_type: str, entity_id: str, fields: dict) -> dict | None:
        """Sets `fields` on the entity; the updated document, or None when there is none.

        The whole document is replaced, guarded by its `lastModified` (and import) so that a change made
        meanwhile is not lost: nx-27017 stores a datetime given to `$set` as a string. An entity that an
        import in progress is overwriting is a conflict: the change would be lost or undone with it."""
        collection = self._db[collection_of(entity_type)]
        if self.before_write is not None:
            self.before_write()
        with self._gate.hold():
            for _ in range(_UPDATE_ATTEMPTS):
                stored = collection.find_one({"_id": entity_id})
                current = self.visibility.one(lambda stored=stored: stored)
                if current is None:
                    return None
                if current.get(IMPORT_ID) != stored.get(IMPORT_ID):
                    raise ServiceError(ErrorCode.CONFLICT, f"An import is overwriting {entity_type} "
                                       f"'{entity_id}' right now", "Try again when it has ended",
                                       headers={"Retry-After": "5"}, id=entity_id)
                expected = {"_id": entity_id, "lastModified": current["lastModified"]}
                if current.get(IMPORT_ID) is not None:
                    expected[IMPORT_ID] = current[IMPORT_ID]
                updated = collection.find_one_and_replace(
                    expected, {**current, **fields}, return_document=ReturnDocument.AFTER)
                if updated is not None:
                    return updated
        raise ServiceError(ErrorCode.CONFLICT, f"{entity_type} '{entity_id}' is being changed meanwhile",
                           "It changed while this change was being saved; try again", id=entity_id)

    def delete(self, entity_type: str, entity_id: str, events: Sequence[dict] = ()) -> bool:
        """Whether there was such an entity (an entity of an import in progress is none); `events` are
        recorded in the outbox with the deletion (one transaction)."""
        collection = self._db[collection_of(entity_type)]
        # The replaced version too: it is the one shown while an overwrite of the entity is in progress.
        found = self.visibility.one(lambda: collection.find_one({"_id": entity_id},
                                                                {IMPORT_ID: True, PREVIOUS_VERSION: True}))
        if found is None:
            return False

        def delete(session: ClientSession) -> bool:
            if collection.delete_one({"_id": entity_id}, session=session).deleted_count != 1:
                return False
            self._record(events, session)
            return True

        with self._gate.session(self._db.client) as session:
            return session.with_transaction(delete)

    def earlier_copies(self, source_ids: list[str], collection_id: str | None,
                       owner: str) -> list[EarlierCopy]:
        """The visible entities imported from these source ids into the collection (None: the owner's
        private entities); one query per collection."""
        ids = list(dict.fromkeys(source_ids))
        if not ids:
            return []
        query: dict = {SOURCE_ID: {"$in": ids}, "collectionId": collection_id}
        if collection_id is None:
            query = {SOURCE_ID: {"$in": ids}, "collectionId": {"$eq": None}, "owner": owner}
        stored_import: dict[str, str | None] = {}
        codec_options = self._db.codec_options
        raw = codec_options.with_options(document_class=RawBSONDocument)

        def read() -> list[dict]:
            # Each document decoded alone from its batch's bytes, and only its summary kept.
            documents = [_copy_summary(bson.decode(document.raw, codec_options))
                         for name in COLLECTIONS.values()
                         for document in self._db[name].with_options(codec_options=raw).find(
                             query, batch_size=EARLIER_COPIES_BATCH)]
            stored_import.update((document["_id"], document.get(IMPORT_ID)) for document in documents)
            return documents

        return [EarlierCopy({field: value for field, value in version.items() if field != _DIGEST},
                            version[_DIGEST], version.get(IMPORT_ID) != stored_import[version["_id"]])
                for version in self.visibility.many(read)]


_DIGEST = "contentDigest"  # a copy summary's own field


def _copy_summary(document: dict) -> dict:
    """What an overwrite keeps of a stored document, and of each version it holds under `previous` (the
    visible one is chosen from these as from whole documents, `contracts.import_journal.visible_version`)."""
    copy = EarlierCopy.of(document)
    summary = {**copy.document, _DIGEST: copy.digest}
    for field in (PENDING_MARKER, PREVIOUS_VERSION):
        if field in document:
            summary[field] = _copy_summary(document[field]) if field == PREVIOUS_VERSION else document[field]
    return summary


def _in_parts(items: Iterable[tuple[str, int, T]], write: Callable[[str, list[T]], None],
              after_part: Callable[[str], None] | None, after_batch: Callable[[str], None] | None) -> None:
    """Writes `items` (collection name, bytes, item) in parts of at most `INSERT_PART_BYTES` per collection
    (a part holds one item at least): `write(name, part)` once a part is full, and for each collection's
    last part; `after_part(name)` after each part but its collection's last, `after_batch(name)` after the
    last, in the order the collections came. One part per collection is held at a time."""
    parts: dict[str, list[T]] = {}
    part_bytes: dict[str, int] = {}
    for name, size, item in items:
        part = parts.setdefault(name, [])
        if part and part_bytes[name] + size > INSERT_PART_BYTES:
            write(name, part)
            part.clear()
            part_bytes[name] = 0
            if after_part is not None:
                after_part(name)
        part.append(item)
        part_bytes[name] = part_bytes.get(name, 0) + size
    for name, part in parts.items():
        write(name, part)
        if after_batch is not None:
            after_batch(name)


def _changed_meanwhile(name: str, count: int) -> ServiceError:
    return ServiceError(ErrorCode.CONFLICT, f"{count} of the {name} this import overwrites changed while it "
                        "was being written; nothing was imported", "Try the import again",
                        headers={"Retry-After": "1"})
