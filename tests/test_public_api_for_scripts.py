"""The public API routes scripts use around export and import, as Optimize's PublicApiRestService has
them: list a collection's reports and dashboards (export-svc), delete them (import-svc, the only writer)."""

import json

KEY = "invoice"
REPORT = "5a0c7e52-1f1e-4c3b-9d7a-000000000001"


def ok(response, *statuses):
    assert response.status_code in (statuses or (200, 204)), response.get_data(as_text=True)
    return response


def file_of_one_dashboard():
    report = {"id": REPORT, "exportEntityType": "single_process_report", "name": "Invoices",
              "description": None, "sourceIndexVersion": 11, "collectionId": None,
              "data": {"definitions": [{"key": KEY, "versions": ["1"], "tenantIds": [None]}]}}
    board = {"id": "board", "exportEntityType": "dashboard", "name": "Overview", "description": None,
             "sourceIndexVersion": 8, "collectionId": None, "availableFilters": [],
             "tiles": [{"id": REPORT, "type": "optimize_report", "position": {"x": 0, "y": 0},
                        "dimensions": {"width": 4, "height": 2}, "configuration": None}]}
    return [report, board]


def collection_with_entities(installation):
    headers = installation.headers()
    ok(installation.catalog.post("/api/definition", headers=headers, json=[
        {"type": "process", "key": KEY, "name": KEY, "version": "1", "tenantId": None}]))
    collection = ok(installation.catalog.post("/api/collection", json={"name": "Finance"},
                                              headers=headers)).json["id"]
    ok(installation.catalog.post(f"/api/collection/{collection}/scope", headers=headers, json=[
        {"definitionType": "process", "definitionKey": KEY, "tenants": [None]}]))
    imported = ok(installation.imports.post(f"/api/public/import?collectionId={collection}",
                                            data=json.dumps(file_of_one_dashboard()),
                                            content_type="application/json",
                                            headers=installation.public_headers())).json
    return collection, {item["sourceId"]: item["id"] for item in imported}


def test_a_collections_reports_and_dashboards_are_listed_then_deleted(installation):
    """PublicApiRestService.getReportIds / getDashboardIds (GET ?collectionId=) and deleteReportDefinition /
    deleteDashboardDefinition (DELETE /{id}, 204)."""
    collection, new_id = collection_with_entities(installation)
    public = installation.public_headers()

    reports = ok(installation.export.get(f"/api/public/report?collectionId={collection}", headers=public))
    dashboards = ok(installation.export.get(f"/api/public/dashboard?collectionId={collection}",
                                            headers=public))
    assert reports.json == [{"id": new_id[REPORT], "name": "Invoices"}]
    assert dashboards.json == [{"id": new_id["board"], "name": "Overview"}]

    assert installation.imports.delete(f"/api/public/dashboard/{new_id['board']}", headers=public
                                       ).status_code == 204
    assert installation.imports.delete(f"/api/public/report/{new_id[REPORT]}", headers=public
                                       ).status_code == 204
    for kind in ("report", "dashboard"):
        listed = ok(installation.export.get(f"/api/public/{kind}?collectionId={collection}",
                                            headers=public))
        assert listed.json == []
    gone = installation.imports.delete(f"/api/public/report/{new_id[REPORT]}", headers=public)
    assert (gone.status_code, gone.json["errorCode"]) == (404, "notFoundError")


def test_listing_needs_a_collection_id_and_the_routes_need_the_public_token(installation):
    """PublicApiRestService.validateCollectionIdNotNull: 400 "Must specify a collection ID for this
    request."; /api/public/** takes the public API token, not a user's."""
    public = installation.public_headers()
    missing = installation.export.get("/api/public/report", headers=public)
    assert (missing.status_code, missing.json["errorCode"]) == (400, "badRequestError")
    assert missing.json["errorMessage"] == "Must specify a collection ID for this request."
    unknown = ok(installation.export.get("/api/public/dashboard?collectionId=nowhere", headers=public))
    assert unknown.json == []
    assert installation.export.get("/api/public/report?collectionId=c", headers=installation.headers()
                                   ).status_code == 401
    assert installation.imports.delete(f"/api/public/report/{REPORT}").status_code == 401


def test_the_public_api_does_not_delete_a_users_private_report(installation):
    """Optimize's public delete reaches any report; here the public API stays with collection entities,
    the same rule as its exports (403, the report kept)."""
    headers = installation.headers()
    ok(installation.catalog.post("/api/authorization", headers=headers, json=[
        {"identity": {"id": "demo", "type": "user"}, "definitionType": "process", "definitionKey": KEY,
         "tenants": [None]}]))
    mine = {"name": "Mine", "data": {"definitions": [{"key": KEY, "versions": ["1"], "tenantIds": [None]}]}}
    created = ok(installation.imports.post("/api/report/process/single", headers=headers, json=mine))
    report_id = created.json["id"]

    refused = installation.imports.delete(f"/api/public/report/{report_id}",
                                          headers=installation.public_headers())

    assert (refused.status_code, refused.json["errorCode"]) == (403, "forbiddenError")
    assert ok(installation.export.get(f"/api/report/{report_id}", headers=headers)).json["name"] == "Mine"
