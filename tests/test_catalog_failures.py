"""Every route of export-svc and import-svc that needs the catalog answers by one rule when the catalog
fails: the worker stopped (nobody serves the RPC queue) or the worker answering an error (its store gone)
is 503 serviceUnavailable with Retry-After, after one catalog call and well within the RPC deadline, and
nothing is written. (The public export of reports and dashboards needs the catalog too: it asks whether
their collection still exists.)"""

import time

import pytest

from optimize_testing.factories import ok
from optimize_testing.installation import start_installation

# Long, so that a route that waited for the deadline instead of failing at once cannot pass.
RPC_DEADLINE_S = 20
PUBLIC = "public"


def report_data(key="invoice"):
    return {"definitions": [{"identifier": "d1", "key": key, "name": "Invoice", "displayName": None,
                             "versions": ["1"], "tenantIds": [None]}],
            "view": {"entity": "processInstance", "properties": ["frequency"]},
            "groupBy": {"type": "none", "value": None}, "visualization": "number",
            "configuration": {"color": "#1991c8"}, "filter": []}


def tile(report_id):
    return {"id": report_id, "type": "optimize_report", "position": {"x": 0, "y": 0},
            "dimensions": {"width": 4, "height": 2}, "configuration": None}


@pytest.fixture
def world(servers, names):
    """An installation with a collection (demo manages it, `invoice` in scope), a report and a dashboard
    in it, and an export file of the report to import; its catalog calls are counted."""
    installation = start_installation(servers, names, OPTIMIZE_RPC_TIMEOUT_S=str(RPC_DEADLINE_S))
    headers, catalog = installation.headers(), installation.catalog
    installation.seed_invoice()
    collection = ok(catalog.post("/api/collection", json={"name": "Sales"}, headers=headers))["id"]
    ok(catalog.post(f"/api/collection/{collection}/scope", headers=headers, json=[
        {"definitionType": "process", "definitionKey": "invoice", "tenants": [None]}]), 204)
    report = ok(installation.imports.post("/api/report/process/single", headers=headers, json={
        "name": "Invoices", "collectionId": collection, "data": report_data()}))["id"]
    dashboard = ok(installation.imports.post("/api/dashboard", headers=headers, json={
        "name": "Overview", "collectionId": collection, "tiles": [tile(report)]}))["id"]
    export_file = ok(installation.export.get(f"/api/export/report/json/{report}/r.json", headers=headers))

    calls = []
    for service in ("export", "import"):
        rpc = installation.app(service).extensions[service].catalog
        rpc.call = _counting(rpc.call, calls)
    yield installation, {"c": collection, "r": report, "d": dashboard}, export_file, calls
    installation.close()


def _counting(call, calls):
    def counted(method, params, **kwargs):
        calls.append(method)
        return call(method, params, **kwargs)
    return counted


# (service, method, path, body, the catalog method the route asks); {c}, {r}, {d}: collection, report,
# dashboard; "file": the export file of the report.
ROUTES = [
    ("export", "GET", "/api/entities", None, "collection_access"),
    ("export", "GET", "/api/collection/{c}/entities", None, "collection_access"),
    ("export", "GET", "/api/report/{r}", None, "check_export"),
    ("export", "GET", "/api/dashboard/{d}", None, "check_export"),
    ("export", "GET", "/api/export/report/json/{r}/r.json", None, "check_export"),
    ("export", "GET", "/api/export/dashboard/json/{d}/d.json", None, "check_export"),
    ("export", "GET", "/api/export/collection/json/{c}/c.json", None, "collection_access"),
    ("export", "POST", "/api/public/export/collection/definition/json", ["{c}"], "collection_access"),
    ("export", "POST", "/api/public/export/report/definition/json", ["{r}"], "collection_access"),
    ("export", "POST", "/api/public/export/dashboard/definition/json", ["{d}"], "collection_access"),
    ("import", "POST", "/api/import", "file", "check_import"),
    ("import", "POST", "/api/import?collectionId={c}", "file", "check_import"),
    ("import", "POST", "/api/import?dryRun=true", "file", "check_import"),
    ("import", "POST", "/api/public/import?collectionId={c}", "file", "check_import"),
    ("import", "POST", "/api/report/process/single", {"collectionId": "{c}", "data": report_data()},
     "check_import"),
    ("import", "POST", "/api/report/decision/single", {"collectionId": "{c}", "data": report_data("approve")},
     "check_import"),
    ("import", "POST", "/api/report/process/combined",
     {"collectionId": "{c}", "data": {"configuration": {}, "visualization": "bar",
                                      "reports": [{"id": "{r}", "color": "#1991c8"}]}}, "check_import"),
    ("import", "POST", "/api/dashboard", {"collectionId": "{c}", "tiles": [tile("{r}")]},
     "check_import"),
    ("import", "PUT", "/api/report/{r}", {"name": "Renamed"}, "check_import"),
    ("import", "PUT", "/api/dashboard/{d}", {"name": "Renamed"}, "check_import"),
    ("import", "DELETE", "/api/dashboard/{d}", None, "collection_access"),
    ("import", "DELETE", "/api/report/{r}", None, "collection_access"),
]


def _filled(value, ids):
    if isinstance(value, str):
        return value.format(**ids)
    if isinstance(value, list):
        return [_filled(item, ids) for item in value]
    if isinstance(value, dict):
        return {key: _filled(item, ids) for key, item in value.items()}
    return value


def answers_of_every_route(installation, ids, export_file, calls) -> list[tuple]:
    """Per route: (path, status, errorCode, Retry-After given, catalog calls made, within the deadline)."""
    answers = []
    for service, method, path, body, _ in ROUTES:
        public = path.startswith("/api/public/")
        headers = installation.public_headers() if public else installation.headers()
        client = installation.export if service == "export" else installation.imports
        payload = export_file if body == "file" else _filled(body, ids)
        calls.clear()
        started = time.monotonic()
        response = client.open(_filled(path, ids), method=method, headers=headers, json=payload)
        elapsed = time.monotonic() - started
        body_json = response.get_json(silent=True)
        error_code = body_json.get("errorCode") if isinstance(body_json, dict) else None
        answers.append((path, response.status_code, error_code, "Retry-After" in response.headers,
                        list(calls), elapsed < RPC_DEADLINE_S))
    return answers


def expected_answers() -> list[tuple]:
    return [(path, 503, "serviceUnavailable", True, [asks], True) for _, _, path, _, asks in ROUTES]


def stored_entities(installation) -> list[tuple[str, str]]:
    db = installation.app("import").extensions["import"].db
    return sorted((document["entityType"], document["name"])
                  for name in ("reports", "dashboards") for document in db[name].find())


def test_catalog_stopped_every_route_that_needs_it_is_service_unavailable(world):
    installation, ids, export_file, calls = world
    before = stored_entities(installation)
    installation.stop_catalog_worker()
    assert answers_of_every_route(installation, ids, export_file, calls) == expected_answers()
    assert stored_entities(installation) == before


def test_catalog_answering_an_error_every_route_that_needs_it_is_service_unavailable(world):
    installation, ids, export_file, calls = world
    before = stored_entities(installation)
    installation.fail_catalog_store()
    assert answers_of_every_route(installation, ids, export_file, calls) == expected_answers()
    assert stored_entities(installation) == before
