"""Writing an import plan: every entity in one transaction, with the outcome of a retry-safe import
(Idempotency-Key) recorded in the same transaction, so a recorded outcome always names stored entities."""

import json
import logging
from collections.abc import Callable
from datetime import UTC, datetime

from pymongo.client_session import ClientSession
from pymongo.database import Database
from pymongo.errors import PyMongoError

from contracts.errors import ErrorCode, ServiceError, service_unavailable
from import_svc.adapters.entity_store import EntityStore
from import_svc.domain.importing import Idempotency, ImportPlan

log = logging.getLogger(__name__)

JOURNAL_COLLECTION = "import_journal"


class _RecordedMeanwhile(Exception):
    """A concurrent import with the same key committed first; ours is aborted."""

    def __init__(self, record: dict) -> None:
        super().__init__(record["_id"])
        self.record = record


def _store_down(error: PyMongoError) -> ServiceError:
    log.warning("the entity store failed during an import: %r", error)
    return service_unavailable("The entity store is not available; nothing was imported. Try again later.")


class ImportJournal:
    """The ImportStore of the importer, on the entity store's database."""

    def __init__(self, db: Database, entities: EntityStore) -> None:
        self._journal = db[JOURNAL_COLLECTION]
        self._entities = entities
        # Runs inside the transaction after every write; raising aborts it (tests stop imports with it).
        self.before_commit: Callable[[ImportPlan], None] | None = None

    def recorded_outcome(self, idempotency: Idempotency) -> list[dict] | None:
        try:
            record = self._journal.find_one({"_id": _record_id(idempotency)})
        except PyMongoError as error:
            raise _store_down(error) from error
        return None if record is None else _outcome_of(record, idempotency)

    def write(self, plan: ImportPlan, outcome: list[dict], idempotency: Idempotency | None) -> list[dict]:
        def record(session: ClientSession) -> None:
            if idempotency is not None:
                # Checked again inside the transaction: under the write gate, or by MongoDB's write
                # conflict on real MongoDB, a concurrent retry with the same key cannot slip in.
                recorded = self._journal.find_one({"_id": _record_id(idempotency)}, session=session)
                if recorded is not None:
                    raise _RecordedMeanwhile(recorded)
                self._journal.insert_one({
                    "_id": _record_id(idempotency), "userId": idempotency.user_id, "key": idempotency.key,
                    "digest": idempotency.digest, "importId": plan.import_id, "outcome": outcome,
                    "created": datetime.now(UTC)}, session=session)
            if self.before_commit is not None:
                self.before_commit(plan)

        try:
            self._entities.insert_all(plan.documents, before_commit=record)
        except _RecordedMeanwhile as meanwhile:
            return _outcome_of(meanwhile.record, idempotency)
        except PyMongoError as error:
            raise _store_down(error) from error
        return outcome

    def storage_problem(self, entity: dict) -> str | None:
        return self._entities.storage_problem(entity)


def _record_id(idempotency: Idempotency) -> str:
    return json.dumps([idempotency.user_id, idempotency.key])


def _outcome_of(record: dict, idempotency: Idempotency) -> list[dict]:
    if record["digest"] != idempotency.digest:
        raise ServiceError(
            ErrorCode.CONFLICT,
            f"The Idempotency-Key '{idempotency.key}' was already used for another import",
            "Send a new Idempotency-Key for a different file or collection",
            importId=record["importId"])
    return record["outcome"]
