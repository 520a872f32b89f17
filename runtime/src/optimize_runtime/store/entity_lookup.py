"""Entities of the entity store looked up by id, as every reader may see them (an imported entity only once
its import is committed): the one read code of export-svc's read-only store and import-svc's store.

Documents are those of `contracts.entities`; a lookup asks each collection it looks in once."""

from collections.abc import Iterable

from pymongo.database import Database

from contracts.entities import COLLECTIONS, collection_of
from optimize_runtime.store.import_visibility import ImportVisibility


class EntityLookup:
    def __init__(self, db: Database, visibility: ImportVisibility | None = None) -> None:
        self._db = db
        self.visibility = visibility or ImportVisibility(db)

    @staticmethod
    def _collections(entity_type: str | None) -> list[str]:
        return [collection_of(entity_type)] if entity_type else list(COLLECTIONS.values())

    def get(self, entity_id: str, entity_type: str | None = None) -> dict | None:
        """The document with this id, looked up in the one collection of `entity_type` when given."""
        for name in self._collections(entity_type):
            document = self.visibility.one(lambda name=name: self._db[name].find_one({"_id": entity_id}))
            if document is not None:
                return document
        return None

    def get_many(self, entity_ids: Iterable[str], entity_type: str | None = None) -> dict[str, dict]:
        """The documents of those ids that exist, by id."""
        ids = list(dict.fromkeys(entity_ids))
        if not ids:
            return {}
        names = self._collections(entity_type)
        visible = self.visibility.many(
            lambda: [document for name in names for document in self._db[name].find({"_id": {"$in": ids}})])
        return {document["_id"]: document for document in visible}
