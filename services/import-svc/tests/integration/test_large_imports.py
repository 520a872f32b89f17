"""A large import file is spooled and read entity by entity: what the worker holds while importing it is a
small part of the file, whatever the file's size (memory, not time: counted with tracemalloc)."""

import json
import tracemalloc

import pytest

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


@pytest.fixture
def installation(servers, names, monkeypatch):
    """Bodies over 1 MiB spooled; parts and batches small beside the file, by the same rules as in
    production (4 MB parts, 500 earlier copies per batch)."""
    monkeypatch.setattr(entity_store, "INSERT_PART_BYTES", 256 * 1024)
    monkeypatch.setattr(entity_store, "EARLIER_COPIES_BATCH", 5)
    running = start_installation(servers, names, OPTIMIZE_IMPORT_SPOOL_BYTES=str(1024 * 1024))
    headers = running.headers()
    running.catalog.post("/api/definition", headers=headers, json=[
        {"type": "process", "key": "invoice", "name": "Invoice", "version": "1", "tenantId": None}])
    running.catalog.post("/api/authorization", headers=headers, json=[
        {"identity": {"id": "demo", "type": "user"}, "definitionType": "process",
         "definitionKey": "invoice", "tenants": [None]}])
    yield running
    running.close()


def peak_growth(post) -> tuple[object, int]:
    """The answer of `post()`, and how much more memory than before it Python held at its peak."""
    tracemalloc.start()
    try:
        held_before = tracemalloc.get_traced_memory()[0]
        response = post()
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    return response, peak - held_before


def test_a_large_import_holds_a_small_part_of_its_file_at_any_time(installation):
    body = large_file()
    response, growth = peak_growth(lambda: installation.imports.post(
        "/api/import", data=body, content_type="application/json", headers=installation.headers()))
    assert response.status_code == 200, response.get_data(as_text=True)[:500]
    assert len(response.json) == REPORTS
    print(f"file {len(body) / 2**20:.1f} MiB, peak growth {growth / 2**20:.2f} MiB")
    # Held whole (as bytes, parsed or as documents), the file would take at least its size.
    assert growth < len(body) / 3


def test_a_large_overwrite_holds_a_small_part_of_its_file_and_of_the_copies_it_replaces(installation):
    """mode=overwrite over the copies an earlier import of the same file made: every entity updated in
    place. It reads the earlier copies (as large as the file) and writes new versions holding them."""
    headers = installation.headers()
    body = large_file()
    first = installation.imports.post("/api/import?mode=overwrite", data=body,
                                      content_type="application/json", headers=headers)
    assert first.status_code == 200, first.get_data(as_text=True)[:500]
    renamed = body.replace(b'"name": "Report ', b'"name": "Renamed ')
    response, growth = peak_growth(lambda: installation.imports.post(
        "/api/import?mode=overwrite", data=renamed, content_type="application/json", headers=headers))
    assert response.status_code == 200, response.get_data(as_text=True)[:500]
    assert [(item["id"], item["action"]) for item in response.json] == [
        (item["id"], "updated") for item in first.json]
    listed = installation.export.get("/api/entities?limit=1000", headers=headers).json
    assert sorted(entity["name"] for entity in listed) == sorted(f"Renamed {i}" for i in range(REPORTS))
    print(f"file {len(body) / 2**20:.1f} MiB, overwrite's peak growth {growth / 2**20:.2f} MiB")
    # Holding the earlier copies, or the new versions, whole would take at least the file's size.
    assert growth < len(body) / 3
