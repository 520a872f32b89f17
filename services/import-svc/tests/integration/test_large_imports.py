"""A large import file is spooled and read entity by entity: what the worker holds while importing it is a
small part of the file, whatever the file's size (memory, not time: counted with tracemalloc)."""

import json
import tracemalloc

from import_svc.adapters import entity_store
from optimize_testing.installation import start_installation

REPORTS = 200
XML_BYTES = 40_000  # a BPMN diagram as Optimize exports it with each report


def large_file() -> bytes:
    reports = [{
        "id": f"00000000-0000-4000-8000-{i:012x}", "exportEntityType": "single_process_report",
        "name": f"Report {i}", "description": None, "sourceIndexVersion": 11, "collectionId": None,
        "data": {"definitions": [{"identifier": "d", "key": "invoice", "versions": ["1"],
                                  "tenantIds": [None]}],
                 "configuration": {"xml": f"<bpmn:definitions id='{i}'>{'x' * XML_BYTES}</bpmn:definitions>"},
                 "filter": [], "view": {"properties": ["frequency"]}, "groupBy": {"type": "none"},
                 "visualization": "number", "managementReport": False, "instantPreviewReport": False},
    } for i in range(REPORTS)]
    return json.dumps(reports).encode()


def test_a_large_import_holds_a_small_part_of_its_file_at_any_time(servers, names, monkeypatch):
    # 8 MB in production: the same rule with parts small beside this file.
    monkeypatch.setattr(entity_store, "INSERT_PART_BYTES", 256 * 1024)
    installation = start_installation(servers, names, OPTIMIZE_IMPORT_SPOOL_BYTES=str(1024 * 1024))
    try:
        headers = installation.headers()
        installation.catalog.post("/api/definition", headers=headers, json=[
            {"type": "process", "key": "invoice", "name": "Invoice", "version": "1", "tenantId": None}])
        installation.catalog.post("/api/authorization", headers=headers, json=[
            {"identity": {"id": "demo", "type": "user"}, "definitionType": "process",
             "definitionKey": "invoice", "tenants": [None]}])
        body = large_file()
        tracemalloc.start()
        try:
            held_before = tracemalloc.get_traced_memory()[0]
            response = installation.imports.post("/api/import", data=body, content_type="application/json",
                                                 headers=headers)
            peak = tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()
        assert response.status_code == 200, response.get_data(as_text=True)[:500]
        assert len(response.json) == REPORTS
        print(f"file {len(body) / 2**20:.1f} MiB, peak growth {(peak - held_before) / 2**20:.2f} MiB")
        # Held whole (as bytes, parsed or as documents), the file would take at least its size.
        assert peak - held_before < len(body) / 3
    finally:
        installation.close()
