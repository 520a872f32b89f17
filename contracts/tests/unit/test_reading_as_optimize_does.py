"""Reading a file as Optimize reads it: one object, repeated entities, tile ids that are not Optimize ids."""

from contracts.export_file import read_export_file, referenced_report_ids

REPORT_ID = "6f1c2a1e-8d3b-4c55-9e0f-0123456789ab"


def process_report(report_id=REPORT_ID, **overrides):
    report = {"id": report_id, "exportEntityType": "single_process_report", "name": "Invoices",
              "description": None, "sourceIndexVersion": 11, "collectionId": None,
              "data": {"definitions": [{"key": "invoice", "versions": ["1"], "tenantIds": [None]}]}}
    report.update(overrides)
    return report


def dashboard(*tile_ids, **overrides):
    board = {"id": "board", "exportEntityType": "dashboard", "name": "Board", "description": None,
             "sourceIndexVersion": 8, "collectionId": None, "availableFilters": [],
             "tiles": [{"id": tile_id, "type": "optimize_report", "position": {"x": 0, "y": 0},
                        "dimensions": {"width": 2, "height": 2}, "configuration": None}
                       for tile_id in tile_ids]}
    board.update(overrides)
    return board


def test_a_single_object_is_a_file_of_one_entity():
    """EntityImportService.readExportDtoOrFailIfInvalid reads a lone entity as a one-element set."""
    reading = read_export_file(process_report())

    assert reading.ok, reading.validation_errors
    assert [entity["id"] for entity in reading.entities] == [REPORT_ID]


def test_an_entity_repeated_identically_is_read_once():
    """EntityImportService reads the file into a Set<OptimizeEntityExportDto>: equal entities count once."""
    reading = read_export_file([process_report(), dashboard(REPORT_ID), process_report()])

    assert reading.ok, reading.validation_errors
    assert [entity["id"] for entity in reading.entities] == [REPORT_ID, "board"]


def test_two_different_entities_with_one_id_stay_an_error():
    """Different entities under one id would be two imports of one source in Optimize's set: refused here."""
    reading = read_export_file([process_report(), process_report(name="Other name")])

    assert [(error["entityId"], error["path"]) for error in reading.validation_errors] == [
        (REPORT_ID, "[1].id")]


def test_an_integer_and_a_float_are_not_the_same_value():
    """Optimize's equality is on typed fields; 1 and 1.0 differ in a JSON file, so the entities differ."""
    one = dashboard(REPORT_ID)
    other = dashboard(REPORT_ID)
    other["tiles"][0]["position"]["x"] = 0.0

    reading = read_export_file([process_report(), one, other])

    assert ("board", "[2].id") in {(e["entityId"], e["path"]) for e in reading.validation_errors}


def test_only_tile_ids_in_optimizes_id_form_must_be_in_the_file():
    """DashboardDefinitionExportDto.getTileIds keeps tile ids that IdGenerator.isValidId accepts (the
    lower-case UUID form); other ids (foreign ids, a template's names) need no report in the file."""
    board = dashboard(REPORT_ID, "agentic-total-runs", "6F1C2A1E-8D3B-4C55-9E0F-0123456789AB")

    reading = read_export_file([process_report(), board])

    assert reading.ok, reading.validation_errors
    assert referenced_report_ids(reading.entities[1]) == [REPORT_ID]


def test_a_missing_report_with_an_optimize_id_is_named():
    """EntityImportService.validateCompletenessOrFail: a tile's Optimize id must be an entity of the file."""
    missing = "0f0f0f0f-0000-4000-8000-000000000000"

    reading = read_export_file([process_report(), dashboard(REPORT_ID, missing)])

    assert [(error["entityId"], error["path"]) for error in reading.validation_errors] == [
        ("board", "[1].tiles[1].id")]
