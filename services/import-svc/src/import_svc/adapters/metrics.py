"""import-svc's own Prometheus series: import requests by outcome, entities written by type and operation.
The importer and authoring report what happened; this module counts it."""

import collections

from prometheus_client import Counter

from contracts.errors import ErrorCode, ServiceError

IMPORTS = Counter(
    "optimize_imports", "Import requests, by outcome (imported, replayed, dry_run, rejected, failed) and "
    "errorCode; a retry answered with the first import's result is replayed, not imported",
    ["outcome", "error_code"])
ENTITIES_WRITTEN = Counter(
    "optimize_entities_written", "Entities written to the entity store, by entity type and operation "
    "(imported, created, updated, deleted)", ["entity_type", "operation"])


class ImportMetrics:
    def imported(self, outcome: list[dict]) -> None:
        """An import that wrote these entities (overwriting: updated ones as updated, unchanged not)."""
        IMPORTS.labels("imported", "").inc()
        operation = {"created": "imported", "updated": "updated"}
        written = collections.Counter((entity["entityType"], operation[entity.get("action", "created")])
                                      for entity in outcome if entity.get("action") != "unchanged")
        for (entity_type, how), count in written.items():
            self.written(entity_type, how, count)

    def replayed(self) -> None:
        """A retry (same Idempotency-Key) answered with the first import's result: nothing written."""
        IMPORTS.labels("replayed", "").inc()

    def dry_run(self) -> None:
        IMPORTS.labels("dry_run", "").inc()

    def refused(self, error: ServiceError) -> None:
        """Rejected with the errorCode a user sees, or failed when the service could not do it."""
        IMPORTS.labels("rejected" if error.status < 500 else "failed", error.code.value).inc()

    def failed(self) -> None:
        IMPORTS.labels("failed", ErrorCode.SERVER_ERROR.value).inc()

    def written(self, entity_type: str, operation: str, count: int = 1) -> None:
        if count:
            ENTITIES_WRITTEN.labels(entity_type, operation).inc(count)
