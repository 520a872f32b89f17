"""An overwriting import (mode=overwrite) shows the old versions or the new ones, never a mix, whatever
kills it: a process SIGKILLed after the reports were replaced but not the dashboard, after every entity
was replaced but before the commit record, and after the commit record. Read as a user reads (export-svc's
lists, single entities and collection export); the store is looked at directly only for leftovers."""

import json
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
from pymongo import MongoClient

from optimize_testing.pytest_plugin import REAL_OPTIMIZE_EXPORT

NASA = "NasaImageProcessing"

IMPORTING_PROCESS = textwrap.dedent("""
    import json, sys
    from import_svc.adapters import entity_store
    from import_svc.app import create_app
    from import_svc.config import ImportConfig

    environ, headers, query, body, part_bytes = json.loads(sys.stdin.read())
    entity_store.INSERT_PART_BYTES = part_bytes or entity_store.INSERT_PART_BYTES
    app = create_app(ImportConfig.from_env(environ))
    response = app.test_client().post(f"/api/import?{query}", data=body, content_type="application/json",
                                      headers=headers)
    print(response.status_code, response.get_data(as_text=True)[:300])
""")


def real_file(prefix: str = "") -> str:
    entities = json.loads(REAL_OPTIMIZE_EXPORT.read_bytes())
    for entity in entities:
        entity["name"] = prefix + entity["name"]
    return json.dumps(entities)


@pytest.fixture
def collection_id(installation) -> str:
    catalog, headers = installation.catalog, installation.headers()
    definition = [{"type": "process", "key": NASA, "name": NASA, "version": "1", "tenantId": None}]
    assert catalog.post("/api/definition", json=definition, headers=headers).status_code in (200, 204)
    grant = [{"identity": {"id": "demo", "type": "user"}, "definitionType": "process", "definitionKey": "*",
              "tenants": [None]}]
    assert catalog.post("/api/authorization", json=grant, headers=headers).status_code in (200, 204)
    created = catalog.post("/api/collection", json={"name": "Promotion"}, headers=headers).json["id"]
    scope = [{"definitionType": "process", "definitionKey": NASA, "tenants": [None]}]
    scoped = catalog.post(f"/api/collection/{created}/scope", json=scope, headers=headers)
    assert scoped.status_code in (200, 204)
    return created


def overwrite(installation, collection_id: str, body: str, key: str):
    return installation.imports.post(f"/api/import?collectionId={collection_id}&mode=overwrite", data=body,
                                     content_type="application/json",
                                     headers={**installation.headers(), "Idempotency-Key": key})


def what_a_user_sees(installation, collection_id: str, ids: list[str]) -> dict[str, set[str]]:
    """The names every read path shows for the collection's entities."""
    headers = installation.headers()
    listed = installation.export.get(f"/api/collection/{collection_id}/entities", headers=headers).json
    everything = installation.export.get("/api/entities", headers=headers).json
    exported = installation.export.get(f"/api/export/collection/json/{collection_id}/c.json",
                                       headers=headers).json
    single = [installation.export.get(f"/api/{kind}/{entity_id}", headers=headers)
              for entity_id in ids for kind in ("report", "dashboard")]
    return {"listed": {entity["name"] for entity in listed},
            "in the entity list": {entity["name"] for entity in everything
                                   if entity["collectionId"] == collection_id},
            "exported": {entity["name"] for entity in exported},
            "read one by one": {response.json["name"] for response in single if response.status_code == 200}}


def shown(names: set[str]) -> dict[str, set[str]]:
    return {"listed": names, "in the entity list": names, "exported": names, "read one by one": names}


def wait_paused(pause_file: Path, process: subprocess.Popen, timeout_s: float = 120) -> tuple[int, str]:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if pause_file.exists() and (text := pause_file.read_text()):
            pid, point = text.split()
            return int(pid), point
        if process.poll() is not None:
            raise AssertionError(f"the importing process ended before pausing: {process.communicate()}")
        time.sleep(0.05)
    raise AssertionError(f"no process paused within {timeout_s} s")


def store(installation):
    return MongoClient(installation.environ["OPTIMIZE_MONGODB_URI"])[installation.names.entities_db]


def replaced_in_store(installation) -> int:
    """Documents holding a new version over an old one (what the killed import wrote)."""
    db = store(installation)
    return sum(db[name].count_documents({"previous": {"$exists": True}})
               for name in ("reports", "dashboards"))


IN_MEMORY, SPOOLED = "in-memory", "spooled"
# Spooled: the 83 KiB file goes to a temporary file (over 16 KiB) and read from there; the reports (12 KB
# each) are replaced in parts of 30 KiB (4 MB in production: the same rule, less data).
SPOOLING = {"OPTIMIZE_IMPORT_SPOOL_BYTES": str(16 * 1024)}
SMALL_PART_BYTES = 30 * 1024


@pytest.mark.parametrize(("body_path", "point"), [
    *((IN_MEMORY, point) for point in ("batch-written", "entities-written", "committed")),
    *((SPOOLED, point) for point in ("part-written", "entities-written", "committed"))])
def test_an_overwrite_killed_at_any_point_shows_the_old_versions_or_the_new_ones_never_a_mix(
        installation, collection_id, tmp_path, body_path, point):
    """Killed after the six reports were replaced but not the dashboard (spooled: after the first part of
    them), after all seven before the commit record, and after the commit record (before the old versions
    are dropped)."""
    first = overwrite(installation, collection_id, real_file(), "first")
    assert first.status_code == 200, first.json
    ids = [item["id"] for item in first.json]
    old = {entity["name"] for entity in json.loads(real_file())}
    new = {f"NEW {name}" for name in old}

    pause_file = tmp_path / "paused"
    environ = {**installation.environ, "OPTIMIZE_IMPORT_PAUSE_AT": point,
               "OPTIMIZE_IMPORT_PAUSE_FILE": str(pause_file), **(SPOOLING if body_path == SPOOLED else {})}
    headers = {**installation.headers(), "Idempotency-Key": f"crash-{body_path}-{point}"}
    query = f"collectionId={collection_id}&mode=overwrite"
    process = subprocess.Popen([sys.executable, "-c", IMPORTING_PROCESS], stdin=subprocess.PIPE,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    part_bytes = SMALL_PART_BYTES if body_path == SPOOLED else None
    process.stdin.write(json.dumps([environ, headers, query, real_file("NEW "), part_bytes]))
    process.stdin.close()
    try:
        assert wait_paused(pause_file, process) == (process.pid, point)
        if point == "part-written":
            assert 0 < replaced_in_store(installation) < 6  # between two parts of the reports
        else:
            replaced = {"batch-written": 6, "entities-written": 7, "committed": 7}[point]
            assert replaced_in_store(installation) == replaced  # the kill lands where it should
        while_paused = what_a_user_sees(installation, collection_id, ids)
        changed = installation.imports.put(f"/api/report/{ids[0]}", json={"name": "Edited meanwhile"},
                                           headers=installation.headers())
    finally:
        process.kill()
        process.wait(30)
        process.stdout.close()
        process.stderr.close()

    committed = point == "committed"
    assert while_paused == shown(new if committed else old)
    # An edit while the overwrite runs would be undone or lost with it: refused, try again.
    assert changed.status_code == (204 if committed else 409), changed.json
    if committed:
        edited = f"NEW {json.loads(real_file())[0]['name']}"
        new = {"Edited meanwhile" if name == edited else name for name in new}
    assert what_a_user_sees(installation, collection_id, ids) == shown(new if committed else old)

    if point == "batch-written":
        # The retry first: it finds the old versions held by a dead import and sweeps them back first.
        retried = overwrite(installation, collection_id, real_file("NEW "), headers["Idempotency-Key"])
    else:
        journal = installation.app("import").extensions["import"].import_journal
        swept = journal.sweep()
        assert len(swept.removed_records) == (0 if committed else 1)
        assert replaced_in_store(installation) == 0
        assert what_a_user_sees(installation, collection_id, ids) == shown(new if committed else old)
        retried = overwrite(installation, collection_id, real_file("NEW "), headers["Idempotency-Key"])

    assert retried.status_code == 200, retried.json
    assert [item["id"] for item in retried.json] == ids  # the same entities, never a copy
    if not committed:
        assert [item["action"] for item in retried.json] == ["updated"] * 7
    assert what_a_user_sees(installation, collection_id, ids) == shown(new)
    assert replaced_in_store(installation) == 0
    db = store(installation)
    assert sum(db[name].count_documents({}) for name in ("reports", "dashboards")) == 7
