"""What an export holds after an upgrade, compared with what Optimize itself writes."""

import json
from datetime import UTC, datetime
from pathlib import Path

from contracts.entities import export_entity_from_stored, stored_entity_from_export
from contracts.export_file import read_export_file

TEMPLATE = (Path(__file__).resolve().parents[3] / "tests" / "fixtures" / "optimize-instant-preview"
            / "template2.json")


def test_a_migrated_median_is_a_percentile_number_as_optimize_writes_one():
    """Optimize writes a percentile's value as a number (its template2.json under
    instant_preview_dashboards: `"value" : 75.0`); the median of an old file becomes 50.0, not "50.0"."""
    written_by_optimize = json.loads(TEMPLATE.read_text())[1]["data"]["configuration"]["aggregationTypes"]
    report = {"id": "r", "exportEntityType": "single_process_report", "name": "Median",
              "sourceIndexVersion": 7, "collectionId": None,
              "data": {"definitions": [{"key": "invoice", "versions": ["1"], "tenantIds": [None]}],
                       "configuration": {"aggregationTypes": ["median"]}}}

    [upgraded] = read_export_file([report]).entities

    [aggregation] = upgraded["data"]["configuration"]["aggregationTypes"]
    assert aggregation == {"type": "percentile", "value": 50.0}
    assert type(aggregation["value"]) is type(written_by_optimize[0]["value"]) is float
    assert json.dumps(aggregation) == '{"type": "percentile", "value": 50.0}'


def test_a_dashboard_upgraded_from_version_4_is_exported_without_fields_optimizes_export_lacks():
    """DashboardDefinitionExportDto has tiles, availableFilters, collectionId and instantPreviewDashboard,
    but neither refreshRateSeconds nor managementDashboard (added by the 4->5 and 5->6 upgrades)."""
    old = {"id": "d", "exportEntityType": "dashboard", "name": "Old", "sourceIndexVersion": 4,
           "collectionId": None, "reports": [], "availableFilters": []}
    [upgraded] = read_export_file([old]).entities
    document = stored_entity_from_export(upgraded, entity_id="d", owner="demo", collection_id=None,
                                         now=datetime(2024, 1, 1, tzinfo=UTC))

    exported = export_entity_from_stored(document)

    assert list(exported) == ["id", "exportEntityType", "name", "description", "sourceIndexVersion",
                              "collectionId", "tiles", "availableFilters", "instantPreviewDashboard"]
