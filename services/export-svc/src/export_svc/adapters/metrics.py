"""export-svc's own Prometheus series: export files made, and the entities written into them."""

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
        for entity in entities:
            EXPORTED_ENTITIES.labels(entity["exportEntityType"]).inc()
