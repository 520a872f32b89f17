"""What export-svc writes is what Camunda Optimize (3.11 to 8.x) writes and reads: the fields of its
export DTOs (OptimizeEntityExportDto, ReportDefinitionExportDto and its three kinds,
DashboardDefinitionExportDto, DashboardReportTileDto) with their JSON types and enum spellings."""

import json

import pytest

from contracts.export_file import CURRENT_VERSIONS
from optimize_testing.pytest_plugin import REAL_OPTIMIZE_EXPORT

ENTITY_FIELDS = {"id", "exportEntityType", "name", "description", "sourceIndexVersion", "collectionId"}
REPORT_FIELDS = ENTITY_FIELDS | {"data"}
DASHBOARD_FIELDS = ENTITY_FIELDS | {"tiles", "availableFilters", "instantPreviewDashboard"}
# Optimize keeps these in its store but not in its export DTO; its import ignores unknown fields.
DASHBOARD_FIELDS_OPTIMIZE_IGNORES = {"refreshRateSeconds", "managementDashboard"}
TILE_FIELDS = {"id", "type", "position", "dimensions", "configuration"}
TILE_TYPES = {"optimize_report", "external_url", "text"}


def ok(response):
    assert response.status_code == 200, response.get_data(as_text=True)
    return response


def is_int(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def assert_optimize_shape(entity: dict) -> None:
    kind = entity["exportEntityType"]
    assert kind in CURRENT_VERSIONS
    assert is_int(entity["sourceIndexVersion"]) and entity["sourceIndexVersion"] == CURRENT_VERSIONS[kind]
    assert isinstance(entity["id"], str) and isinstance(entity["name"], str)
    assert entity["description"] is None or isinstance(entity["description"], str)
    assert entity["collectionId"] is None or isinstance(entity["collectionId"], str)
    if kind != "dashboard":
        assert set(entity) == REPORT_FIELDS
        assert isinstance(entity["data"], dict)
        return
    assert set(entity) - DASHBOARD_FIELDS <= DASHBOARD_FIELDS_OPTIMIZE_IGNORES
    assert DASHBOARD_FIELDS <= set(entity)
    assert isinstance(entity["instantPreviewDashboard"], bool)
    assert isinstance(entity["availableFilters"], list)
    for tile in entity["tiles"]:
        assert set(tile) == TILE_FIELDS and tile["type"] in TILE_TYPES
        assert is_int(tile["position"]["x"]) and is_int(tile["position"]["y"])
        assert is_int(tile["dimensions"]["width"]) and is_int(tile["dimensions"]["height"])


@pytest.fixture
def demo(installation):
    headers = installation.headers()
    definitions = [{"type": kind, "key": key, "name": key, "version": "1", "tenantId": None, "xml": "<x/>"}
                   for kind, key in (("process", "NasaImageProcessing"), ("process", "invoice"),
                                     ("decision", "approve"))]
    ok(installation.catalog.post("/api/definition", json=definitions, headers=headers))
    for kind in ("process", "decision"):
        grant = [{"identity": {"id": "demo", "type": "user"}, "definitionType": kind, "definitionKey": "*",
                  "tenants": [None]}]
        ok(installation.catalog.post("/api/authorization", json=grant, headers=headers))
    return installation


def exported(installation, kind: str, entity_id: str) -> list[dict]:
    response = ok(installation.export.get(f"/api/export/{kind}/json/{entity_id}/file.json",
                                          headers=installation.headers()))
    return json.loads(response.get_data())


def created(installation, path: str, body: dict) -> str:
    return ok(installation.imports.post(path, json=body, headers=installation.headers())).json["id"]


def test_the_real_optimize_file_is_exported_again_at_the_current_versions_in_optimizes_shape(demo):
    response = ok(demo.imports.post("/api/import", data=REAL_OPTIMIZE_EXPORT.read_bytes(),
                                    content_type="application/json", headers=demo.headers()))

    file = exported(demo, "dashboard", response.json[-1]["id"])

    for entity in file:
        assert_optimize_shape(entity)
    *reports, dashboard = file
    assert [report["exportEntityType"] for report in reports] == ["single_process_report"] * 6
    for report in reports:
        assert (report["data"]["managementReport"], report["data"]["instantPreviewReport"]) == (False, False)
    assert dashboard["instantPreviewDashboard"] is False
    assert {tile["type"] for tile in dashboard["tiles"]} == {"optimize_report"}


def test_authored_entities_of_every_kind_are_exported_in_optimizes_shape_with_their_content_as_given(demo):
    process_data = {"definitions": [{"key": "invoice", "versions": ["1"], "tenantIds": [None]}],
                    "view": {"properties": ["frequency"]}}
    process = created(demo, "/api/report/process/single", {"name": "P", "data": process_data})
    decision = created(demo, "/api/report/decision/single", {
        "name": "D", "data": {"definitions": [{"key": "approve", "versions": ["1"], "tenantIds": [None]}]}})
    combined = created(demo, "/api/report/process/combined", {
        "name": "C", "data": {"reports": [{"id": process, "color": "#1991c8"}]}})
    tiles = [{"id": combined, "type": "optimize_report", "position": {"x": 0, "y": 0},
              "dimensions": {"width": 4, "height": 2}, "configuration": None},
             {"id": "", "type": "external_url", "position": {"x": 4, "y": 0},
              "dimensions": {"width": 4, "height": 2}, "configuration": {"external": "https://camunda.com"}},
             {"id": "", "type": "text", "position": {"x": 8, "y": 0},
              "dimensions": {"width": 2, "height": 2}, "configuration": {"text": None}}]
    dashboard = created(demo, "/api/dashboard", {"name": "B", "tiles": tiles})
    empty_dashboard = created(demo, "/api/dashboard", {})

    files = {"process": exported(demo, "report", process), "decision": exported(demo, "report", decision),
             "dashboard": exported(demo, "dashboard", dashboard),
             "empty": exported(demo, "dashboard", empty_dashboard)}

    for file in files.values():
        for entity in file:
            assert_optimize_shape(entity)
    # DashboardExportService's order: the combined report the tile shows, then its child, then the dashboard
    assert [entity["exportEntityType"] for entity in files["dashboard"]] == [
        "combined_report", "single_process_report", "dashboard"]
    assert files["process"][0]["data"] == process_data
    assert files["dashboard"][-1]["tiles"] == tiles
    assert files["empty"][0]["instantPreviewDashboard"] is False
