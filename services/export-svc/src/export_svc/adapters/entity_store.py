"""The entity store as export-svc sees it: read only (in production under a read-only MongoDB role).

Documents are those of `contracts.entities`; every method asks each collection at most once, and shows
an imported entity only once its import is committed (`optimize_runtime.store.import_visibility`)."""

from collections.abc import Iterable

from contracts.entities import COLLECTIONS, SUMMARY_FIELDS
from contracts.import_journal import PREVIOUS_VERSION
from optimize_runtime.store.entity_lookup import EntityLookup

# The entity list needs no content: a dashboard's tiles or a report's data can be large. The version an
# overwrite in progress replaced comes whole (only while that import runs): it may be the one shown.
_SUMMARY_PROJECTION = dict.fromkeys((*SUMMARY_FIELDS, PREVIOUS_VERSION), True)


class ReadOnlyEntityStore(EntityLookup):
    """Lookups by id (`EntityLookup`), whole collections for their export, and the entity list."""

    def in_collections(self, collection_ids: Iterable[str]) -> list[dict]:
        """Every document of these collections, with its content."""
        ids = list(dict.fromkeys(collection_ids))
        if not ids:
            return []
        query = {"collectionId": {"$in": ids}}
        return self.visibility.many(
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

        return self.visibility.many(read)
