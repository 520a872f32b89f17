"""Entity types of an export file and the schema versions (`sourceIndexVersion`) we read and write."""

ENTITY_TYPES = ("single_process_report", "single_decision_report", "combined_report", "dashboard")

# Optimize's own index versions, unchanged from 3.11 through 8.x.
CURRENT_VERSIONS = {
    "single_process_report": 11,
    "single_decision_report": 10,
    "combined_report": 5,
    "dashboard": 8,
}

# What Optimize 3.3, the first release with export files, wrote.
OLDEST_VERSIONS = {
    "single_process_report": 5,
    "single_decision_report": 5,
    "combined_report": 4,
    "dashboard": 4,
}

# Optimize's full index names, as its ReportImportService/DashboardImportService name them in
# `mismatchingIndices`: prefix, index name and the target's version (`optimize-dashboard_v8`).
INDEX_NAMES = {
    entity_type: f"optimize-{name}_v{CURRENT_VERSIONS[entity_type]}"
    for entity_type, name in (
        ("single_process_report", "single-process-report"),
        ("single_decision_report", "single-decision-report"),
        ("combined_report", "combined-report"),
        ("dashboard", "dashboard"),
    )
}

# The target's platform: Camunda 7 (engine tenants, `null` for none) or Camunda 8 (`<default>` tenant).
PLATFORMS = ("c7", "c8")
C8_DEFAULT_TENANT = "<default>"

REPORT_TYPES = ("single_process_report", "single_decision_report", "combined_report")
SINGLE_REPORT_TYPES = ("single_process_report", "single_decision_report")

# Deeper than any real Optimize entity, shallow enough to walk and copy safely.
MAX_NESTING_DEPTH = 64


def entity_type_of(entity: dict) -> str | None:
    """The entity's `exportEntityType` if it is one we know, else None (whatever the file holds there)."""
    entity_type = entity.get("exportEntityType")
    return entity_type if isinstance(entity_type, str) and entity_type in ENTITY_TYPES else None
