"""A single report's data typed as Optimize types it (ReportConstants, ProcessFilterDto's and
DecisionFilterDto's JsonSubTypes, ProcessReportDataDto's fields)."""

import json
from pathlib import Path

import pytest

from contracts.export_file import read_export_file

TEMPLATES = Path(__file__).resolve().parents[3] / "tests" / "fixtures" / "optimize-instant-preview"


def report(entity_type="single_process_report", **data):
    return {"id": "r", "exportEntityType": entity_type, "name": "R", "description": None,
            "sourceIndexVersion": 11 if entity_type == "single_process_report" else 10, "collectionId": None,
            "data": {"definitions": [{"key": "k", "versions": ["1"], "tenantIds": [None]}], **data}}


@pytest.mark.parametrize(("data", "path"), [
    ({"view": {"entity": "processInstanz", "properties": ["frequency"]}}, "[0].data.view.entity"),
    ({"view": {"entity": "flowNode", "properties": ["speed"]}}, "[0].data.view.properties[0]"),
    ({"groupBy": {"type": "weekday", "value": None}}, "[0].data.groupBy.type"),
    ({"distributedBy": {"type": "tenant", "value": None}}, "[0].data.distributedBy.type"),
    ({"visualization": "donut"}, "[0].data.visualization"),
    ({"configuration": {"aggregationTypes": [{"type": "median", "value": None}]}},
     "[0].data.configuration.aggregationTypes[0].type"),
    ({"filter": [{"type": "startDate", "data": None, "filterLevel": "instance", "appliedTo": ["all"]}]},
     "[0].data.filter[0].type"),
])
def test_a_value_outside_optimizes_enums_is_refused_naming_its_path(data, path):
    """Optimize's reader fails on an enum value or filter type it does not know (importFileInvalid)."""
    reading = read_export_file([report(**data)])

    assert [error["path"] for error in reading.validation_errors] == [path]
    assert "Optimize knows" in reading.validation_errors[0]["message"]


def test_decision_reports_have_their_own_groupings_and_filters():
    """DecisionFilterDto: evaluationDateTime, inputVariable, outputVariable; decision groupings."""
    good = report("single_decision_report", groupBy={"type": "matchedRule"},
                  filter=[{"type": "inputVariable", "data": {}}])
    bad = report("single_decision_report", groupBy={"type": "flowNodes"},
                 filter=[{"type": "runningInstancesOnly", "data": None}])

    assert read_export_file([good]).ok
    assert [e["path"] for e in read_export_file([bad]).validation_errors] == [
        "[0].data.groupBy.type", "[0].data.filter[0].type"]


def test_keys_optimize_does_not_read_are_dropped_with_a_warning():
    """ProcessReportDataDto has no such field: Optimize's reader ignores it, so it is not stored."""
    reading = read_export_file([report(visualization="number", colour="red", userTaskReport=False)])

    [entity] = reading.entities
    assert "colour" not in entity["data"] and "userTaskReport" not in entity["data"]
    assert reading.warnings == {"r": ["data.colour is not part of an Optimize report and was dropped."]}


def test_optimizes_own_templates_read_without_a_problem():
    """The enums include what Optimize's current instant-preview template writes."""
    reading = read_export_file(json.loads((TEMPLATES / "template2.json").read_text()))

    assert reading.ok, reading.validation_errors
    assert reading.warnings == {}


def test_a_long_or_odd_value_is_not_echoed_whole():
    reading = read_export_file([report(visualization="x" * 10_000), report(view={"entity": ["list"]})])

    messages = [error["message"] for error in reading.validation_errors]
    assert all(len(message) < 300 for message in messages)
