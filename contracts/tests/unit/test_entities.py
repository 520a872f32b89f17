"""The stored entity document: what the entity list needs beside the content, kept losslessly; its
content digest, byte for byte what earlier imports stored."""

import hashlib
import json
from datetime import UTC, datetime, timedelta, timezone

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from contracts.entities import (
    content_digest,
    export_entity_from_stored,
    stored_entity_from_export,
    stored_time,
)
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


def digest_as_first_written(document: dict) -> str:
    """`content_digest` as imports computed it before its encoder was made once: their digests are stored."""
    fields = ("name", "description", "tiles", "availableFilters", "instantPreviewDashboard",
              "refreshRateSeconds", "managementDashboard") if document["exportEntityType"] == "dashboard" \
        else ("name", "description", "data")
    content = {field: document.get(field) for field in fields}
    text = json.dumps([document["exportEntityType"], content], sort_keys=True, ensure_ascii=False,
                      separators=(",", ":"), default=str)
    return hashlib.sha256(text.encode()).hexdigest()


def _outcome(digest, document):
    try:
        return digest(document)
    except Exception as error:  # noqa: BLE001 - the same failure is the same answer
        return type(error)


SCALARS = (st.none() | st.booleans() | st.integers(min_value=-2**70, max_value=2**70) | st.floats()
           | st.text() | st.datetimes(timezones=st.just(UTC))
           | st.sampled_from(["\ud800", "\x00", "\u2028", "é𝄞"]))
VALUES = st.recursive(SCALARS, lambda inner: st.lists(inner, max_size=4)
                      | st.dictionaries(st.text(max_size=5), inner, max_size=4), max_leaves=25)
CONTENT_FIELDS = st.fixed_dictionaries({}, optional={
    "name": VALUES, "description": VALUES, "data": VALUES, "tiles": VALUES, "availableFilters": VALUES,
    "instantPreviewDashboard": VALUES, "refreshRateSeconds": VALUES, "managementDashboard": VALUES,
    "owner": VALUES})


@settings(derandomize=True, database=None, max_examples=400, deadline=None,
          suppress_health_check=list(HealthCheck))
@given(entity_type=st.sampled_from(["single_process_report", "combined_report", "dashboard"]),
       fields=CONTENT_FIELDS)
def test_the_content_digest_is_the_one_earlier_imports_stored(entity_type, fields):
    document = {"exportEntityType": entity_type, **fields}
    assert _outcome(content_digest, document) == _outcome(digest_as_first_written, document)


def test_the_digest_of_a_stored_report_is_unchanged():
    document = stored(decision_report(), import_id="import-1")
    assert content_digest(document) == digest_as_first_written(document)
    assert content_digest(document) != content_digest({**document, "name": "Renamed"})


@settings(derandomize=True, database=None, max_examples=300, deadline=None,
          suppress_health_check=list(HealthCheck))
@given(moment=st.datetimes(timezones=st.sampled_from([UTC, timezone(timedelta(hours=2))])),
       whole_milliseconds=st.booleans())
def test_a_stored_time_is_utc_to_the_millisecond_and_storing_it_again_changes_nothing(moment,
                                                                                     whole_milliseconds):
    if whole_milliseconds:
        moment = moment.replace(microsecond=moment.microsecond // 1000 * 1000)
    stored = stored_time(moment)
    expected = moment.astimezone(UTC)
    assert stored == expected.replace(microsecond=expected.microsecond // 1000 * 1000)
    assert stored.tzinfo is UTC and stored_time(stored) == stored
