"""Optimize's own instant-preview dashboard template, imported as Optimize imports it."""

import json
from pathlib import Path

from pymongo import MongoClient

TEMPLATE = Path(__file__).parent / "fixtures" / "optimize-instant-preview" / "template2.json"
KEY = "AnalysisTestingProcess"
TENANTS = [None, "csm", "engineering", "hr", "library", "marketing", "sales", "support"]


def ok(response, *statuses):
    assert response.status_code in (statuses or (200, 204)), response.get_data(as_text=True)
    return response


def seed_template_definition(installation):
    headers = installation.headers()
    ok(installation.catalog.post("/api/definition", headers=headers, json=[
        {"type": "process", "key": KEY, "name": KEY, "version": "1", "tenantId": tenant,
         "xml": f"<definitions id='{KEY}'/>"} for tenant in TENANTS]))
    ok(installation.catalog.post("/api/authorization", headers=headers, json=[
        {"identity": {"id": "demo", "type": "user"}, "definitionType": "process", "definitionKey": KEY,
         "tenants": TENANTS}]))


def stored(installation):
    return MongoClient(installation.environ["OPTIMIZE_MONGODB_URI"])[installation.names.entities_db]


def test_optimizes_instant_preview_template_imports_privately_with_its_flags(installation):
    """EntityImportService.importEntitiesAsUser: the template (reports with instantPreviewReport, a
    dashboard whose id is not a UUID) imports; the flags are kept, the tiles point at the new reports."""
    seed_template_definition(installation)
    source = json.loads(TEMPLATE.read_text())

    response = ok(installation.imports.post("/api/import", data=TEMPLATE.read_bytes(),
                                            content_type="application/json", headers=installation.headers()))

    outcome = response.json
    assert [item["sourceId"] for item in outcome] == [entity["id"] for entity in source]
    new_id = {item["sourceId"]: item["id"] for item in outcome}
    db = stored(installation)
    reports = list(db.reports.find({"_id": {"$in": [new_id[e["id"]] for e in source[:-1]]}}))
    assert len(reports) == 5
    assert {report["data"]["instantPreviewReport"] for report in reports} == {True}
    board = db.dashboards.find_one({"_id": new_id[KEY]})
    assert board["name"] == "IP_KpiDashboardName" and board["collectionId"] is None
    assert [tile["id"] for tile in board["tiles"]] == [new_id[tile["id"]] for tile in source[-1]["tiles"]]

    exported = ok(installation.export.get(f"/api/export/dashboard/json/{new_id[KEY]}/board.json",
                                          headers=installation.headers())).json
    assert {entity["data"]["instantPreviewReport"] for entity in exported[:-1]} == {True}


def test_optimizes_instant_preview_template_is_a_bad_request_on_the_public_import(installation):
    """EntityImportService.importEntities (PublicApiRestService's import) refuses instant-preview
    entities: 400 badRequestError, nothing written."""
    seed_template_definition(installation)
    collection = ok(installation.catalog.post("/api/collection", json={"name": "KPIs"},
                                              headers=installation.headers())).json["id"]
    scope = [{"definitionType": "process", "definitionKey": KEY, "tenants": TENANTS}]
    ok(installation.catalog.post(f"/api/collection/{collection}/scope", headers=installation.headers(),
                                 json=scope))

    response = installation.imports.post(f"/api/public/import?collectionId={collection}",
                                         data=TEMPLATE.read_bytes(), content_type="application/json",
                                         headers=installation.public_headers())

    assert response.status_code == 400, response.json
    assert response.json["errorCode"] == "badRequestError"
    assert response.json["errorMessage"] == "Cannot import Instant preview dashboards and reports."
    db = stored(installation)
    assert db.reports.count_documents({}) + db.dashboards.count_documents({}) == 0
