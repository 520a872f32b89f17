"""The export file: Optimize's JSON array of reports and dashboards, its versions and their upgrades.

Paths in validation errors read like `[3].data.definitions[0].key` (see `json_path`).
"""

from contracts.export_file.reading import ExportFileReading, read_export_file
from contracts.export_file.references import definitions_of, referenced_report_ids
from contracts.export_file.upgrade import VersionNotUpgradable, upgrade_entity
from contracts.export_file.validation import validate_current_entity
from contracts.export_file.versions import (
    CURRENT_VERSIONS,
    ENTITY_TYPES,
    INDEX_NAMES,
    MAX_NESTING_DEPTH,
    OLDEST_VERSIONS,
)

__all__ = [
    "CURRENT_VERSIONS",
    "ENTITY_TYPES",
    "INDEX_NAMES",
    "MAX_NESTING_DEPTH",
    "OLDEST_VERSIONS",
    "ExportFileReading",
    "VersionNotUpgradable",
    "definitions_of",
    "read_export_file",
    "referenced_report_ids",
    "upgrade_entity",
    "validate_current_entity",
]
