"""A whole collection moved between two installations: exported from a collection of A, imported into a
collection of B (made beforehand in B's catalog, with its scope), and the same entities come out of B."""

import copy
import json

import pytest

from optimize_testing.factories import ok
from optimize_testing.installation import start_installation
from optimize_testing.pytest_plugin import isolated_names

DEFINITIONS = (("process", "invoice"), ("decision", "approve"))


@pytest.fixture
def a_and_b(servers):
    a = start_installation(servers, isolated_names("a"))
    b = start_installation(servers, isolated_names("b"))
    yield a, b
    a.close()
    b.close()


def finance_collection(installation) -> str:
    """The definitions deployed and readable by demo, and a collection with them in its scope."""
    catalog, headers = installation.catalog, installation.headers()
    ok(catalog.post("/api/definition", headers=headers, json=[
        {"type": definition_type, "key": key, "name": key.title(), "version": "1"}
        for definition_type, key in DEFINITIONS]))
    ok(catalog.post("/api/authorization", headers=headers, json=[
        {"identity": {"id": "demo", "type": "user"}, "definitionType": definition_type, "definitionKey": key,
         "tenants": [None]} for definition_type, key in DEFINITIONS]))
    collection_id = ok(catalog.post("/api/collection", json={"name": "Finance"}, headers=headers))["id"]
    ok(catalog.post(f"/api/collection/{collection_id}/scope", headers=headers, json=[
        {"definitionType": definition_type, "definitionKey": key, "tenants": [None]}
        for definition_type, key in DEFINITIONS]), 204)
    return collection_id


def report_data(definition_type: str, key: str) -> dict:
    return {"definitions": [{"identifier": "d1", "key": key, "name": key.title(), "displayName": None,
                             "versions": ["1"], "tenantIds": [None]}],
            "view": {"entity": f"{definition_type}Instance", "properties": ["frequency"]},
            "groupBy": {"type": "none", "value": None}, "visualization": "number",
            "configuration": {"aggregationTypes": [{"type": "avg", "value": None}]}, "filter": []}


def tile(report_id: str, x: int) -> dict:
    return {"id": report_id, "type": "optimize_report", "position": {"x": x, "y": 0},
            "dimensions": {"width": 4, "height": 2}, "configuration": None}


def author_finance(installation, collection_id: str) -> dict[str, str]:
    """Entities made through import-svc's authoring API, by name."""

    def create(path: str, body: dict) -> str:
        body = {"description": None, "collectionId": collection_id, **body}
        return ok(installation.imports.post(path, json=body, headers=installation.headers()))["id"]

    made = {
        "Invoices": create("/api/report/process/single",
                           {"name": "Invoices", "data": report_data("process", "invoice")}),
        "Late invoices": create("/api/report/process/single",
                                {"name": "Late invoices", "data": report_data("process", "invoice")}),
        "Approvals": create("/api/report/decision/single",
                            {"name": "Approvals", "data": report_data("decision", "approve")}),
    }
    made["Both"] = create("/api/report/process/combined", {"name": "Both", "data": {
        "configuration": {}, "visualization": "bar",
        "reports": [{"id": made["Invoices"], "color": "#1991c8"},
                    {"id": made["Late invoices"], "color": "#e01e5a"}]}})
    text = {"id": "", "type": "text", "position": {"x": 0, "y": 4}, "dimensions": {"width": 4, "height": 2},
            "configuration": {"text": None}}
    made["Overview"] = create("/api/dashboard", {"name": "Overview", "availableFilters": [], "tiles": [
        tile(made["Both"], 0), tile(made["Approvals"], 4), tile(made["Invoices"], 8), text]})
    return made


def export_collection(installation, collection_id: str) -> list[dict]:
    return ok(installation.export.get(f"/api/export/collection/json/{collection_id}/finance.json",
                                      headers=installation.headers()))


def listed(installation, collection_id: str) -> list[dict]:
    return ok(installation.export.get(f"/api/collection/{collection_id}/entities",
                                      headers=installation.headers()))


def comparable(file: list[dict], new_ids: dict[str, str]) -> dict[str, dict]:
    """The file by new id, references renamed through `new_ids`, without id and collectionId (an export
    file holds neither owner nor timestamps)."""
    entities = {}
    for entity in copy.deepcopy(file):
        entity_id = new_ids[entity.pop("id")]
        entity.pop("collectionId")
        if entity["exportEntityType"] == "combined_report":
            for child in entity["data"]["reports"]:
                child["id"] = new_ids[child["id"]]
        for dashboard_tile in entity.get("tiles", []):
            dashboard_tile["id"] = new_ids.get(dashboard_tile["id"], dashboard_tile["id"])
        entities[entity_id] = entity
    return entities


def test_a_collection_moves_from_one_installation_to_another(a_and_b):
    a, b = a_and_b
    source, target = finance_collection(a), finance_collection(b)
    made = author_finance(a, source)

    file = export_collection(a, source)
    assert sorted(entity["id"] for entity in file) == sorted(made.values())
    imported = ok(b.imports.post(f"/api/import?collectionId={target}", data=json.dumps(file),
                                 content_type="application/json", headers=b.headers()))

    new_ids = {item["sourceId"]: item["id"] for item in imported}
    assert [item["sourceId"] for item in imported] == [entity["id"] for entity in file]
    assert not set(new_ids.values()) & set(made.values())

    def summary(entity: dict) -> tuple:
        return entity["name"], entity["entityType"], entity["reportType"], entity["combined"]

    in_a, in_b = listed(a, source), listed(b, target)
    assert sorted(map(summary, in_b)) == sorted(map(summary, in_a))
    assert {entity["id"] for entity in in_b} == set(new_ids.values())
    assert {entity["collectionId"] for entity in in_b} == {target}

    b_id = {name: new_ids[entity_id] for name, entity_id in made.items()}
    dashboard = ok(b.export.get(f"/api/dashboard/{b_id['Overview']}", headers=b.headers()))
    assert [dashboard_tile["id"] for dashboard_tile in dashboard["tiles"]] == [
        b_id["Both"], b_id["Approvals"], b_id["Invoices"], ""]
    combined = ok(b.export.get(f"/api/report/{b_id['Both']}", headers=b.headers()))
    assert [child["id"] for child in combined["data"]["reports"]] == [b_id["Invoices"], b_id["Late invoices"]]

    exported_b = export_collection(b, target)
    assert {entity["collectionId"] for entity in exported_b} == {target}
    unchanged = {new_id: new_id for new_id in new_ids.values()}
    assert comparable(exported_b, unchanged) == comparable(file, new_ids)
