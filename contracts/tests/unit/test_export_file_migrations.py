"""Each upgrade step, from a small entity of the shape Optimize exported at the older version."""

import copy

import pytest

from contracts.export_file import CURRENT_VERSIONS, upgrade_entity, validate_current_entity
from contracts.export_file.migrations import (
    MIGRATIONS,
    combined_report,
    dashboard,
    decision_report,
    process_report,
)


def process_report_v5(**overrides):
    report = {
        "id": "report-1",
        "exportEntityType": "single_process_report",
        "name": "Invoice duration",
        "sourceIndexVersion": 5,
        "collectionId": None,
        "data": {
            "processDefinitionKey": "invoice",
            "processDefinitionName": "Invoice Receipt",
            "processDefinitionVersions": ["1", "2"],
            "tenantIds": ["acme"],
            "filter": [{"type": "startDate", "filterLevel": "instance", "data": {"type": "rolling"}}],
            "view": {"entity": "flowNode", "property": "duration"},
            "groupBy": {"type": "flowNodes", "value": None},
            "visualization": "heat",
            "configuration": {
                "color": "#1991c8",
                "aggregationType": "median",
                "userTaskDurationTime": "work",
                "flowNodeExecutionState": "running",
                "columnOrder": {"instanceProps": ["processInstanceId"], "variables": ["variable:amount"]},
                "targetValue": {
                    "active": False,
                    "countProgress": {"baseline": "0", "target": "100"},
                    "durationProgress": {
                        "baseline": {"unit": "hours", "value": "0"},
                        "target": {"unit": "hours"},
                    },
                },
                "xml": "<bpmn:definitions/>",
            },
        },
    }
    report.update(overrides)
    return report


def decision_report_v5(**overrides):
    report = {
        "id": "decision-1",
        "exportEntityType": "single_decision_report",
        "name": "Dish decisions",
        "sourceIndexVersion": 5,
        "collectionId": None,
        "data": {
            "decisionDefinitionKey": "dish",
            "decisionDefinitionName": "Dish",
            "decisionDefinitionVersions": ["all"],
            "filter": [{"type": "evaluationDateTime", "data": {"type": "rolling"}}],
            "view": {"property": "frequency"},
            "groupBy": {"type": "none", "value": None},
            "visualization": "number",
            "configuration": {
                "columnOrder": {
                    "instanceProps": ["decisionInstanceId"],
                    "inputVariables": ["input:season"],
                    "outputVariables": ["output:dish"],
                    "variables": [],
                },
                "targetValue": {"active": False, "countProgress": {"baseline": "0", "target": "100"}},
            },
        },
    }
    report.update(overrides)
    return report


def combined_report_v4(**overrides):
    report = {
        "id": "combined-1",
        "exportEntityType": "combined_report",
        "name": "Both",
        "sourceIndexVersion": 4,
        "collectionId": None,
        "data": {
            "reports": [{"id": "report-1", "color": "#1991c8"}],
            "configuration": {},
            "visualization": "bar",
        },
    }
    report.update(overrides)
    return report


def dashboard_v4(**overrides):
    board = {
        "id": "dashboard-1",
        "exportEntityType": "dashboard",
        "name": "Invoices",
        "sourceIndexVersion": 4,
        "collectionId": None,
        "reports": [
            {"id": "report-1", "position": {"x": 0, "y": 0}, "dimensions": {"width": 4, "height": 2}},
            {
                "id": "",
                "position": {"x": 4, "y": 0},
                "dimensions": {"width": 4, "height": 2},
                "configuration": {"external": "https://camunda.com"},
            },
        ],
        "availableFilters": [
            {"type": "startDate", "data": {"type": "fixed", "start": None, "end": None}},
            {"type": "state", "data": {}},
        ],
    }
    board.update(overrides)
    return board


def at_version(entity, version, **overrides):
    """The entity upgraded to `version` by the real steps, with top-level fields then replaced."""
    while entity["sourceIndexVersion"] < version:
        entity = MIGRATIONS[(entity["exportEntityType"], entity["sourceIndexVersion"])](entity)
    return {**entity, **overrides}


def with_data(entity, **data_overrides):
    return {**entity, "data": {**entity["data"], **data_overrides}}


def with_configuration(entity, **configuration_overrides):
    configuration = {**entity["data"]["configuration"], **configuration_overrides}
    return with_data(entity, configuration=configuration)


def applied(step, entity):
    """Runs a step, checking it is pure and that running it again changes nothing."""
    original = copy.deepcopy(entity)
    upgraded = step(entity)
    assert entity == original, "a step must not change its input"
    assert step(upgraded) == upgraded, "a step run twice must change nothing more"
    return upgraded


# ---------- process report ----------


def test_process_5_to_6_turns_flow_node_state_into_a_view_filter_and_measures_into_lists():
    report = applied(process_report.upgrade_5_to_6, process_report_v5())

    configuration = report["data"]["configuration"]
    assert report["sourceIndexVersion"] == 6
    assert "flowNodeExecutionState" not in configuration
    assert report["data"]["filter"][-1] == {
        "type": "runningFlowNodesOnly",
        "filterLevel": "view",
        "data": None,
    }
    assert configuration["aggregationTypes"] == ["median"]
    assert configuration["userTaskDurationTimes"] == ["work"]
    assert "aggregationType" not in configuration and "userTaskDurationTime" not in configuration
    assert report["data"]["view"] == {"entity": "flowNode", "properties": ["duration"]}
    assert configuration["tableColumns"]["columnOrder"] == ["processInstanceId", "variable:amount"]
    assert "columnOrder" not in configuration
    assert configuration["xml"] == "<bpmn:definitions/>"


@pytest.mark.parametrize(
    ("state", "filter_type"),
    [
        ("completed", "completedOrCanceledFlowNodesOnly"),
        ("running", "runningFlowNodesOnly"),
        ("canceled", "canceledFlowNodesOnly"),
    ],
)
def test_process_5_to_6_maps_each_flow_node_state(state, filter_type):
    report = applied(
        process_report.upgrade_5_to_6, with_configuration(process_report_v5(), flowNodeExecutionState=state)
    )

    assert report["data"]["filter"][-1]["type"] == filter_type


def test_process_5_to_6_drops_flow_node_state_without_filter_for_instance_views_and_all():
    instance_view = with_data(
        process_report_v5(), view={"entity": "processInstance", "property": "frequency"}
    )
    all_states = with_configuration(process_report_v5(), flowNodeExecutionState="all")

    for report in (instance_view, all_states):
        upgraded = applied(process_report.upgrade_5_to_6, report)
        assert len(upgraded["data"]["filter"]) == 1
        assert "flowNodeExecutionState" not in upgraded["data"]["configuration"]


def test_process_6_to_7_gathers_the_definition_and_applies_filters_to_it():
    report = applied(process_report.upgrade_6_to_7, at_version(process_report_v5(), 6))

    data = report["data"]
    [definition] = data["definitions"]
    assert report["sourceIndexVersion"] == 7
    assert {k: v for k, v in definition.items() if k != "identifier"} == {
        "key": "invoice",
        "name": "Invoice Receipt",
        "displayName": None,
        "versions": ["1", "2"],
        "tenantIds": ["acme"],
    }
    assert definition["identifier"]
    assert all(f["appliedTo"] == [definition["identifier"]] for f in data["filter"])
    assert not {
        "processDefinitionKey",
        "processDefinitionName",
        "processDefinitionVersions",
        "tenantIds",
    } & set(data)


def test_process_6_to_7_gives_the_default_tenant_when_none_was_named():
    report_v6 = at_version(process_report_v5(), 6)
    del report_v6["data"]["tenantIds"]

    report = applied(process_report.upgrade_6_to_7, report_v6)

    assert report["data"]["definitions"][0]["tenantIds"] == [None]


def test_process_7_to_8_adds_visualization_defaults_renames_date_filters_and_makes_aggregations_objects():
    report = applied(process_report.upgrade_7_to_8, at_version(process_report_v5(), 7))

    configuration = report["data"]["configuration"]
    assert report["sourceIndexVersion"] == 8
    assert configuration["measureVisualizations"] == {"frequency": "bar", "duration": "line"}
    assert configuration["stackedBar"] is False
    assert configuration["logScale"] is False
    assert report["data"]["filter"][0]["type"] == "instanceStartDate"
    assert configuration["aggregationTypes"] == [{"type": "percentile", "value": 50.0}]


def test_process_7_to_8_keeps_a_log_scale_that_was_set():
    report = applied(
        process_report.upgrade_7_to_8, with_configuration(at_version(process_report_v5(), 7), logScale=True)
    )

    assert report["data"]["configuration"]["logScale"] is True


@pytest.mark.parametrize(
    ("aggregations", "expected"),
    [
        (["avg", "max"], [{"type": "avg", "value": None}, {"type": "max", "value": None}]),
        (["median", "min"], [{"type": "percentile", "value": 50.0}, {"type": "min", "value": None}]),
        (
            [{"type": "avg", "value": None}, {"type": "percentile", "value": 95.0}],
            [{"type": "avg", "value": None}, {"type": "percentile", "value": 95.0}],
        ),
    ],
    ids=["plain strings", "median strings", "objects already"],
)
def test_version_8_reports_in_each_aggregation_shape_upgrade_to_objects(aggregations, expected):
    report_v8 = with_configuration(at_version(process_report_v5(), 8), aggregationTypes=aggregations)

    report, original_version = upgrade_entity(report_v8)

    assert original_version == 8
    assert report["data"]["configuration"]["aggregationTypes"] == expected
    assert validate_current_entity(report) == []


def test_process_8_to_9_adds_kpi_fields_and_marks_it_no_management_report():
    report = applied(process_report.upgrade_8_to_9, at_version(process_report_v5(), 8))

    target_value = report["data"]["configuration"]["targetValue"]
    assert report["sourceIndexVersion"] == 9
    assert target_value["isKpi"] is False
    assert target_value["durationProgress"]["target"] == {"unit": "hours", "isBelow": False}
    assert target_value["countProgress"]["isBelow"] is False
    assert report["data"]["managementReport"] is False


def test_process_8_to_9_keeps_a_kpi_that_was_set():
    report_v8 = at_version(process_report_v5(), 8)
    report_v8["data"]["configuration"]["targetValue"]["isKpi"] = True

    report = applied(process_report.upgrade_8_to_9, report_v8)

    assert report["data"]["configuration"]["targetValue"]["isKpi"] is True


def test_process_9_to_10_marks_it_no_instant_preview():
    report = applied(process_report.upgrade_9_to_10, at_version(process_report_v5(), 9))

    assert report["sourceIndexVersion"] == 10
    assert report["data"]["instantPreviewReport"] is False


def test_process_10_to_11_adds_description_and_renames_count_columns():
    report_v10 = at_version(process_report_v5(), 10)
    report_v10["data"]["configuration"]["tableColumns"] = {
        "includeNewVariables": True,
        "includedColumns": ["numberOfUserTasks"],
        "excludedColumns": ["numberOfIncidents", "variable:amount"],
        "columnOrder": ["numberOfOpenIncidents", "processInstanceId"],
    }

    report = applied(process_report.upgrade_10_to_11, report_v10)

    table_columns = report["data"]["configuration"]["tableColumns"]
    assert report["sourceIndexVersion"] == 11
    assert report["description"] is None
    assert table_columns["includedColumns"] == ["count:userTasks"]
    assert table_columns["excludedColumns"] == ["count:incidents", "variable:amount"]
    assert table_columns["columnOrder"] == ["count:openIncidents", "processInstanceId"]


def test_process_10_to_11_keeps_a_description():
    report = applied(process_report.upgrade_10_to_11, at_version(process_report_v5(), 10, description="Why"))

    assert report["description"] == "Why"


def test_process_report_upgrades_from_5_to_11_and_is_valid():
    original = process_report_v5()

    report, original_version = upgrade_entity(original)

    assert original_version == 5
    assert report["sourceIndexVersion"] == CURRENT_VERSIONS["single_process_report"] == 11
    assert validate_current_entity(report) == []
    assert report["data"]["definitions"][0]["key"] == "invoice"
    assert report["data"]["configuration"]["aggregationTypes"] == [{"type": "percentile", "value": 50.0}]
    assert report["data"]["managementReport"] is False and report["data"]["instantPreviewReport"] is False
    assert original == process_report_v5()
    assert upgrade_entity(report) == (report, None)


# ---------- decision report ----------


def test_decision_5_to_6_makes_view_properties_and_table_columns():
    report = applied(decision_report.upgrade_5_to_6, decision_report_v5())

    assert report["sourceIndexVersion"] == 6
    assert report["data"]["view"] == {"properties": ["frequency"]}
    assert report["data"]["configuration"]["tableColumns"]["columnOrder"] == [
        "decisionInstanceId",
        "input:season",
        "output:dish",
    ]


def test_decision_6_to_7_gathers_the_definition():
    report = applied(decision_report.upgrade_6_to_7, at_version(decision_report_v5(), 6))

    [definition] = report["data"]["definitions"]
    assert (definition["key"], definition["versions"], definition["tenantIds"]) == ("dish", ["all"], [None])
    assert report["data"]["filter"][0]["appliedTo"] == [definition["identifier"]]
    assert "decisionDefinitionKey" not in report["data"]


def test_decision_7_to_8_adds_visualization_defaults():
    report = applied(decision_report.upgrade_7_to_8, at_version(decision_report_v5(), 7))

    configuration = report["data"]["configuration"]
    assert report["sourceIndexVersion"] == 8
    assert (configuration["stackedBar"], configuration["logScale"]) == (False, False)
    assert report["data"]["filter"][0]["type"] == "evaluationDateTime"


def test_decision_8_to_9_adds_kpi_fields():
    report = applied(decision_report.upgrade_8_to_9, at_version(decision_report_v5(), 8))

    target_value = report["data"]["configuration"]["targetValue"]
    assert (target_value["isKpi"], target_value["countProgress"]["isBelow"]) == (False, False)


def test_decision_9_to_10_adds_description():
    report = applied(decision_report.upgrade_9_to_10, at_version(decision_report_v5(), 9))

    assert report["sourceIndexVersion"] == 10
    assert report["description"] is None


def test_decision_report_upgrades_from_5_to_10_and_is_valid():
    report, original_version = upgrade_entity(decision_report_v5())

    assert (original_version, report["sourceIndexVersion"]) == (5, 10)
    assert validate_current_entity(report) == []


# ---------- combined report ----------


def test_combined_4_to_5_adds_description_and_keeps_the_children():
    report = applied(combined_report.upgrade_4_to_5, combined_report_v4())

    assert report["sourceIndexVersion"] == 5
    assert report["description"] is None
    assert report["data"]["reports"] == [{"id": "report-1", "color": "#1991c8"}]
    assert validate_current_entity(report) == []


# ---------- dashboard ----------


def test_dashboard_4_to_5_adds_refresh_rate_and_renames_date_filters():
    board = applied(dashboard.upgrade_4_to_5, dashboard_v4())

    assert board["sourceIndexVersion"] == 5
    assert board["refreshRateSeconds"] is None
    assert [f["type"] for f in board["availableFilters"]] == ["instanceStartDate", "state"]


def test_dashboard_5_to_6_marks_it_no_management_dashboard():
    board = applied(dashboard.upgrade_5_to_6, at_version(dashboard_v4(), 5))

    assert board["managementDashboard"] is False


def test_dashboard_6_to_7_turns_reports_into_typed_tiles():
    board = applied(dashboard.upgrade_6_to_7, at_version(dashboard_v4(), 6))

    assert "reports" not in board
    assert [(tile["id"], tile["type"]) for tile in board["tiles"]] == [
        ("report-1", "optimize_report"),
        ("", "external_url"),
    ]
    assert board["tiles"][1]["configuration"] == {"external": "https://camunda.com"}
    assert board["instantPreviewDashboard"] is False
    assert list(board).index("tiles") == list(dashboard_v4()).index("reports")


def test_dashboard_7_to_8_adds_description():
    board = applied(dashboard.upgrade_7_to_8, at_version(dashboard_v4(), 7))

    assert board["sourceIndexVersion"] == 8
    assert board["description"] is None


def test_dashboard_upgrades_from_4_to_8_and_is_valid():
    board, original_version = upgrade_entity(dashboard_v4())

    assert (original_version, board["sourceIndexVersion"]) == (4, 8)
    assert validate_current_entity(board) == []


def test_every_step_of_every_entity_type_is_registered():
    assert set(MIGRATIONS) == {
        *(("single_process_report", v) for v in range(5, 11)),
        *(("single_decision_report", v) for v in range(5, 10)),
        ("combined_report", 4),
        *(("dashboard", v) for v in range(4, 8)),
    }
