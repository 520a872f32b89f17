"""The stored entity document: what the entity list needs beside the content, kept losslessly."""

from datetime import UTC, datetime, timedelta, timezone

import pytest

from contracts.entities import export_entity_from_stored, stored_entity_from_export
from contracts.export_file import validate_current_entity

NOW = datetime(2024, 5, 17, 11, 30, 12, 345678, tzinfo=timezone(timedelta(hours=2)))


def decision_report(**overrides) -> dict:
    return {
        "id": "source-id", "exportEntityType": "single_decision_report", "name": "Approvals",
        "description": "Who approves", "sourceIndexVersion": 10, "collectionId": "somewhere-else",
        "data": {"definitions": [{"key": "approve", "versions": ["1"], "tenantIds": [None]}],
                 "view": {"properties": ["frequency"]}, "unknownToUs": {"b": 1, "a": [2, {"z": None}]}},
        **overrides,
    }


def stored(entity: dict, **overrides) -> dict:
    arguments = {"entity_id": "new-id", "owner": "kermit", "collection_id": "c1", "now": NOW, **overrides}
    return stored_entity_from_export(entity, **arguments)


def test_a_report_document_has_the_list_fields_and_the_data_as_given():
    document = stored(decision_report(), import_id="import-1")

    assert document == {
        "_id": "new-id", "id": "new-id", "entityType": "report", "exportEntityType": "single_decision_report",
        "reportType": "decision", "combined": False, "name": "Approvals", "description": "Who approves",
        "collectionId": "c1", "owner": "kermit", "lastModifier": "kermit",
        "created": datetime(2024, 5, 17, 9, 30, 12, 345000, tzinfo=UTC),
        "lastModified": datetime(2024, 5, 17, 9, 30, 12, 345000, tzinfo=UTC),
        "schemaVersion": 10, "importId": "import-1", "data": decision_report()["data"],
    }


def test_the_document_does_not_share_content_with_the_entity():
    entity = decision_report()
    document = stored(entity)
    document["data"]["unknownToUs"]["a"].append(3)
    assert entity["data"]["unknownToUs"]["a"] == [2, {"z": None}]


def test_back_to_an_export_entity_in_optimizes_field_order():
    entity = export_entity_from_stored(stored(decision_report()))

    assert list(entity) == ["id", "exportEntityType", "name", "description", "sourceIndexVersion",
                            "collectionId", "data"]
    assert entity == {**decision_report(), "id": "new-id", "collectionId": "c1"}
    assert validate_current_entity(entity) == []


def test_a_combined_report_is_listed_as_a_combined_process_report():
    combined = {"id": "x", "exportEntityType": "combined_report", "name": "Both", "description": None,
                "sourceIndexVersion": 5, "collectionId": None,
                "data": {"reports": [{"id": "a", "color": "#1991c8"}], "configuration": {}}}
    document = stored(combined, collection_id=None)
    assert (document["reportType"], document["combined"], document["collectionId"]) == ("process", True, None)


def test_a_dashboard_keeps_its_tiles_filters_and_the_flags_it_came_with():
    dashboard = {"id": "d", "exportEntityType": "dashboard", "name": "Board", "description": None,
                 "sourceIndexVersion": 8, "collectionId": None,
                 "tiles": [{"id": "", "type": "text", "position": {"x": 0, "y": 0},
                            "dimensions": {"width": 2, "height": 2}, "configuration": {"text": None}}],
                 "availableFilters": [{"type": "instanceStartDate", "data": None}],
                 "instantPreviewDashboard": False}
    document = stored(dashboard)
    assert (document["entityType"], document["reportType"]) == ("dashboard", None)
    assert "refreshRateSeconds" not in document

    again = export_entity_from_stored(document)
    assert again == {**dashboard, "id": "new-id", "collectionId": "c1"}
    assert list(again)[6:] == ["tiles", "availableFilters", "instantPreviewDashboard"]


def test_a_dashboard_stored_without_the_preview_flag_is_exported_with_it_as_optimize_writes_it():
    document = stored({"id": "d", "exportEntityType": "dashboard", "name": "Board", "description": None,
                       "sourceIndexVersion": 8, "collectionId": None, "tiles": []})
    del document["instantPreviewDashboard"]  # as documents stored before the flag was always kept

    entity = export_entity_from_stored(document)

    assert list(entity) == ["id", "exportEntityType", "name", "description", "sourceIndexVersion",
                            "collectionId", "tiles", "availableFilters", "instantPreviewDashboard"]
    assert entity["instantPreviewDashboard"] is False
    assert stored(entity)["instantPreviewDashboard"] is False


def test_only_current_versions_are_stored():
    with pytest.raises(ValueError, match="version 9"):
        stored(decision_report(sourceIndexVersion=9))
