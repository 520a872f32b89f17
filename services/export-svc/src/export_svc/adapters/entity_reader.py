"""The entity store as export-svc sees it: read only (in production under a read-only MongoDB role).

Documents are those of `contracts.entities`; every method asks each collection at most once, and shows
an imported entity only once its import is committed (`optimize_runtime.store.import_visibility`)."""

from collections.abc import Iterable

from pymongo.database import Database

from contracts.entities import COLLECTIONS, SUMMARY_FIELDS, collection_of
from optimize_runtime.store.import_visibility import ImportVisibility

# The entity list needs no content: a dashboard's tiles or a report's data can be large.
_SUMMARY_PROJECTION = dict.fromkeys(SUMMARY_FIELDS, True)


class EntityReader:
    def __init__(self, db: Database, visibility: ImportVisibility | None = None) -> None:
        self._db = db
        self._visibility = visibility or ImportVisibility(db)

    def _collections(self, entity_type: str | None) -> list[str]:
        return [collection_of(entity_type)] if entity_type else list(COLLECTIONS.values())

    def get(self, entity_id: str, entity_type: str | None = None) -> dict | None:
        for name in self._collections(entity_type):
            document = self._visibility.one(lambda name=name: self._db[name].find_one({"_id": entity_id}))
            if document is not None:
                return document
        return None

    def get_many(self, entity_ids: Iterable[str], entity_type: str | None = None) -> dict[str, dict]:
        """The documents of those ids that exist, by id."""
        ids = list(dict.fromkeys(entity_ids))
        if not ids:
            return {}
        names = self._collections(entity_type)
        visible = self._visibility.many(
            lambda: [document for name in names for document in self._db[name].find({"_id": {"$in": ids}})])
        return {document["_id"]: document for document in visible}

    def in_collections(self, collection_ids: Iterable[str]) -> list[dict]:
        """Every document of these collections, with its content."""
        ids = list(dict.fromkeys(collection_ids))
        if not ids:
            return []
        query = {"collectionId": {"$in": ids}}
        return self._visibility.many(
            lambda: [document for name in COLLECTIONS.values() for document in self._db[name].find(query)])

    def summaries_visible_to(self, user_id: str, collection_ids: Iterable[str]) -> list[dict]:
        """The user's private entities and every entity of these collections, without content."""
        # `$eq: None` rather than `None`: nx-27017 matches nothing with a bare null inside `$or`.
        visible = [{"collectionId": {"$eq": None}, "owner": user_id}]
        ids = list(collection_ids)
        if ids:
            visible.append({"collectionId": {"$in": ids}})
        return self._summaries({"$or": visible})

    def summaries_in_collection(self, collection_id: str) -> list[dict]:
        return self._summaries({"collectionId": collection_id})

    def _summaries(self, query: dict) -> list[dict]:
        # One read over both collections: an import that commits between the two is shown whole or not.
        def read() -> list[dict]:
            return [document for name in COLLECTIONS.values()
                    for document in self._db[name].find(query, _SUMMARY_PROJECTION)]

        return self._visibility.many(read)
