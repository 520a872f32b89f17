"""An import is visible whole or not at all, whatever kills it: a process SIGKILLed at each named point
of the write, a gunicorn worker killed under `import-svc serve` (as `make run` starts it), and a reader
polling while a large import is written. Reads are made as a user makes them, through export-svc and
authoring; the store is looked at directly only to say what is left over before and after the sweep."""

import json
import os
import signal
import subprocess
import sys
import textwrap
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from pymongo import MongoClient

from import_svc.app import create_app
from import_svc.config import ImportConfig
from import_svc.domain.importing.spooled_file import SPOOL_PREFIX
from optimize_runtime.infra.ports import free_port, wait_for_port

REPORTS = 2000  # plus one dashboard: 2,001 entities


def report(number: int) -> dict:
    return {"id": f"r{number}", "exportEntityType": "single_process_report", "name": f"Report {number}",
            "description": None, "sourceIndexVersion": 11, "collectionId": None,
            "data": {"definitions": [{"key": "invoice", "versions": ["1"], "tenantIds": [None]}],
                     "configuration": {}, "filter": [], "view": None, "groupBy": None,
                     "visualization": "number"}}


def big_file() -> bytes:
    tiles = [{"id": f"r{i}", "type": "optimize_report", "position": {"x": 0, "y": i},
              "dimensions": {"width": 4, "height": 2}, "configuration": None} for i in range(3)]
    dashboard = {"id": "d", "exportEntityType": "dashboard", "name": "Board", "description": None,
                 "sourceIndexVersion": 8, "collectionId": None, "tiles": tiles, "availableFilters": []}
    return json.dumps([*(report(i) for i in range(REPORTS)), dashboard]).encode()


@pytest.fixture
def target(installation):
    """A collection that accepts the big file, and the file."""
    catalog, headers = installation.catalog, installation.headers()
    definition = [{"type": "process", "key": "invoice", "name": "Invoice", "version": "1", "tenantId": None}]
    assert catalog.post("/api/definition", json=definition, headers=headers).status_code in (200, 204)
    grant = [{"identity": {"id": "demo", "type": "user"}, "definitionType": "process", "definitionKey": "*",
              "tenants": [None]}]
    assert catalog.post("/api/authorization", json=grant, headers=headers).status_code in (200, 204)
    collection_id = catalog.post("/api/collection", json={"name": "Crash"}, headers=headers).json["id"]
    scope = [{"definitionType": "process", "definitionKey": "invoice", "tenants": [None]}]
    assert catalog.post(f"/api/collection/{collection_id}/scope", json=scope,
                        headers=headers).status_code in (200, 204)
    return collection_id, big_file()


def store(installation):
    return MongoClient(installation.environ["OPTIMIZE_MONGODB_URI"])[installation.names.entities_db]


def stored_ids(installation, collection_id: str) -> list[str]:
    db = store(installation)
    return [doc["_id"] for name in ("reports", "dashboards")
            for doc in db[name].find({"collectionId": collection_id}, {"_id": 1})]


def what_a_user_sees(installation, collection_id: str, ids: list[str]) -> dict:
    """Every read path, for the entities of the collection and for those ids in particular."""
    headers, export = installation.headers(), installation.export
    listed = export.get(f"/api/collection/{collection_id}/entities?limit=10000", headers=headers).json
    everything = export.get("/api/entities?limit=10000", headers=headers).json  # one page: all
    exported = export.get(f"/api/export/collection/json/{collection_id}/c.json", headers=headers)
    readable = [i for i in ids for kind in ("report", "dashboard")
                if export.get(f"/api/{kind}/{i}", headers=headers).status_code == 200]
    changeable = [i for i in ids for kind in ("report", "dashboard") if installation.imports.put(
        f"/api/{kind}/{i}", json={"name": "changed"}, headers=headers).status_code == 204]
    return {"listed": len(listed),
            "in the entity list": sum(entity["collectionId"] == collection_id for entity in everything),
            "exported": len(exported.json), "readable": len(readable), "changeable": len(changeable)}


NOTHING = {"listed": 0, "in the entity list": 0, "exported": 0, "readable": 0, "changeable": 0}


def everything(sample: int) -> dict:
    return {"listed": REPORTS + 1, "in the entity list": REPORTS + 1, "exported": REPORTS + 1,
            "readable": sample, "changeable": sample}


IMPORTING_PROCESS = textwrap.dedent("""
    import json, sys
    from import_svc.adapters import entity_store
    from import_svc.app import create_app
    from import_svc.config import ImportConfig

    environ, headers, collection_id, body, part_bytes = json.loads(sys.stdin.read())
    entity_store.INSERT_PART_BYTES = part_bytes or entity_store.INSERT_PART_BYTES
    app = create_app(ImportConfig.from_env(environ))
    response = app.test_client().post(f"/api/import?collectionId={collection_id}", data=body,
                                      content_type="application/json", headers=headers)
    print(response.status_code, response.get_data(as_text=True)[:300])
""")


def wait_paused(pause_file: Path, process: subprocess.Popen | None = None,
                timeout_s: float = 120) -> tuple[int, str]:
    """The pid and point of the process that paused."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if pause_file.exists() and (text := pause_file.read_text()):
            pid, point = text.split()
            return int(pid), point
        if process is not None and process.poll() is not None:
            raise AssertionError(f"the importing process ended before pausing: {process.communicate()}")
        time.sleep(0.05)
    raise AssertionError(f"no process paused within {timeout_s} s")


def import_again(installation, collection_id: str, body: bytes, key: str):
    return installation.imports.post(f"/api/import?collectionId={collection_id}", data=body,
                                     content_type="application/json",
                                     headers={**installation.headers(), "Idempotency-Key": key})


def sweep_from_two_threads_at_once(installation) -> list:
    """Two sweeps racing (as two processes' sweepers would): together they remove everything once."""
    journal = installation.app("import").extensions["import"].import_journal
    results, barrier = [], threading.Barrier(2)

    def sweep():
        barrier.wait()
        results.append(journal.sweep())

    threads = [threading.Thread(target=sweep) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    return results


IN_MEMORY, SPOOLED = "in-memory", "spooled"
# Spooled: bodies over 64 KiB go to a temporary file, and the 2,001 entities (some 1.4 MB as documents) are
# inserted in parts of 128 KiB (4 MB in production: the same rule, less data), so a kill can fall between two.
SPOOLING = {"OPTIMIZE_IMPORT_SPOOL_BYTES": str(64 * 1024)}
SMALL_PART_BYTES = 128 * 1024


def spool_files(pid: int, spool_dir: Path) -> list[str]:
    """The files in `spool_dir` the process holds open (a spooled body), as /proc names them; a gunicorn
    worker's heartbeat file (`wgunicorn-...`, also nameless) left out."""
    held = (os.readlink(descriptor) for descriptor in Path(f"/proc/{pid}/fd").iterdir())
    return [name for name in held if name.startswith(f"{spool_dir}/") and "/wgunicorn-" not in name]


def named_files(spool_dir: Path) -> list[str]:
    """The files with a name in `spool_dir`, but for a gunicorn worker's heartbeat file, which has one for
    an instant while a new worker starts (gunicorn's WorkerTmp: mkstemp, then unlink)."""
    return sorted(name for name in os.listdir(spool_dir) if not name.startswith("wgunicorn-"))


@pytest.mark.parametrize(("body_path", "point"), [
    *((IN_MEMORY, point) for point in ("claimed", "batch-written", "entities-written", "committed")),
    *((SPOOLED, point) for point in ("claimed", "part-written", "entities-written", "committed"))])
def test_an_import_killed_at_any_point_shows_nothing_or_everything_and_a_retry_leaves_one_copy(
        installation, target, tmp_path, body_path, point):
    """Killed after claiming its key (before any entity), after the reports but before the dashboard
    (during the writes), after every entity but before the commit record, and after the commit record
    (before its markers are cleared). Spooled, the body is read from a temporary file in two passes and
    the kill during the writes falls between two insert parts; the temporary file has no name on disk
    while the import runs, so the kill leaves none."""
    collection_id, body = target
    pause_file, spool_dir = tmp_path / "paused", tmp_path / "spool"
    spool_dir.mkdir()
    environ = {**installation.environ, "OPTIMIZE_IMPORT_PAUSE_AT": point, "OPTIMIZE_IMPORT_PAUSE_FILE":
               str(pause_file), **(SPOOLING if body_path == SPOOLED else {})}
    headers = {**installation.headers(), "Idempotency-Key": f"crash-{body_path}-{point}"}
    process = subprocess.Popen([sys.executable, "-c", IMPORTING_PROCESS], stdin=subprocess.PIPE,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                               env={**os.environ, "TMPDIR": str(spool_dir)})
    part_bytes = SMALL_PART_BYTES if body_path == SPOOLED else None
    process.stdin.write(json.dumps([environ, headers, collection_id, body.decode(), part_bytes]))
    process.stdin.close()
    try:
        pid, paused_at = wait_paused(pause_file, process)
        assert (pid, paused_at) == (process.pid, point)
        held_spools, named_spools = spool_files(pid, spool_dir), os.listdir(spool_dir)
        left = stored_ids(installation, collection_id)
        if point == "part-written":
            assert 0 < len(left) < REPORTS  # the kill lands between two parts of the reports
        else:
            expected = {"claimed": 0, "batch-written": REPORTS, "entities-written": REPORTS + 1,
                        "committed": REPORTS + 1}[point]
            assert len(left) == expected  # the kill lands where it should
        sample = left[:3] + left[-3:]
        visible_while_paused = what_a_user_sees(installation, collection_id, sample)
    finally:
        process.kill()
        process.wait(30)
        process.stdout.close()
        process.stderr.close()

    # The spooled body is open (in memory: none), nameless: nothing of it outlives the process.
    assert [name.endswith(" (deleted)") for name in held_spools] == ([True] if body_path == SPOOLED else [])
    assert named_spools == [] and os.listdir(spool_dir) == []
    committed = point == "committed"
    assert visible_while_paused == (everything(len(sample)) if committed else NOTHING)
    assert what_a_user_sees(installation, collection_id, sample) == (
        everything(len(sample)) if committed else NOTHING)

    if point in ("claimed", "batch-written"):
        # The retry first: it takes the dead attempt's key over, then the sweep finds nothing to do.
        retried = import_again(installation, collection_id, body, headers["Idempotency-Key"])
        sweeps = sweep_from_two_threads_at_once(installation)
        assert [sweep.removed_records for sweep in sweeps] == [[], []]
    else:
        sweeps = sweep_from_two_threads_at_once(installation)
        removed = sorted(record for sweep in sweeps for record in sweep.removed_records)
        assert len(removed) == (0 if committed else 1)  # one of the two sweeps removed the dead record
        assert len(stored_ids(installation, collection_id)) == (REPORTS + 1 if committed else 0)
        # The retry reads its body in memory: the same file is the same request, whichever way it is read.
        retried = import_again(installation, collection_id, body, headers["Idempotency-Key"])

    assert retried.status_code == 200, retried.json
    ids = stored_ids(installation, collection_id)
    assert sorted(ids) == sorted(item["id"] for item in retried.json)  # exactly one copy
    if committed:
        assert sorted(sample) == sorted(set(sample) & set(ids))  # the committed import was answered again
    again = what_a_user_sees(installation, collection_id, ids[:2])
    assert again == everything(2)
    installation.app("import").extensions["import"].import_journal.markers.flush()  # else a moment later
    assert store(installation).reports.count_documents({"pending": {"$exists": True}}) == 0


@pytest.mark.parametrize("then", ["retry", "sweep"])
def test_an_import_killed_between_its_claim_and_the_verdict_leaves_a_dead_claim_and_nothing_else(
        installation, target, tmp_path, then):
    """The record is claimed while the catalog's verdict is on its way: an import the catalog refuses
    (a definition it does not know) still has its record claimed when it is killed there. That dead claim
    shows nothing to anyone; a retry with the key takes it over and is refused, leaving no record; without a
    retry, the sweeper removes it."""
    collection_id, _ = target
    installation.app("import")  # started (and its start-up sweep done) before the import is killed
    unknown = report(0)
    unknown["data"]["definitions"][0]["key"] = "nowhere"
    body = json.dumps([report(1), unknown]).encode()
    pause_file = tmp_path / "paused"
    environ = {**installation.environ, "OPTIMIZE_IMPORT_PAUSE_AT": "claimed",
               "OPTIMIZE_IMPORT_PAUSE_FILE": str(pause_file)}
    headers = {**installation.headers(), "Idempotency-Key": f"claimed-{then}"}
    process = subprocess.Popen([sys.executable, "-c", IMPORTING_PROCESS], stdin=subprocess.PIPE,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    process.stdin.write(json.dumps([environ, headers, collection_id, body.decode(), None]))
    process.stdin.close()
    try:
        assert wait_paused(pause_file, process) == (process.pid, "claimed")
        [claimed] = list(store(installation).import_journal.find())
        visible_while_paused = what_a_user_sees(installation, collection_id, [])
    finally:
        process.kill()
        process.wait(30)
        process.stdout.close()
        process.stderr.close()
    assert (claimed["state"], claimed["owner"]["pid"]) == ("pending", process.pid)
    assert visible_while_paused == NOTHING == what_a_user_sees(installation, collection_id, [])

    if then == "retry":
        retried = import_again(installation, collection_id, body, f"claimed-{then}")
        assert (retried.status_code, retried.json["errorCode"]) == (400, "importDefinitionDoesNotExist")
    else:
        sweeps = sweep_from_two_threads_at_once(installation)
        assert sorted(record for sweep in sweeps for record in sweep.removed_records) == [claimed["_id"]]
    assert list(store(installation).import_journal.find()) == []
    assert stored_ids(installation, collection_id) == []


def test_an_import_answering_after_the_read_timeout_is_answered_not_cut_off(installation, target, tmp_path):
    """The read timeout is for the request's head and body: an import held (paused after its record is
    claimed) longer than it, on a large file or a busy machine, still gets its answer."""
    collection_id, body = target
    pause_file, port, read_timeout_s = tmp_path / "paused", free_port(), 2
    server = subprocess.Popen(
        [str(Path(sys.executable).parent / "import-svc"), "serve"],
        env={**os.environ, **installation.environ, "OPTIMIZE_IMPORT_PORT": str(port),
             "OPTIMIZE_HTTP_WORKERS": "1", "OPTIMIZE_HTTP_READ_TIMEOUT_S": str(read_timeout_s),
             "OPTIMIZE_IMPORT_PAUSE_AT": "claimed", "OPTIMIZE_IMPORT_PAUSE_FILE": str(pause_file),
             "OPTIMIZE_METRICS_DIR": str(tmp_path / "metrics")},
        stderr=(tmp_path / "import-svc.log").open("w"))
    answers: list = []

    def post() -> None:
        request = urllib.request.Request(
            f"http://127.0.0.1:{port}/api/import?collectionId={collection_id}", data=body,
            headers={**installation.headers(), "Content-Type": "application/json"})
        try:
            with urllib.request.urlopen(request, timeout=120) as response:
                answers.append((response.status, len(json.loads(response.read()))))
        except urllib.error.HTTPError as error:
            answers.append((error.code, json.loads(error.read())))

    try:
        assert wait_for_port("127.0.0.1", port, timeout_s=30)
        client = threading.Thread(target=post)
        client.start()
        wait_paused(pause_file)
        time.sleep(2 * read_timeout_s)  # held past the read timeout
        pause_file.unlink()
        client.join(120)
        assert answers == [(200, REPORTS + 1)]
    finally:
        server.terminate()
        server.wait(30)


@pytest.mark.parametrize("body_path", [IN_MEMORY, SPOOLED])
def test_a_gunicorn_worker_killed_during_an_import_leaves_nothing_and_the_retry_one_copy(
        installation, target, tmp_path, body_path):
    """import-svc served by gunicorn, as `make run` starts it; its worker SIGKILLed between the entity
    writes and the commit record; gunicorn starts a new worker and the client retries with its key.
    Spooled: the worker holds the body in a temporary file without a name, so the kill leaves no file; a
    spool file that a process killed in the instant it had a name would leave is removed at start."""
    collection_id, body = target
    pause_file, spool_dir = tmp_path / "paused", tmp_path / "spool"
    spool_dir.mkdir()
    leftover, recent = spool_dir / f"{SPOOL_PREFIX}dead", spool_dir / f"{SPOOL_PREFIX}recent"
    leftover.write_bytes(b"[")
    os.utime(leftover, (time.time() - 3600, time.time() - 3600))
    recent.write_bytes(b"[")  # as a live process's in that instant: left alone
    port = free_port()
    log_file = (tmp_path / "import-svc.log").open("w")
    server = subprocess.Popen(
        [str(Path(sys.executable).parent / "import-svc"), "serve"],
        env={**os.environ, **installation.environ, "OPTIMIZE_IMPORT_PORT": str(port),
             "OPTIMIZE_HTTP_WORKERS": "1", "OPTIMIZE_IMPORT_PAUSE_AT": "entities-written",
             "OPTIMIZE_IMPORT_PAUSE_FILE": str(pause_file),
             "OPTIMIZE_METRICS_DIR": str(tmp_path / "metrics"), "TMPDIR": str(spool_dir),
             **(SPOOLING if body_path == SPOOLED else {})},
        stderr=log_file)
    url = f"http://127.0.0.1:{port}/api/import?collectionId={collection_id}"
    headers = {**installation.headers(), "Idempotency-Key": f"gunicorn-crash-{body_path}",
               "Content-Type": "application/json"}

    def post() -> tuple[int, object]:
        request = urllib.request.Request(url, data=body, headers=headers)
        try:
            with urllib.request.urlopen(request, timeout=120) as response:
                return response.status, json.loads(response.read())
        except urllib.error.HTTPError as error:
            return error.code, json.loads(error.read())
        except (ConnectionError, urllib.error.URLError) as error:
            return 0, repr(error)

    try:
        assert wait_for_port("127.0.0.1", port, timeout_s=30)
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=60) as alive:
            assert alive.status == 200  # answered by the worker: its app is made
        assert named_files(spool_dir) == [recent.name]
        first: list = []
        client = threading.Thread(target=lambda: first.append(post()))
        client.start()
        worker, _ = wait_paused(pause_file)
        assert worker != server.pid
        held_spools = spool_files(worker, spool_dir)
        assert len(held_spools) == (1 if body_path == SPOOLED else 0)
        left = stored_ids(installation, collection_id)
        assert len(left) == REPORTS + 1
        os.kill(worker, signal.SIGKILL)
        client.join(60)
        assert first and first[0][0] in (0, 500, 502), first  # the client did not get an answer

        assert named_files(spool_dir) == [recent.name]  # the killed worker's spool left no file
        assert what_a_user_sees(installation, collection_id, left[:3]) == NOTHING
        status, retried = post()  # a new worker, started by gunicorn, answers
        assert status == 200, retried
    finally:
        server.terminate()
        server.wait(30)
        log_file.close()
    ids = stored_ids(installation, collection_id)
    assert sorted(ids) == sorted(item["id"] for item in retried)  # the dead attempt's entities are gone
    assert not set(left) & set(ids)
    assert what_a_user_sees(installation, collection_id, ids[:2]) == everything(2)


def test_a_reader_polling_during_a_large_import_sees_nothing_then_everything(installation, target, tmp_path):
    collection_id, body = target
    pause_file = tmp_path / "paused"
    paused_app = create_app(ImportConfig.from_env({
        **installation.environ, "OPTIMIZE_IMPORT_PAUSE_AT": "entities-written",
        "OPTIMIZE_IMPORT_PAUSE_FILE": str(pause_file), "OPTIMIZE_IMPORT_SWEEP_INTERVAL_S": "0"}))
    headers = installation.headers()
    counts: list[int] = []
    imported: list = []
    stop = threading.Event()

    def read() -> None:
        client = installation.app("export").test_client()
        while not stop.is_set():
            listed = client.get(f"/api/collection/{collection_id}/entities?limit=10000", headers=headers)
            counts.append(len(listed.json))
            if counts[-1] == REPORTS + 1 and imported:
                return

    def write() -> None:
        response = paused_app.test_client().post(f"/api/import?collectionId={collection_id}", data=body,
                                                 content_type="application/json", headers=headers)
        imported.append(response.status_code)

    reader, writer = threading.Thread(target=read), threading.Thread(target=write)
    reader.start()
    writer.start()
    try:
        wait_paused(pause_file)
        seen_while_paused = len(counts)
        deadline = time.monotonic() + 30
        while len(counts) < seen_while_paused + 3 and time.monotonic() < deadline:
            time.sleep(0.05)  # a few reads while every entity is written and none committed
        pause_file.unlink()
        writer.join(120)
        reader.join(60)
    finally:
        stop.set()
        pause_file.unlink(missing_ok=True)
        writer.join(10)
        reader.join(10)
        for attribute in ("catalog", "events"):
            getattr(paused_app.extensions["import"], attribute).close()
        paused_app.extensions["import"].mongo.close()
    assert imported == [200]
    assert set(counts) == {0, REPORTS + 1}, sorted(set(counts))
    assert counts[-1] == REPORTS + 1 and counts.index(REPORTS + 1) > seen_while_paused + 2
    assert counts == sorted(counts)  # never back to nothing once everything was seen


AUTHORING_PROCESS = textwrap.dedent("""
    import json, sys
    from import_svc.app import create_app
    from import_svc.config import ImportConfig

    environ, headers, dashboard_id = json.loads(sys.stdin.read())
    client = create_app(ImportConfig.from_env(environ)).test_client()
    for version in range(1, 100000):
        tiles = [{"id": "", "type": "text", "position": {"x": version, "y": row},
                  "dimensions": {"width": 2, "height": 1}, "configuration": {"text": None}}
                 for row in range(400)]
        response = client.put(f"/api/dashboard/{dashboard_id}", json={"name": f"v{version}", "tiles": tiles},
                              headers=headers)
        assert response.status_code == 204, response.get_data(as_text=True)
""")


def test_an_authoring_write_killed_at_any_moment_leaves_the_entity_as_before_or_after(installation):
    """A process rewriting a 400-tile dashboard again and again is SIGKILLed while it writes: the
    dashboard is one whole version, its name and every tile from the same write."""
    headers = installation.headers()
    created = installation.imports.post("/api/dashboard", json={"name": "v0"}, headers=headers)
    assert created.status_code == 200, created.json
    dashboard_id = created.json["id"]
    process = subprocess.Popen([sys.executable, "-c", AUTHORING_PROCESS], stdin=subprocess.PIPE,
                               stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    process.stdin.write(json.dumps([installation.environ, headers, dashboard_id]))
    process.stdin.close()
    dashboards = store(installation).dashboards
    try:
        deadline = time.monotonic() + 60
        while (dashboards.find_one({"_id": dashboard_id}, {"name": 1})["name"] in ("v0", "v1", "v2")
               and time.monotonic() < deadline and process.poll() is None):
            time.sleep(0.01)
    finally:
        process.kill()
        process.wait(30)
        errors = process.stderr.read()
        process.stderr.close()
    assert process.returncode == -signal.SIGKILL, errors

    seen = installation.export.get(f"/api/dashboard/{dashboard_id}", headers=headers).json
    version = int(seen["name"][1:])
    assert version >= 3
    assert len(seen["tiles"]) == 400
    assert {tile["position"]["x"] for tile in seen["tiles"]} == {version}


def test_a_live_import_longer_than_its_lease_is_neither_swept_nor_taken_over(installation, target, tmp_path):
    """The importing process renews its lease while it writes: an import paused for several leases is not
    swept, a retry with its key meanwhile is told it is in progress (409, Retry-After), and it commits."""
    collection_id, _ = target
    body = json.dumps([report(i) for i in range(20)]).encode()
    pause_file = tmp_path / "paused"
    slow_app = create_app(ImportConfig.from_env({
        **installation.environ, "OPTIMIZE_IMPORT_LEASE_S": "0.6",
        "OPTIMIZE_IMPORT_PAUSE_AT": "entities-written", "OPTIMIZE_IMPORT_PAUSE_FILE": str(pause_file),
        "OPTIMIZE_IMPORT_SWEEP_INTERVAL_S": "0"}))
    headers = {**installation.headers(), "Idempotency-Key": "slow"}
    answers: list = []
    writer = threading.Thread(target=lambda: answers.append(slow_app.test_client().post(
        f"/api/import?collectionId={collection_id}", data=body, content_type="application/json",
        headers=headers)))
    writer.start()
    try:
        wait_paused(pause_file)
        journal = installation.app("import").extensions["import"].import_journal
        records = store(installation).import_journal
        first_lease = records.find_one({"key": "slow"})["leaseUntilMs"]
        deadline = time.monotonic() + 30
        while (records.find_one({"key": "slow"})["leaseUntilMs"] <= first_lease + 1200
               and time.monotonic() < deadline):
            time.sleep(0.1)  # two leases' worth of renewals
        assert journal.sweep().removed_records == []
        in_progress = import_again(installation, collection_id, body, "slow")
        assert (in_progress.status_code, in_progress.json["errorCode"]) == (409, "conflictError")
        assert int(in_progress.headers["Retry-After"]) >= 1
        assert what_a_user_sees(installation, collection_id, [])["listed"] == 0
    finally:
        pause_file.unlink(missing_ok=True)
        writer.join(60)
        for attribute in ("catalog", "events"):
            getattr(slow_app.extensions["import"], attribute).close()
        slow_app.extensions["import"].mongo.close()
    assert answers[0].status_code == 200, answers[0].json
    replayed = import_again(installation, collection_id, body, "slow")
    assert replayed.json == answers[0].json
    assert len(stored_ids(installation, collection_id)) == 20


def test_import_svc_sweeps_what_a_dead_import_left_at_start_and_then_periodically(installation):
    """Leftovers as a killed process leaves them (a pending record whose lease ran out, marked entities):
    a starting import-svc removes them before serving, and a running one within its sweep interval."""
    db = store(installation)

    def leave_behind(import_id: str) -> None:
        db.import_journal.insert_one({"_id": import_id, "importId": import_id, "state": "pending",
                                      "owner": {"host": "elsewhere", "pid": 1}, "leaseUntilMs": 0})
        db.reports.insert_many([{"_id": f"{import_id}-{i}", "id": f"{import_id}-{i}", "importId": import_id,
                                 "pending": import_id, "collectionId": None, "owner": "demo"}
                                for i in range(5)])

    leave_behind("dead-before-start")
    app = create_app(ImportConfig.from_env({**installation.environ,
                                            "OPTIMIZE_IMPORT_SWEEP_INTERVAL_S": "0.2"}))
    try:
        assert db.reports.count_documents({}) == 0 and db.import_journal.count_documents({}) == 0
        leave_behind("dead-while-running")
        deadline = time.monotonic() + 30
        while db.reports.count_documents({}) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert db.reports.count_documents({}) == 0 and db.import_journal.count_documents({}) == 0
    finally:
        wiring = app.extensions["import"]
        wiring.sweeper.stop()
        for attribute in ("catalog", "events"):
            getattr(wiring, attribute).close()
        wiring.mongo.close()


def test_events_of_an_import_are_written_by_its_commit_and_exist_exactly_when_it_does(installation, target):
    """The room left for a transactional outbox: the events given to the write are in the commit record."""
    from import_svc.domain.importing import ImportRequest
    from optimize_runtime.identity import Identity

    collection_id, _ = target
    wiring = installation.app("import").extensions["import"]
    request = ImportRequest(Identity("demo", superuser=True), collection_id=collection_id)
    plan = wiring.importer.plan(request, json.dumps([report(1), report(2)]).encode())
    event = {"eventId": "e-1", "type": "entity.imported", "entityIds": plan.entity_ids}

    outcome = wiring.import_journal.write(plan, plan.outcome(), None, events=[event])

    record = store(installation).import_journal.find_one({"importId": plan.import_id})
    assert (record["state"], record["events"], record["outcome"]) == ("committed", [event], outcome)
    assert what_a_user_sees(installation, collection_id, [])["listed"] == 2
