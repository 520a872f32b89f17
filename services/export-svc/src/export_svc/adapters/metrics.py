"""export-svc's own Prometheus series: export files made, and the entities written into them."""

import collections

from prometheus_client import Counter

EXPORTS = Counter(
    "optimize_exports", "Export files produced, by what was exported (report, dashboard, collection) "
    "and API (user, public)", ["entity_type", "api"])
EXPORTED_ENTITIES = Counter(
    "optimize_exported_entities", "Entities written into export files, by entity type", ["entity_type"])


class ExportMetrics:
    def exported(self, entity_type: str, api: str, entities: list[dict]) -> None:
        """One export file of `entity_type` made through `api` (user, public), holding `entities`."""
        EXPORTS.labels(entity_type, api).inc()
        # One increment per type, not per entity: under gunicorn each one is a write to a shared file.
        by_type = collections.Counter(entity["exportEntityType"] for entity in entities)
        for export_type, count in by_type.items():
            EXPORTED_ENTITIES.labels(export_type).inc(count)
