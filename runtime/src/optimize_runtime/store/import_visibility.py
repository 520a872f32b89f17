"""What every reader of the entity store may show: an imported entity only once its import is committed.

The rule (see `contracts.import_journal`): a document with an `importId` is visible when the journal holds
a committed record with that `importId`; a document without one (authored) is always visible. Committed
is final, so committed import ids are remembered per process and asked once.

A read that spans several documents must not show part of an import that committed while the read was
running (its cursor may have passed documents that were inserted after it went by). So an import
learned to be committed after such a read started makes the read run once more; an import that turns
out to be committed only during that second run is left out of it, whole. The second run and the
journal question happen once per import per process: later reads find it remembered.

A document an overwriting import changed holds the version it replaced under `previous`: the version
shown is chosen by the same rule (`contracts.import_journal.visible_version`), so a read shows every
entity of an overwrite in its new version or every one in its old, never a mix."""

import threading
from collections.abc import Callable

from pymongo.database import Database

from contracts.import_journal import (
    COMMITTED,
    IMPORT_ID,
    JOURNAL_COLLECTION,
    STATE,
    import_ids_of,
    visible_version,
)

_REMEMBERED_MAX = 200_000


class ImportVisibility:
    def __init__(self, db: Database) -> None:
        self._journal = db[JOURNAL_COLLECTION]
        self._lock = threading.Lock()
        self._generation = 0
        # import id -> generation at which it was learned to be committed
        self._committed: dict[str, int] = {}

    def remember_committed(self, import_id: str) -> None:
        """Told by the process that committed the import itself."""
        with self._lock:
            self._remember([import_id])

    def one(self, read: Callable[[], dict | None]) -> dict | None:
        """The visible version of a single document, or None when there is none or it is not visible."""
        document = read()
        if document is None:
            return None
        self._learn(_import_ids([document]))
        return self._version(document, frozenset())

    def many(self, read: Callable[[], list[dict]]) -> list[dict]:
        """The visible documents of a read over several documents, never part of one import."""
        started = self._generation
        documents = read()
        import_ids = _import_ids(documents)
        self._learn(import_ids)
        if not self._learned_since(import_ids, started):
            return self._versions(documents, frozenset())
        started = self._generation
        documents = read()
        import_ids = _import_ids(documents)
        self._learn(import_ids)
        return self._versions(documents, self._learned_since(import_ids, started))

    def _versions(self, documents: list[dict], late: frozenset[str]) -> list[dict]:
        return [version for document in documents if (version := self._version(document, late)) is not None]

    def leading(self, read: Callable[[dict | None, int], list[dict]], count: int, *,
                start: dict | None = None, batch_max: int = 20_000) -> list[tuple[dict, dict]]:
        """The first `count` visible documents of an ordered read that comes in batches, each as stored and
        in its visible version, never part of one import: `read(after, n)` gives the next `n` documents
        after the document `after` (`start` at first), fewer only at the end. A batch that held documents
        of imports not committed is followed by one twice as large (at most `batch_max`), until `count`
        are found or the read ends.

        As with `many`, an import learned to be committed after the read started makes the read run once
        more, and one learned to be committed during that second run is left out of it, whole."""
        started = self._generation
        documents, import_ids = self._leading(read, count, start, batch_max, started)
        if not self._learned_since(import_ids, started):
            return documents
        started = self._generation
        return self._leading(read, count, start, batch_max, started)[0]

    def _leading(self, read: Callable[[dict | None, int], list[dict]], count: int, start: dict | None,
                 batch_max: int, started: int) -> tuple[list[tuple[dict, dict]], set[str]]:
        found: list[tuple[dict, dict]] = []
        seen_imports: set[str] = set()
        position, size = start, count

        def known(import_id: str) -> bool:  # committed, and learned so before this run started
            return self._committed.get(import_id, started + 1) <= started

        while True:
            batch = read(position, size)
            import_ids = _import_ids(batch)
            self._learn(import_ids)
            seen_imports |= import_ids
            found += [(document, version) for document in batch
                      if (version := visible_version(document, known)) is not None]
            if len(found) >= count or len(batch) < size:
                return found[:count], seen_imports
            position, size = batch[-1], min(size * 2, max(batch_max, count))

    def uncommitted(self, import_ids: list[str]) -> list[str]:
        """Those of these imports that are not committed (as far as the journal says now)."""
        self._learn(set(import_ids))
        return [import_id for import_id in import_ids if import_id not in self._committed]

    def _version(self, document: dict, late: frozenset[str]) -> dict | None:
        committed = self._committed
        return visible_version(document, lambda import_id: import_id in committed and import_id not in late)

    def _learned_since(self, import_ids: set[str], generation: int) -> frozenset[str]:
        committed = self._committed
        return frozenset(import_id for import_id in import_ids if committed.get(import_id, -1) > generation)

    def _learn(self, import_ids: set[str]) -> None:
        unknown = [import_id for import_id in import_ids if import_id not in self._committed]
        if not unknown:
            return
        found = [record[IMPORT_ID] for record in self._journal.find(
            {IMPORT_ID: {"$in": unknown}, STATE: COMMITTED}, {IMPORT_ID: True, "_id": False})]
        if found:
            with self._lock:
                self._remember(found)

    def _remember(self, import_ids: list[str]) -> None:
        self._generation += 1
        if len(self._committed) + len(import_ids) > _REMEMBERED_MAX:
            # Forgetting is safe: a forgotten import is asked again (and its next multi-document read
            # runs twice).
            for old in list(self._committed)[:_REMEMBERED_MAX // 2]:
                del self._committed[old]
        for import_id in import_ids:
            self._committed.setdefault(import_id, self._generation)


def _import_ids(documents: list[dict]) -> set[str]:
    return {import_id for document in documents for import_id in import_ids_of(document)}
