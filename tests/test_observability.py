"""What an operator sees after one import and one export: the named series on /metrics of each service,
and JSON log lines that join the import-svc request with the catalog worker's answer by request id."""

import io
import json
import logging

import pytest
from prometheus_client import REGISTRY

from optimize_runtime.observability.logs import JsonLogFormatter

NASA = "NasaImageProcessing"


def process_report(report_id: str, key: str) -> dict:
    return {
        "id": report_id, "exportEntityType": "single_process_report", "name": f"Report {report_id}",
        "description": None, "sourceIndexVersion": 11, "collectionId": None,
        "data": {"definitions": [{"identifier": "d", "key": key, "versions": ["1"], "tenantIds": [None]}],
                 "configuration": {}, "filter": [], "view": None, "groupBy": None,
                 "visualization": "number", "managementReport": False, "instantPreviewReport": False},
    }


def seed_definition(installation, key: str) -> None:
    headers = installation.headers()
    definition = [{"type": "process", "key": key, "name": key, "version": "1", "tenantId": None,
                   "xml": f"<definitions id='{key}'/>"}]
    response = installation.catalog.post("/api/definition", json=definition, headers=headers)
    assert response.status_code in (200, 204), response.json
    grant = [{"identity": {"id": "demo", "type": "user"}, "definitionType": "process", "definitionKey": "*",
              "tenants": [None]}]
    response = installation.catalog.post("/api/authorization", json=grant, headers=headers)
    assert response.status_code in (200, 204), response.json


@pytest.fixture
def json_logs():
    """Every log line of this process (the apps and the catalog worker thread), as JSON objects."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonLogFormatter("test"))
    root = logging.getLogger()
    level = root.level
    root.addHandler(handler)
    root.setLevel(logging.INFO)
    yield lambda: [json.loads(line) for line in stream.getvalue().splitlines()]
    root.removeHandler(handler)
    root.setLevel(level)


def sample(name: str, **labels: str) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


def test_one_import_and_one_export_show_in_metrics_and_logs(installation, json_logs):
    seed_definition(installation, NASA)
    headers = installation.headers()
    before = {
        "import_requests": sample("optimize_http_requests_total", service="import-svc", route="/api/import",
                                  method="POST", status="200"),
        "check_import": sample("optimize_rpc_client_calls_total", method="check_import", outcome="ok"),
        "served": sample("optimize_rpc_server_requests_total", method="check_import", outcome="ok"),
        "imported": sample("optimize_imports_total", outcome="imported", error_code=""),
        "rejected": sample("optimize_imports_total", outcome="rejected",
                           error_code="importDefinitionDoesNotExist"),
        "written": sample("optimize_entities_written_total", entity_type="report", operation="imported"),
        "exports": sample("optimize_exports_total", entity_type="report", api="user"),
        "exported": sample("optimize_exported_entities_total", entity_type="single_process_report"),
    }

    imported = installation.imports.post("/api/import", json=[process_report("r1", NASA)],
                                         headers={**headers, "X-Request-Id": "import-request-1"})
    assert imported.status_code == 200, imported.json
    assert imported.headers["X-Request-Id"] == "import-request-1"
    refused = installation.imports.post("/api/import", json=[process_report("r2", "unknownProcess")],
                                        headers=headers)
    assert refused.json["errorCode"] == "importDefinitionDoesNotExist"
    [report] = imported.json
    exported = installation.export.get(f"/api/export/report/json/{report['id']}/r1.json",
                                       headers={**headers, "X-Request-Id": "export-request-1"})
    assert exported.status_code == 200, exported.json

    assert sample("optimize_http_requests_total", service="import-svc", route="/api/import", method="POST",
                  status="200") == before["import_requests"] + 1
    assert sample("optimize_rpc_client_calls_total", method="check_import",
                  outcome="ok") > before["check_import"]
    assert sample("optimize_rpc_server_requests_total", method="check_import",
                  outcome="ok") > before["served"]
    assert sample("optimize_imports_total", outcome="imported", error_code="") == before["imported"] + 1
    assert sample("optimize_imports_total", outcome="rejected",
                  error_code="importDefinitionDoesNotExist") == before["rejected"] + 1
    assert sample("optimize_entities_written_total", entity_type=report["entityType"],
                  operation="imported") == before["written"] + 1
    assert sample("optimize_exports_total", entity_type="report", api="user") == before["exports"] + 1
    assert sample("optimize_exported_entities_total",
                  entity_type="single_process_report") == before["exported"] + 1
    assert sample("optimize_http_request_duration_seconds_count", service="export-svc",
                  route="/api/export/report/json/<report_id>/<file_name>", method="GET") >= 1

    for client, series in ((installation.imports, "optimize_imports_total"),
                           (installation.export, "optimize_exports_total"),
                           (installation.catalog, "optimize_http_requests_total")):
        metrics = client.get("/metrics")
        assert metrics.status_code == 200
        assert metrics.content_type.startswith("text/plain")
        assert series in metrics.get_data(as_text=True)

    lines = json_logs()
    assert {"time", "level", "service", "requestId", "userId", "message"} <= set(lines[-1])
    joined = [line for line in lines if line["requestId"] == "import-request-1"]
    access = [line for line in joined if line["logger"] == "optimize.requests"]
    assert [(line["status"], line["userId"], line["route"]) for line in access] == [
        (200, "demo", "/api/import")]
    worker = [line for line in joined if line.get("rpcMethod") == "check_import"]
    assert [line["outcome"] for line in worker] == ["ok"], "the catalog worker logs the same request id"
    token = headers["Authorization"].split()[1]
    assert not any(token in json.dumps(line) for line in lines)
