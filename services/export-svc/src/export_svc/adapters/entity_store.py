"""The entity store as export-svc sees it: read only (in production under a read-only MongoDB role).

Documents are those of `contracts.entities`; every method asks each collection at most once (a page of a
list: once per batch, see `_page`), and shows an imported entity only once its import is committed
(`optimize_runtime.store.import_visibility`)."""

from collections.abc import Iterable
from datetime import datetime

from pymongo import DESCENDING

from contracts.entities import COLLECTIONS, SUMMARY_FIELDS
from contracts.import_journal import PENDING_MARKER, PREVIOUS_VERSION
from optimize_runtime.store.entity_lookup import EntityLookup

# The entity list needs no content: a dashboard's tiles or a report's data can be large. The version an
# overwrite in progress replaced comes whole (only while that import runs): it may be the one shown.
_SUMMARY_PROJECTION = dict.fromkeys((*SUMMARY_FIELDS, PREVIOUS_VERSION), True)
# The lists' order, served by the indexes import-svc makes (`collectionId_lastModified_id`,
# `owner_collectionId_lastModified_id`). MongoDB orders every date before every text, so a time that the
# embedded server stored as text (it does so with a `$set` date) comes after all dates, never lost.
_ORDER = [("lastModified", DESCENDING), ("id", DESCENDING)]
# A page asks for its entities in batches: the first of the page's size (plus one, to know whether there
# is a next page), then twice as many each time entities of imports in progress were left out.
_BATCH_MAX = 20_000


def order_key(document: dict) -> tuple:
    """The sort key of `_ORDER` in Python (dates before text, as MongoDB orders them), descending."""
    moment = document["lastModified"]
    return isinstance(moment, datetime), moment, document["id"]


class ReadOnlyEntityStore(EntityLookup):
    """Lookups by id (`EntityLookup`), whole collections for their export, and the entity lists."""

    def in_collections(self, collection_ids: Iterable[str]) -> list[dict]:
        """Every document of these collections, with its content."""
        ids = list(dict.fromkeys(collection_ids))
        if not ids:
            return []
        query = {"collectionId": {"$in": ids}}
        return self.visibility.many(
            lambda: [document for name in COLLECTIONS.values() for document in self._db[name].find(query)])

    def summaries_in_collection(self, collection_id: str) -> list[dict]:
        """Every entity of the collection, without content."""
        query = {"collectionId": collection_id}

        def read() -> list[dict]:
            return [document for name in COLLECTIONS.values()
                    for document in self._db[name].find(query, _SUMMARY_PROJECTION)]

        return self.visibility.many(read)

    def page_visible_to(self, user_id: str, collection_ids: Iterable[str], limit: int,
                        after: tuple | None) -> tuple[list[dict], list[tuple], int]:
        """Up to `limit + 1` of the user's private entities and the entities of these collections after the
        position `after` ((lastModified, id) of the previous page's last; None: from the start), in the
        lists' order, without content; their positions (as stored: while an overwrite runs, the version
        shown may be the older one); and how many the whole list holds."""
        # `$eq: None` rather than `None`: nx-27017 matches nothing with a bare null inside `$or`.
        visible = [{"collectionId": {"$eq": None}, "owner": user_id}]
        ids = list(collection_ids)
        if ids:
            visible.append({"collectionId": {"$in": ids}})
        return self._page({"$or": visible}, limit, after)

    def page_in_collection(self, collection_id: str, limit: int,
                           after: tuple | None) -> tuple[list[dict], list[tuple], int]:
        """As `page_visible_to`, for the entities of one collection."""
        return self._page({"collectionId": collection_id}, limit, after)

    def _page(self, query: dict, limit: int, after: tuple | None) -> tuple[list[dict], list[tuple], int]:
        def read(position: dict | None, count: int) -> list[dict]:
            # The next `count` entities of both collections after `position`: each collection's first
            # `count` there, merged (one find per collection).
            keyed = query if position is None else {"$and": [query, _after(position)]}
            found = [document for name in COLLECTIONS.values()
                     for document in self._db[name].find(keyed, _SUMMARY_PROJECTION,
                                                         sort=_ORDER, limit=count)]
            return sorted(found, key=order_key, reverse=True)[:count]

        start = None if after is None else {"lastModified": after[0], "id": after[1]}
        found = self.visibility.leading(read, limit + 1, start=start, batch_max=_BATCH_MAX)
        positions = [(stored["lastModified"], stored["id"]) for stored, _version in found]
        return [version for _stored, version in found], positions, self._total(query)

    def _total(self, query: dict) -> int:
        """How many entities match, less those of imports not committed (they carry the pending marker,
        which an import's entities lose only after it committed) unless they hold the version an overwrite
        replaced: a count per collection from its index, and only when an import is in progress, the ids
        of such imports and a count of their new entities."""
        total = 0
        for name in COLLECTIONS.values():
            collection = self._db[name]
            total += collection.count_documents(query)
            marked = {"$and": [query, {PENDING_MARKER: {"$exists": True}}]}
            uncommitted = self.visibility.uncommitted(collection.distinct(PENDING_MARKER, marked))
            if uncommitted:
                total -= collection.count_documents({"$and": [query, {PENDING_MARKER: {"$in": uncommitted},
                                                                      PREVIOUS_VERSION: {"$exists": False}}]})
        return total


def _after(position: dict) -> dict:
    """The entities after `position` in the lists' order (dates first, then text)."""
    moment, entity_id = position["lastModified"], position["id"]
    later = [{"lastModified": {"$lt": moment}}, {"lastModified": moment, "id": {"$lt": entity_id}}]
    if isinstance(moment, datetime):
        later.append({"lastModified": {"$type": "string"}})
    return {"$or": later}
