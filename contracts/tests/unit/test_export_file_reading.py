"""Reading a whole export file: what a user sees when it is accepted, upgraded or refused."""

import json

import pytest

from contracts.errors import ServiceError
from contracts.export_file import (
    CURRENT_VERSIONS,
    ENTITY_TYPES,
    INDEX_NAMES,
    OLDEST_VERSIONS,
    definitions_of,
    read_export_file,
    referenced_report_ids,
    upgrade_entity,
    validate_current_entity,
)
from optimize_testing.pytest_plugin import REAL_OPTIMIZE_EXPORT

CARBON_REDUCTOR_EXPORT = REAL_OPTIMIZE_EXPORT
# Report ids in Optimize's form: a dashboard tile points at a report only by such an id.
REPORT_1 = "00000000-0000-4000-8000-000000000001"
REPORT_2 = "00000000-0000-4000-8000-000000000002"
INNER = "00000000-0000-4000-8000-0000000000aa"


def process_report(**overrides):
    report = {
        "id": REPORT_1,
        "exportEntityType": "single_process_report",
        "name": "Invoice duration",
        "description": None,
        "sourceIndexVersion": 11,
        "collectionId": None,
        "data": {
            "definitions": [
                {
                    "identifier": "definition",
                    "key": "invoice",
                    "name": "Invoice Receipt",
                    "displayName": "Invoice Receipt",
                    "versions": ["1"],
                    "tenantIds": [None],
                }
            ],
            "filter": [],
            "view": {"entity": "processInstance", "properties": ["duration"]},
            "groupBy": {"type": "none", "value": None},
            "visualization": "number",
            "configuration": {"aggregationTypes": [{"type": "avg", "value": None}], "xml": "<bpmn/>"},
            "managementReport": False,
            "instantPreviewReport": False,
        },
    }
    report.update(overrides)
    return report


def decision_report(**overrides):
    report = process_report(
        id="decision-1",
        exportEntityType="single_decision_report",
        sourceIndexVersion=10,
        data={
            "definitions": [{"key": "dish", "versions": ["all"], "tenantIds": ["acme"]}],
            "view": {"properties": ["frequency"]},
            "configuration": {},
        },
    )
    report.update(overrides)
    return report


def combined_report(**overrides):
    report = {
        "id": "combined-1",
        "exportEntityType": "combined_report",
        "name": "Both",
        "description": None,
        "sourceIndexVersion": 5,
        "collectionId": None,
        "data": {"reports": [{"id": REPORT_1, "color": "#1991c8"}], "configuration": {}},
    }
    report.update(overrides)
    return report


def tile(**overrides):
    return {
        "id": REPORT_1,
        "type": "optimize_report",
        "position": {"x": 0, "y": 0},
        "dimensions": {"width": 4, "height": 2},
        "configuration": None,
        **overrides,
    }


def dashboard(**overrides):
    board = {
        "id": "dashboard-1",
        "exportEntityType": "dashboard",
        "name": "Invoices",
        "description": None,
        "sourceIndexVersion": 8,
        "collectionId": None,
        "tiles": [
            tile(),
            tile(id="", type="external_url", configuration={"external": "https://camunda.com"}),
            tile(id="", type="text", configuration={"text": None}),
        ],
        "availableFilters": [],
    }
    board.update(overrides)
    return board


def errors_at(reading):
    return {(error["entityId"], error["path"]) for error in reading.validation_errors}


def nested(depth):
    value = {}
    for _ in range(depth):
        value = {"deeper": value}
    return value


# ---------- the real Optimize export ----------


def test_the_carbon_reductor_export_upgrades_to_seven_valid_current_entities():
    export = json.loads(CARBON_REDUCTOR_EXPORT.read_text())

    reading = read_export_file(export)

    assert reading.ok, (reading.validation_errors, reading.mismatching_indices)
    reports, [board] = reading.entities[:6], reading.entities[6:]
    assert [e["id"] for e in reading.entities] == [e["id"] for e in export]
    assert {(r["exportEntityType"], r["sourceIndexVersion"]) for r in reports} == {
        ("single_process_report", 11)
    }
    assert (board["exportEntityType"], board["sourceIndexVersion"]) == ("dashboard", 8)
    assert [t["type"] for t in board["tiles"]] == ["optimize_report"] * 6
    assert {t["id"] for t in board["tiles"]} == {r["id"] for r in reports}
    assert reading.upgraded_from == {**{r["id"]: 9 for r in reports}, board["id"]: 6}
    assert all(validate_current_entity(entity) == [] for entity in reading.entities)
    assert definitions_of(reading.entities) == [
        {"type": "process", "key": "NasaImageProcessing", "versions": ["all"], "tenantIds": [None]}
    ]


def test_the_carbon_reductor_export_keeps_report_data_it_does_not_know():
    export = json.loads(CARBON_REDUCTOR_EXPORT.read_text())

    [first, *_] = read_export_file(export).entities

    original = export[0]["data"]
    upgraded = first["data"]
    for key in ("filter", "view", "groupBy", "distributedBy", "visualization", "definitions"):
        assert upgraded[key] == original[key]
    assert upgraded["configuration"] == original["configuration"]
    assert upgraded["instantPreviewReport"] is False


def test_a_current_file_reads_back_exactly_as_given():
    export = [process_report(), decision_report(), combined_report(), dashboard()]

    reading = read_export_file(json.loads(json.dumps(export)))

    assert reading.ok
    assert reading.entities == export
    assert reading.upgraded_from == {}


def test_reading_copies_only_the_entities_it_changes_and_leaves_the_file_as_it_was():
    """An entity at the current version with nothing to drop is read where it is (no copy); one that is
    upgraded, or loses data keys Optimize does not read, is a copy: the file's own stays as it was, so that
    an identical repetition of it is still recognized."""
    unknown_key = process_report(id=REPORT_2, data={**process_report()["data"], "userTaskReport": False})
    older = combined_report(sourceIndexVersion=4)
    del older["description"]
    file = [process_report(), unknown_key, unknown_key, older, dashboard()]
    data = json.loads(json.dumps(file))

    reading = read_export_file(data)

    assert reading.ok, reading.validation_errors
    assert data == file
    assert [entity is data[position] for entity, position in zip(reading.entities, reading.positions,
                                                                   strict=True)] == [True, False, False, True]
    assert reading.positions == [0, 1, 3, 4]  # the repetition counted once
    assert reading.entities == [process_report(), process_report(id=REPORT_2), combined_report(), dashboard()]


def test_management_and_instant_preview_entities_are_not_file_errors():
    management = process_report(data={**process_report()["data"], "managementReport": True})
    preview = dashboard(id="dashboard-2", tiles=[], instantPreviewDashboard=True)

    assert read_export_file([management, preview]).ok


# ---------- versions ----------


@pytest.mark.parametrize("entity_type", ENTITY_TYPES)
def test_a_newer_version_is_a_mismatch_naming_both_versions(entity_type):
    factory = {
        "single_process_report": process_report,
        "single_decision_report": decision_report,
        "combined_report": combined_report,
        "dashboard": dashboard,
    }[entity_type]
    newer = CURRENT_VERSIONS[entity_type] + 1

    reading = read_export_file([process_report(), factory(id="newer", sourceIndexVersion=newer)])

    assert not reading.ok
    assert reading.mismatching_indices == [
        {
            "indexName": INDEX_NAMES[entity_type],
            "sourceIndexVersion": newer,
            "targetIndexVersion": CURRENT_VERSIONS[entity_type],
        }
    ]
    assert "newer" not in [e["id"] for e in reading.entities]


def test_a_version_older_than_the_oldest_upgrade_is_a_mismatch_naming_both_versions():
    reading = read_export_file(
        [process_report(sourceIndexVersion=4), dashboard(sourceIndexVersion=3, tiles=[])]
    )

    assert reading.mismatching_indices == [
        {"indexName": "optimize-single-process-report_v11", "sourceIndexVersion": 4,
         "targetIndexVersion": 11},
        {"indexName": "optimize-dashboard_v8", "sourceIndexVersion": 3, "targetIndexVersion": 8},
    ]
    assert reading.validation_errors == []


def test_the_same_mismatch_is_named_once():
    reading = read_export_file(
        [process_report(sourceIndexVersion=12), process_report(id="two", sourceIndexVersion=12)]
    )

    assert len(reading.mismatching_indices) == 1


def test_index_names_and_oldest_versions_are_optimizes():
    """Index names as ReportImportService.getFullyQualifiedIndexName and DashboardImportService name them."""
    assert INDEX_NAMES == {
        "single_process_report": "optimize-single-process-report_v11",
        "single_decision_report": "optimize-single-decision-report_v10",
        "combined_report": "optimize-combined-report_v5",
        "dashboard": "optimize-dashboard_v8",
    }
    assert OLDEST_VERSIONS == {
        "single_process_report": 5,
        "single_decision_report": 5,
        "combined_report": 4,
        "dashboard": 4,
    }


def test_upgrade_entity_refuses_a_version_it_cannot_upgrade():
    with pytest.raises(ValueError, match="12"):
        upgrade_entity(process_report(sourceIndexVersion=12))


# ---------- the file as a whole ----------


@pytest.mark.parametrize(
    ("body", "message"),
    [(7, "JSON array"), ("[]", "JSON array"), (None, "JSON array"), ([], "no entities")],
)
def test_a_body_that_is_no_list_of_entities_is_invalid(body, message):
    reading = read_export_file(body)

    [error] = reading.validation_errors
    assert (error["entityId"], error["path"]) == (None, "")
    assert message in error["message"]


def test_items_that_are_not_objects_are_named_by_position():
    reading = read_export_file([process_report(), "report", 3])

    assert errors_at(reading) == {(None, "[1]"), (None, "[2]")}
    assert [e["id"] for e in reading.entities] == [REPORT_1]


# ---------- fields ----------


@pytest.mark.parametrize("field", ["id", "exportEntityType", "name", "sourceIndexVersion"])
def test_a_missing_required_field_is_named(field):
    report = process_report()
    del report[field]

    reading = read_export_file([report])

    assert (report.get("id"), f"[0].{field}") in errors_at(reading)


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("id", 7),
        ("id", ""),
        ("name", None),
        ("sourceIndexVersion", "11"),
        ("sourceIndexVersion", True),
        ("description", 5),
        ("collectionId", 5),
    ],
)
def test_a_field_of_the_wrong_type_is_named(field, value):
    reading = read_export_file([process_report(**{field: value})])

    entity_id = REPORT_1 if field != "id" else None
    assert errors_at(reading) == {(entity_id, f"[0].{field}")}


def test_description_and_collection_may_be_null():
    assert read_export_file([process_report(description=None, collectionId=None)]).ok


def test_description_may_be_missing_before_the_current_version_only():
    older = process_report(sourceIndexVersion=10)
    del older["description"]
    current = process_report(id=REPORT_2)
    del current["description"]

    reading = read_export_file([older, current])

    assert errors_at(reading) == {(REPORT_2, "[1].description")}
    assert reading.entities[0]["description"] is None


def test_an_unknown_entity_type_is_named():
    reading = read_export_file([process_report(exportEntityType="process_report")])

    [error] = reading.validation_errors
    assert (error["entityId"], error["path"]) == (REPORT_1, "[0].exportEntityType")
    assert "single_process_report" in error["message"]


def test_duplicate_ids_are_named_at_the_second_entity():
    reading = read_export_file([process_report(), decision_report(id=REPORT_1)])

    [error] = reading.validation_errors
    assert (error["entityId"], error["path"]) == (REPORT_1, "[1].id")
    assert "[0]" in error["message"]


@pytest.mark.parametrize(
    ("definition_change", "path"),
    [
        ({"key": None}, "[0].data.definitions[0].key"),
        ({"key": 1}, "[0].data.definitions[0].key"),
        ({"versions": "1"}, "[0].data.definitions[0].versions"),
        ({"versions": ["1", 2]}, "[0].data.definitions[0].versions[1]"),
        ({"tenantIds": None}, "[0].data.definitions[0].tenantIds"),
        ({"tenantIds": [None, 3]}, "[0].data.definitions[0].tenantIds[1]"),
    ],
)
def test_a_malformed_definition_is_named_with_its_path(definition_change, path):
    report = process_report()
    report["data"]["definitions"][0].update(definition_change)

    assert errors_at(read_export_file([report])) == {(REPORT_1, path)}


def test_a_definition_without_key_is_named():
    report = process_report()
    del report["data"]["definitions"][0]["key"]

    assert errors_at(read_export_file([report])) == {(REPORT_1, "[0].data.definitions[0].key")}


def test_a_report_without_data_is_named():
    report = process_report()
    del report["data"]

    assert errors_at(read_export_file([report])) == {(REPORT_1, "[0].data")}


def test_a_tile_of_an_unknown_type_is_named():
    reading = read_export_file([process_report(), dashboard(tiles=[tile(), tile(type="chart")])])

    assert errors_at(reading) == {("dashboard-1", "[1].tiles[1].type")}


@pytest.mark.parametrize(
    ("bad_tile", "path"),
    [
        (tile(id="", type="external_url", configuration={}), "[1].tiles[0].configuration.external"),
        (tile(id="", type="text", configuration={"text": "plain"}), "[1].tiles[0].configuration.text"),
    ],
)
def test_a_tile_configuration_that_does_not_fit_its_type_is_named(bad_tile, path):
    reading = read_export_file([process_report(), dashboard(tiles=[bad_tile])])

    assert errors_at(reading) == {("dashboard-1", path)}


@pytest.mark.parametrize(
    ("position", "dimensions", "path"),
    [
        ({"x": "left", "y": 0}, {"width": 4, "height": 2}, "[1].tiles[0].position.x"),
        ({"x": 0, "y": 1.5}, {"width": 4, "height": 2}, "[1].tiles[0].position.y"),
        ({"x": 0, "y": 0}, {"width": True, "height": 2}, "[1].tiles[0].dimensions.width"),
        ({"x": 0, "y": 0}, {"width": 4, "height": 2**31}, "[1].tiles[0].dimensions.height"),
    ],
)
def test_a_tile_place_optimize_cannot_read_into_its_int_fields_is_named(position, dimensions, path):
    board = dashboard(tiles=[tile(position=position, dimensions=dimensions)])

    reading = read_export_file([process_report(), board])

    assert errors_at(reading) == {("dashboard-1", path)}


def test_a_tile_place_optimize_reads_is_kept_as_given():
    place = {"position": {"y": 2, "x": None, "z": [1]}, "dimensions": {"width": -1}}
    board = dashboard(tiles=[tile(**place)])

    reading = read_export_file([process_report(), board])

    assert reading.validation_errors == []
    assert reading.entities[-1]["tiles"][0] == tile(**place)


def test_a_dashboard_from_before_tiles_is_named_with_its_own_field():
    board = {**dashboard(sourceIndexVersion=6), "reports": [{"id": "", "position": "top left"}]}
    del board["tiles"]

    reading = read_export_file([board])

    assert ("dashboard-1", "[0].reports[0].position") in errors_at(reading)


# ---------- references ----------


def test_a_combined_report_child_missing_from_the_file_is_named():
    reading = read_export_file([combined_report()])

    [error] = reading.validation_errors
    assert (error["entityId"], error["path"]) == ("combined-1", "[0].data.reports[0].id")
    assert REPORT_1 in error["message"]


def test_a_dashboard_report_missing_from_the_file_is_named_and_other_tiles_need_nothing():
    reading = read_export_file([dashboard()])

    assert errors_at(reading) == {("dashboard-1", "[0].tiles[0].id")}


def test_a_dashboard_from_version_6_names_the_missing_report_in_its_reports_field():
    export = json.loads(CARBON_REDUCTOR_EXPORT.read_text())

    reading = read_export_file(export[1:])

    assert errors_at(reading) == {("de13c9f3-4704-4feb-b307-73f7ee80c606", "[5].reports[0].id")}


def test_a_tile_may_not_point_at_a_dashboard():
    reading = read_export_file([dashboard(id=INNER, tiles=[]), dashboard(tiles=[tile(id=INNER)])])

    assert errors_at(reading) == {("dashboard-1", "[1].tiles[0].id")}


def test_referenced_report_ids_of_combined_reports_and_dashboards():
    board = dashboard(tiles=[*dashboard()["tiles"], tile(id=REPORT_2), tile(id=REPORT_1)])

    assert referenced_report_ids(combined_report()) == [REPORT_1]
    assert referenced_report_ids(board) == [REPORT_1, REPORT_2]
    assert referenced_report_ids(process_report()) == []


# ---------- unsafe content ----------


@pytest.mark.parametrize(
    ("key", "path"),
    [("$where", "[0].data.configuration.$where"), ("a\x00b", '[0].data.configuration["a\\u0000b"]')],
)
def test_keys_mongodb_would_misread_are_named(key, path):
    report = process_report()
    report["data"]["configuration"][key] = "1 == 1"

    reading = read_export_file([report])

    assert errors_at(reading) == {(REPORT_1, path)}


def test_unsafe_keys_inside_lists_are_named():
    report = process_report()
    report["data"]["filter"] = [{"type": "variable", "data": {"$gt": 1}}]

    assert errors_at(read_export_file([report])) == {(REPORT_1, "[0].data.filter[0].data.$gt")}


@pytest.mark.parametrize(
    ("value", "path"),
    [
        (2**63, "[0].data.configuration.n"),
        (-(2**63) - 1, "[0].data.configuration.n"),
        (float("inf"), "[0].data.configuration.n"),
        (float("nan"), "[0].data.configuration.n"),
        ("lone \udc00", "[0].data.configuration.n"),
        ({"\ud800": 1}, "[0].data.configuration.n.\ud800"),
    ],
)
def test_values_mongodb_cannot_store_or_json_cannot_say_are_named(value, path):
    report = process_report()
    report["data"]["configuration"]["n"] = value

    assert errors_at(read_export_file([report])) == {(REPORT_1, path)}


def test_64_bit_numbers_and_astral_characters_are_accepted():
    report = process_report(name="Rocket \U0001f680")
    report["data"]["configuration"].update(big=2**63 - 1, small=-(2**63), ratio=1e308)

    assert read_export_file([report]).ok


def test_nesting_within_the_limit_is_accepted():
    report = process_report()
    report["data"]["configuration"]["deep"] = nested(60)

    assert read_export_file([report]).ok


def test_a_file_nested_100000_levels_deep_is_an_error_not_a_crash():
    report = process_report()
    report["data"]["configuration"]["deep"] = nested(100_000)

    reading = read_export_file([report, decision_report()])

    [error] = reading.validation_errors
    assert error["entityId"] == REPORT_1
    assert error["path"].startswith("[0].data.configuration.deep.deeper")
    assert "64" in error["message"]
    assert [e["id"] for e in reading.entities] == ["decision-1"]


def test_every_problem_of_a_file_is_collected():
    bad_report = process_report(name=3)
    bad_report["data"]["definitions"][0]["versions"] = "all"
    export = [bad_report, process_report(), combined_report(data={"reports": [{"id": "gone"}]}), "x"]

    reading = read_export_file(export)

    assert errors_at(reading) == {
        (REPORT_1, "[0].name"),
        (REPORT_1, "[0].data.definitions[0].versions"),
        (REPORT_1, "[1].id"),
        ("combined-1", "[2].data.reports[0].id"),
        (None, "[3]"),
    }


# ---------- one entity ----------


def test_validate_current_entity_names_paths_from_the_entity():
    report = process_report()
    report["data"]["definitions"][0]["key"] = None

    assert validate_current_entity(report) == [
        {"entityId": REPORT_1, "path": "data.definitions[0].key", "message": "Field may not be null."}
    ]


def test_validate_current_entity_refuses_an_older_version():
    [error] = validate_current_entity(process_report(sourceIndexVersion=10))

    assert error["path"] == "sourceIndexVersion"
    assert "11" in error["message"]


# ---------- definitions ----------


def test_definitions_of_merges_versions_and_tenants_per_key_in_first_seen_order():
    first = process_report()
    second = process_report(id=REPORT_2)
    second["data"]["definitions"] = [
        {"key": "invoice", "versions": ["2", "1"], "tenantIds": ["acme"]},
        {"key": "order", "versions": ["all"], "tenantIds": [None]},
    ]

    definitions = definitions_of([first, dashboard(), decision_report(), second, combined_report()])

    assert definitions == [
        {"type": "process", "key": "invoice", "versions": ["1", "2"], "tenantIds": [None, "acme"]},
        {"type": "decision", "key": "dish", "versions": ["all"], "tenantIds": ["acme"]},
        {"type": "process", "key": "order", "versions": ["all"], "tenantIds": [None]},
    ]


def test_definitions_of_keeps_process_and_decision_keys_apart():
    decision = decision_report()
    decision["data"]["definitions"][0]["key"] = "invoice"

    assert [(d["type"], d["key"]) for d in definitions_of([process_report(), decision])] == [
        ("process", "invoice"),
        ("decision", "invoice"),
    ]


def test_report_fields_optimize_reads_by_type_are_checked_after_upgrading_an_old_file():
    """A version-5 report whose configuration, view and filter are not what Optimize reads is refused at
    those paths once upgraded, instead of being stored as a report nobody can open."""
    old = {"id": "garbage", "exportEntityType": "single_process_report", "name": "Old", "description": None,
           "sourceIndexVersion": 5, "collectionId": None,
           "data": {"processDefinitionKey": "invoice", "processDefinitionVersions": ["1"],
                    "tenantIds": [None], "configuration": "x", "view": "x", "filter": "x",
                    "visualization": 3}}
    reading = read_export_file([old])
    assert {path for entity_id, path in errors_at(reading) if entity_id == "garbage"} >= {
        "[0].data.configuration", "[0].data.view", "[0].data.filter", "[0].data.visualization"}
    assert reading.entities == []


def test_given_a_longest_array_reading_refuses_a_longer_one_found_by_its_structure_walk():
    long_filter = process_report(id=REPORT_2, data={**process_report()["data"], "filter": [{}] * 4})
    file = [process_report(), long_filter]

    assert read_export_file(json.loads(json.dumps(file)), max_array_length=4).ok
    with pytest.raises(ServiceError) as refused:
        read_export_file(json.loads(json.dumps(file)), max_array_length=3)
    refusal = refused.value.body()
    assert (refusal["limitName"], refusal["path"]) == ("jsonArrayLength", "data.filter")
    assert read_export_file(json.loads(json.dumps(file))).ok  # no limit given: none checked
