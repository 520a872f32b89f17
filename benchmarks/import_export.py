"""The floor and the product, measured in one run on the same processes and servers; ratios as the headline.

Starts (or finds, from OPTIMIZE_MONGODB_URI / OPTIMIZE_AMQP_URL: a real replica set works) MongoDB and
RabbitMQ as the tests do, then the real processes: `catalog-svc serve`, `catalog-svc rpc`, `export-svc serve`,
`import-svc serve` (gunicorn) on free loopback ports with their own databases, queue and exchange names, and
`import-svc relay` (which publishes the events of every import).

1. Floor pieces: an HTTP no-op through the same gunicorn (GET /healthz of import-svc), one RPC echo on the
   same broker, the writes the atomic-import design needs of the same documents the product stored, the
   read of those documents, JSON decoding of the file and encoding of the export (see `floor.py`).
2. The product: import p50/p95/p99 for files of 1, 100, 1,000 and 10,000 entities (N-1 single reports and
   a dashboard showing them all), with the CPU of every process per import; export of a dashboard with
   100 reports and of a collection of 1,000 entities; 1-entity imports/s with 1, 4 and 16 concurrent
   clients, with CPU per import summed over every process (services, store, broker, clients) against the
   cores, and the RPC and store ceilings measured in the same run; peak RSS of the import worker per MB.
3. The headline: each measurement as a ratio to its floor, against the targets. The whole result goes to
   `benchmarks/results/<time>-<host>.json`; a full run also appends its headline to BENCHMARKS.md.

    make benchmark                                          # full run, about 3-5 minutes
    .venv/bin/python benchmarks/import_export.py --quick    # every step with a minimal budget
"""

import argparse
import http.client
import json
import math
import os
import signal
import subprocess
import sys
import threading
import time
from contextlib import ExitStack
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlparse

from pymongo import MongoClient

sys.path.insert(0, str(Path(__file__).parent))

import floor  # noqa: E402 - the benchmark's own modules, beside it
import machine  # noqa: E402

from contracts.catalog_rpc import register_catalog_rpc  # noqa: E402
from contracts.import_journal import PENDING_MARKER  # noqa: E402
from optimize_runtime.identity import issue_token  # noqa: E402
from optimize_runtime.infra.ports import free_port  # noqa: E402
from optimize_runtime.messaging import RpcClient  # noqa: E402
from optimize_runtime.store.write_gate import write_gate_for  # noqa: E402
from optimize_testing.pytest_plugin import isolated_names, service_environ  # noqa: E402
from optimize_testing.servers import TestServers, start_test_servers  # noqa: E402

HERE = Path(__file__).parent
KEY = "invoice"
DEFINITIONS = [{"type": "process", "key": KEY, "name": "Invoice", "version": "1", "tenantId": None}]
AUTHORIZATIONS = [{"identity": {"id": "demo", "type": "user"}, "definitionType": "process",
                   "definitionKey": KEY, "tenants": [None]}]
SCOPE = [{"definitionType": "process", "definitionKey": KEY, "tenants": [None]}]
# (console script, command, port variable); the RPC worker and the relay have no HTTP port of their own.
# import-svc's relay publishes the events every import records in its commit record: its CPU is part of
# what an import costs. (The catalog's relay has nothing to publish while only imports run.)
SERVICE_PROCESSES = (
    ("catalog-svc", "serve", "OPTIMIZE_CATALOG_PORT"),
    ("catalog-svc", "rpc", None),
    ("export-svc", "serve", "OPTIMIZE_EXPORT_PORT"),
    ("import-svc", "serve", "OPTIMIZE_IMPORT_PORT"),
    ("import-svc", "relay", None),
)
REQUEST_TIMEOUT_S = 300
START_TIMEOUT_S = 90

# The targets this benchmark holds the product to (at most, or for throughput at least).
TARGETS = {
    "import1": 1.5, "export100Dashboard": 1.5, "import1000VsWrites": 1.3, "import10000Vs1000": 10.5,
    "peakRssPerFileMb": 3.0, "importsPerSecond16Clients": 270.0,
}


class Budget:
    """Rounds and durations: a full run (about 3-5 minutes) or `--quick` (every step, tiny budget)."""

    def __init__(self, quick: bool) -> None:
        self.quick = quick
        self.sizes = [1, 100, 300] if quick else [1, 100, 1000, 10_000]
        self.rounds = {1: 8, 100: 3, 300: 2} if quick else {1: 60, 100: 20, 1000: 12, 10_000: 6}
        self.export_rounds = 3 if quick else 20
        self.collection_size = 100 if quick else 1000
        self.clients = [1, 4] if quick else [1, 4, 16]
        self.window_s = 1.0 if quick else 6.0
        self.ceiling_s = 0.5 if quick else 2.5
        self.ceiling_threads = 4 if quick else 16
        self.rss_file_bytes = (3 if quick else 30) * 2**20


def export_file(entity_count: int) -> list[dict]:
    """`entity_count - 1` single reports and a dashboard showing them all (one report alone for 1), with ids
    in Optimize's form (a tile names a report only by such an id)."""
    reports = [{
        "id": f"00000000-0000-4000-8000-{i:012x}", "exportEntityType": "single_process_report",
        "name": f"Report {i}",
        "description": None, "sourceIndexVersion": 11, "collectionId": None,
        "data": {"definitions": [{"identifier": "d", "key": KEY, "versions": ["1"], "tenantIds": [None]}],
                 "configuration": {"xml": None, "precision": None}, "filter": [],
                 "view": {"properties": ["frequency"]}, "groupBy": {"type": "none"},
                 "visualization": "number", "managementReport": False, "instantPreviewReport": False},
    } for i in range(max(entity_count - 1, 1))]
    if entity_count == 1:
        return reports
    tiles = [{"id": report["id"], "type": "optimize_report", "position": {"x": 0, "y": 2 * i},
              "dimensions": {"width": 4, "height": 2}, "configuration": None}
             for i, report in enumerate(reports)]
    dashboard = {"id": "10000000-0000-4000-8000-000000000000", "exportEntityType": "dashboard",
                 "name": "Everything",
                 "description": None, "sourceIndexVersion": 8, "collectionId": None, "tiles": tiles,
                 "availableFilters": [],
                 "refreshRateSeconds": None, "managementDashboard": False, "instantPreviewDashboard": False}
    return [*reports, dashboard]


def large_file(total_bytes: int, reports: int = 1000) -> bytes:
    """About `total_bytes` of export file: single reports carrying their BPMN XML, as Optimize exports."""
    file = export_file(reports + 1)
    xml_bytes = max(0, (total_bytes - len(json.dumps(file))) // reports)
    for report in file[:-1]:
        report["data"]["configuration"]["xml"] = "<bpmn:definitions>" + "x" * max(0, xml_bytes - 37) \
            + "</bpmn:definitions>"
    return json.dumps(file).encode()


def timed(call, *args) -> float:
    start = time.perf_counter()
    call(*args)
    return time.perf_counter() - start


def percentile(samples: list[float], fraction: float) -> float:
    """Nearest rank, in milliseconds."""
    ordered = sorted(samples)
    return ordered[max(0, math.ceil(fraction * len(ordered)) - 1)] * 1000


def summary(samples: list[float]) -> dict:
    return {"n": len(samples), "p50": percentile(samples, .5), "p95": percentile(samples, .95),
            "p99": percentile(samples, .99)}


class HttpClient:
    """One keep-alive connection, for one thread."""

    def __init__(self, base_url: str, token: str) -> None:
        url = urlparse(base_url)
        self.host, self.port, self.token = url.hostname, url.port, token
        self._connection: http.client.HTTPConnection | None = None

    def request(self, method: str, path: str, body: bytes | None = None) -> tuple[int, bytes]:
        headers = {"Authorization": f"Bearer {self.token}"}
        if body is not None:
            headers["Content-Type"] = "application/json"
        for attempt in (1, 2):
            reused = self._connection is not None
            if self._connection is None:
                self._connection = http.client.HTTPConnection(self.host, self.port, timeout=REQUEST_TIMEOUT_S)
            try:
                self._connection.request(method, path, body, headers)
                response = self._connection.getresponse()
                data = response.read()
            except (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError):
                self.close()
                if attempt == 2 or not reused:  # only a kept-alive connection the server closed is retried
                    raise
                continue
            if response.will_close:
                self.close()
            return response.status, data
        raise AssertionError("unreachable")

    def close(self) -> None:
        if self._connection is not None:
            self._connection.close()
            self._connection = None


class ServiceProcesses:
    """The four processes of one installation, started in their own sessions and stopped together."""

    def __init__(self, env: dict[str, str], log_path: Path, rpc_workers: int = 1) -> None:
        self.env = env
        self.log_path = log_path
        self.rpc_workers = rpc_workers
        self.children: list[subprocess.Popen] = []
        self.extra_rpc_workers: list[subprocess.Popen] = []
        self._given_ports: set[str] = set()

    def url(self, port_variable: str) -> str:
        return f"http://127.0.0.1:{self.env[port_variable]}"

    def start(self) -> None:
        bin_dir = Path(sys.executable).parent
        with self.log_path.open("ab") as log:
            for script, command, _ in SERVICE_PROCESSES:
                self.children.append(subprocess.Popen(
                    [str(bin_dir / script), command], env=self._env_of(script, command),
                    stdout=subprocess.DEVNULL, stderr=log, start_new_session=True))
            for _ in range(self.rpc_workers - 1):  # more consumers of the same RPC queue
                # each with its own operations port: on one port, all but one would exit at start
                env = {**self.env, "OPTIMIZE_OPERATIONS_PORT": self._another_port()}
                self.extra_rpc_workers.append(subprocess.Popen(
                    [str(bin_dir / "catalog-svc"), "rpc"], env=env, stdout=subprocess.DEVNULL,
                    stderr=log, start_new_session=True))

    def _env_of(self, script: str, command: str) -> dict[str, str]:
        """The first catalog RPC worker serves OPTIMIZE_OPERATIONS_PORT; the relay an operations port of its
        own (the HTTP services serve theirs on their HTTP port)."""
        if (script, command) != ("import-svc", "relay"):
            return self.env
        return {**self.env, "OPTIMIZE_OPERATIONS_PORT": self._another_port()}

    def _another_port(self) -> str:
        """A free port none of the processes was given (the kernel may hand out one given, not yet bound)."""
        taken = {value for name, value in self.env.items() if name.endswith("_PORT")} | self._given_ports
        while (port := str(free_port())) in taken:
            pass
        self._given_ports.add(port)
        return port

    def pid_of(self, script: str, command: str) -> int:
        return self.children[SERVICE_PROCESSES.index(next(
            p for p in SERVICE_PROCESSES if p[:2] == (script, command)))].pid

    def pids_of(self, script: str, command: str) -> list[int]:
        rpc = (script, command) == ("catalog-svc", "rpc")
        return [self.pid_of(script, command), *(child.pid for child in self.extra_rpc_workers if rpc)]

    def wait_ready(self) -> None:
        deadline = time.monotonic() + START_TIMEOUT_S
        for _, _, port_variable in SERVICE_PROCESSES:
            while port_variable is not None:
                if any(child.poll() is not None for child in self.children + self.extra_rpc_workers):
                    raise SystemExit(f"a service exited while starting:\n{self.log_tail()}")
                if time.monotonic() > deadline:
                    raise SystemExit(f"not ready within {START_TIMEOUT_S} s; see {self.log_path}")
                try:
                    if HttpClient(self.url(port_variable), "").request("GET", "/readyz")[0] == 200:
                        break
                except OSError:
                    pass
                time.sleep(0.3)

    def log_tail(self) -> str:
        return self.log_path.read_text(errors="replace")[-3000:] if self.log_path.exists() else ""

    def stop(self) -> None:
        children = self.children + self.extra_rpc_workers
        for child in children:
            if child.poll() is None:
                os.killpg(child.pid, signal.SIGTERM)
        deadline = time.monotonic() + 15
        for child in children:
            try:
                child.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                os.killpg(child.pid, signal.SIGKILL)
                child.wait()


class Cpu:
    """CPU seconds of every process taking part: the services (with their gunicorn workers), the store and
    the broker when they run on this machine, the RPC echo server, and this process (the clients)."""

    def __init__(self, groups: dict[str, list[int]]) -> None:
        # gunicorn's workers, the broker's helpers: the trees as they are once everything runs
        self.groups = {name: machine.with_descendants(pids) for name, pids in groups.items() if pids}

    def snapshot(self) -> dict[str, float]:
        taken = {"clients": time.process_time()}  # first: the reading below is not the clients' work
        taken.update({name: machine.cpu_seconds(pids) for name, pids in self.groups.items()})
        taken["machineBusy"], taken["machineTotal"] = machine.machine_cpu()
        return taken

    @staticmethod
    def spent(before: dict[str, float], after: dict[str, float]) -> dict[str, float]:
        return {name: after[name] - before[name] for name in before}


class Benchmark:
    def __init__(self, servers: TestServers, budget: Budget, options: argparse.Namespace,
                 stack: ExitStack) -> None:
        self.servers, self.budget, self.options, self.stack = servers, budget, options, stack
        self.result: dict = {"kind": "quick" if budget.quick else "full",
                             "time": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
                             "machine": {**machine.facts(), "cpuSpeedMs": machine.cpu_speed_ms()},
                             "jsonLibraryOfTheFloor": floor.JSON_LIBRARY,
                             "store": "embedded nx-27017 (write gate on)" if servers.mongodb_embedded
                             else "MongoDB at OPTIMIZE_MONGODB_URI",
                             "catalogRpcWorkers": options.rpc_workers,
                             "floor": {}, "product": {}, "throughput": {}, "ratios": {}}

    # --- setting up ----------------------------------------------------------------------------

    def start(self) -> None:
        names = isolated_names("bench")
        self.names = names
        ports = {f"OPTIMIZE_{name}_PORT": str(free_port()) for name in ("CATALOG", "EXPORT", "IMPORT",
                                                                       "OPERATIONS")}
        env = {name: value for name, value in os.environ.items() if not name.startswith("OPTIMIZE_")}
        sizing = {}
        if self.options.workers:
            sizing["OPTIMIZE_HTTP_WORKERS"] = str(self.options.workers)
        if self.options.threads:
            sizing["OPTIMIZE_HTTP_THREADS"] = str(self.options.threads)
        env.update(service_environ(self.servers, names, **ports, **sizing, OPTIMIZE_HTTP_HOST="127.0.0.1",
                                   OPTIMIZE_DEMO_SEED="0", OPTIMIZE_RPC_TIMEOUT_S="30",
                                   OPTIMIZE_GRACEFUL_TIMEOUT_S="5", OPTIMIZE_LOG_LEVEL="WARNING"))
        self.env = env
        self.services = ServiceProcesses(env, self.servers.data_dir / "services.log",
                                         self.options.rpc_workers)
        self.stack.callback(self.services.stop)
        self.services.start()
        self.services.wait_ready()
        self.token = issue_token(env["OPTIMIZE_AUTH_JWT_SECRET"], "demo")
        self.catalog_url, self.import_url, self.export_url = (
            self.services.url(f"OPTIMIZE_{name}_PORT") for name in ("CATALOG", "IMPORT", "EXPORT"))
        catalog = HttpClient(self.catalog_url, self.token)
        for path, payload in (("/api/definition", DEFINITIONS), ("/api/authorization", AUTHORIZATIONS)):
            self._expect(catalog.request("POST", path, json.dumps(payload).encode()), f"seeding {path}")
        status, answer = self._expect(catalog.request("POST", "/api/collection", b'{"name": "Benchmark"}'),
                                      "creating a collection")
        self.collection_id = json.loads(answer)["id"]
        self._expect(catalog.request("POST", f"/api/collection/{self.collection_id}/scope",
                                     json.dumps(SCOPE).encode()), "the collection's scope")
        self._wait_for_rpc_worker()
        self.rpc_echo = floor.RpcEcho(self.servers.amqp_url, f"{names.rpc_queue}.echo").start()
        self.stack.callback(self.rpc_echo.stop)
        self.entities = MongoClient(self.servers.mongodb_uri)[names.entities_db]
        self.stack.callback(self.entities.client.close)
        gate = write_gate_for(self.servers.mongodb_embedded, self.servers.data_dir, self.servers.mongodb_uri)
        self.store = floor.StoreFloor(self.servers.mongodb_uri, f"{names.entities_db}_floor", gate)
        self.stack.callback(self.store.close)
        self.cpu = Cpu(self._process_groups())
        self.result["processes"] = {name: len(pids) for name, pids in self.cpu.groups.items()}

    def _process_groups(self) -> dict[str, list[int]]:
        groups = {f"{script} {command}": self.services.pids_of(script, command)
                  for script, command, _ in SERVICE_PROCESSES}
        groups["rpc echo server"] = [self.rpc_echo.pid]
        for name, url in (("store", self.servers.mongodb_uri), ("broker", self.servers.amqp_url)):
            parsed = urlparse(url.split(",")[0])
            local = parsed.hostname in ("127.0.0.1", "localhost", "::1")
            port = parsed.port or (27017 if name == "store" else 5672)
            pid = machine.listening_pid(port) if local else None
            groups[name] = [pid] if pid else []
        return groups

    def _wait_for_rpc_worker(self) -> None:
        """A dry run needs the catalog RPC worker: it answers once the worker consumes its queue."""
        client, body = HttpClient(self.import_url, self.token), json.dumps(export_file(1)).encode()
        deadline = time.monotonic() + START_TIMEOUT_S
        while (status := client.request("POST", "/api/import?dryRun=true", body)[0]) != 200:
            if status not in (0, 503) or time.monotonic() > deadline:
                raise SystemExit(f"dry run answered {status}:\n{self.services.log_tail()}")
            time.sleep(0.5)

    @staticmethod
    def _expect(answer: tuple[int, bytes], what: str) -> tuple[int, bytes]:
        if not 200 <= answer[0] < 300:
            raise SystemExit(f"{what} answered {answer[0]}: {answer[1][:500]!r}")
        return answer

    def _import(self, client: HttpClient, body: bytes, query: str = "") -> list[dict]:
        return json.loads(self._expect(client.request("POST", "/api/import" + query, body), "an import")[1])

    def warm_up(self) -> None:
        """Every gunicorn worker thread imports and exports once before anything is measured."""
        threads = (int(self.env.get("OPTIMIZE_HTTP_WORKERS", "2"))
                   * int(self.env.get("OPTIMIZE_HTTP_THREADS", "8")))
        body = json.dumps(export_file(2)).encode()

        def one() -> None:
            imports, export = HttpClient(self.import_url, self.token), HttpClient(self.export_url, self.token)
            dashboard = self._import(imports, body)[-1]["id"]
            self._expect(export.request("GET", f"/api/export/dashboard/json/{dashboard}/w.json"), "an export")

        for _ in range(2):
            workers = [threading.Thread(target=one) for _ in range(threads)]
            for thread in workers:
                thread.start()
            for thread in workers:
                thread.join()

    # --- 1 and 2. the floor and the product, interleaved round by round (so both see the same load),
    # and the sizes in turn --

    def measure_imports(self) -> None:
        """Each size against the same store: what a round imported (and the floor wrote) is removed after
        it, untimed. In a store growing round by round the 10,000-entity rounds, measured last, ran against
        about 16,000 to 56,000 documents and the 1,000-entity ones against 7,000 to 16,000, and the embedded
        server's cost per document grows with its collections (a 10,000-entity import took 3-5 % more of
        its CPU against 23,000 documents than against 3,000): their ratio mixed the store's size into the
        import's."""
        stored = {name: self.entities[name].estimated_document_count() for name in ("reports", "dashboards")}
        self.result["storeDocumentsDuringImports"] = stored
        print(f"\n{'entities':>8} {'file':>8} {'import p50':>10} {'p95':>8} {'p99':>8} {'CPU/import':>10} "
              f"{'| floor:':>8} {'writes':>8} {'read':>7} {'decode':>7} {'encode':>7}   (ms; 1 client)")
        client, noop = HttpClient(self.import_url, self.token), HttpClient(self.import_url, self.token)
        rpc_body = json.dumps({"contractVersion": 1, "method": "check_import", "params": {
            "user": {"id": "demo", "groups": [], "superuser": True}, "collectionId": None,
            "definitions": [{"type": "process", "key": KEY, "versions": ["1"], "tenantIds": [None]}],
            "checkAuthorization": True}}).encode()
        prepared, times, spent = {}, {}, {}
        for size in self.budget.sizes:
            body = json.dumps(export_file(size)).encode()
            outcome = self._import(client, body)  # not counted: the documents the floor writes and reads
            documents = self._stored_documents([item["id"] for item in outcome])
            self._remove_imported(outcome)
            prepared[size] = (body, outcome, documents, floor.json_decode(body))
            times[size] = {name: [] for name in (
                "import", "writes", "read", "jsonDecode", "jsonEncode", "httpNoop", "rpcEcho")}
            spent[size] = {}
        # Each size's rounds spread evenly over the whole measurement (1, 100, 1,000 and 10,000 entities in
        # turn), so that a machine other work makes slower or faster meanwhile weighs on every size alike:
        # measured one size after the other, the 10,000-entity rounds came last, on a machine that had
        # slowed down 1.7 x since the start (machine.py's reference workload, 236 -> 400 ms).
        schedule = sorted(((index + 0.5) / self.budget.rounds[size], size)
                          for size in self.budget.sizes for index in range(self.budget.rounds[size]))
        for _, size in schedule:
            body, outcome, documents, file = prepared[size]
            before = self.cpu.snapshot()
            start = time.perf_counter()
            imported = self._import(client, body)
            times[size]["import"].append(time.perf_counter() - start)
            for name, value in Cpu.spent(before, self.cpu.snapshot()).items():
                spent[size][name] = spent[size].get(name, 0.0) + value
            self._markers_cleared()
            import_id, by_collection = self.store.fresh_copies(documents)
            times[size]["writes"].append(timed(self.store.write_import, import_id, by_collection, outcome))
            self.store.clear_markers(import_id, by_collection)  # as the product does, after the answer
            written = [(name, [d["_id"] for d in batch]) for name, batch in by_collection.items()]
            times[size]["read"].append(timed(self.store.read, written))
            self._remove_imported(imported)
            self.store.remove(written)
            times[size]["jsonDecode"].append(timed(floor.json_decode_alone, body))
            times[size]["jsonEncode"].append(timed(floor.json_encode, file))
            if size == 1:
                times[size]["httpNoop"].append(timed(noop.request, "GET", "/healthz"))
                times[size]["rpcEcho"].append(timed(self.rpc_echo.call, rpc_body))
        for size in self.budget.sizes:
            body, rounds = prepared[size][0], len(times[size]["import"])
            ours = {k: v / rounds * 1000 for k, v in spent[size].items() if not k.startswith("machine")}
            product = self.result["product"][f"import{size}"] = {
                **summary(times[size]["import"]), "cpuPerImportMs": sum(ours.values()),
                "cpuByProcessMs": ours, "fileBytes": len(body)}
            pieces = self.result["floor"][str(size)] = {
                name: summary(values) for name, values in times[size].items() if values and name != "import"}
            if size == 1:
                self.result["floor"]["httpNoop"] = pieces.pop("httpNoop")
                self.result["floor"]["rpcEcho"] = pieces.pop("rpcEcho")
            print(f"{size:>8} {len(body) / 1e6:>6.2f}MB {product['p50']:>10.1f} {product['p95']:>8.1f} "
                  f"{product['p99']:>8.1f} {product['cpuPerImportMs']:>10.1f} {'':>8} "
                  f"{pieces['writes']['p50']:>8.2f} {pieces['read']['p50']:>7.2f} "
                  f"{pieces['jsonDecode']['p50']:>7.2f} {pieces['jsonEncode']['p50']:>7.2f}")
        f = self.result["floor"]
        print(f"floor: HTTP no-op (GET /healthz, same gunicorn) p50 {f['httpNoop']['p50']:.2f} ms; "
              f"RPC echo (same broker) p50 {f['rpcEcho']['p50']:.2f} ms")

    def print_import_ratios(self) -> None:
        """The import lines of the headline, from `measure_imports` alone (`--only imports`)."""
        f, p = self.result["floor"], self.result["product"]
        sizes = self.budget.sizes
        big, bigger = (1000, 10_000) if 10_000 in sizes else (sizes[-2], sizes[-1])
        print(f"import, {big:,} entities, p50 / their writes: "
              f"{p[f'import{big}']['p50'] / f[str(big)]['writes']['p50']:.2f} "
              f"({p[f'import{big}']['p50']:.0f} ms / {f[str(big)]['writes']['p50']:.0f} ms); "
              f"{bigger:,} / {big:,} entities: {p[f'import{bigger}']['p50'] / p[f'import{big}']['p50']:.2f} "
              f"(their writes alone: {f[str(bigger)]['writes']['p50'] / f[str(big)]['writes']['p50']:.2f})")
        for size in (big, bigger):
            by_process = p[f"import{size}"]["cpuByProcessMs"]
            spent = {name: round(ms) for name, ms in by_process.items() if ms >= 0.5}
            print(f"CPU per import of {size:,} entities, ms: {spent}")

    def _markers_cleared(self) -> None:
        """Waits until import-svc has cleared the pending markers of the imports it answered (it does so a
        moment after the answer, OPTIMIZE_IMPORT_MARKER_CLEAR_DELAY_S, for many imports at once), so that
        this work does not land in the floor's timings. Its CPU is not in this table's CPU/import (the
        wait would add every process's idle work to it); the throughput table's CPU/import holds it."""
        time.sleep(0.25)
        deadline = time.monotonic() + REQUEST_TIMEOUT_S
        while any(self.entities[name].find_one({PENDING_MARKER: {"$exists": True}}, {"_id": 1})
                  for name in ("reports", "dashboards")):
            if time.monotonic() > deadline:
                raise SystemExit("import-svc did not clear the pending markers of its imports")
            time.sleep(0.05)

    def _remove_imported(self, outcome: list[dict]) -> None:
        """The entities of an import, removed from the store (through the write gate, as every write)."""
        ids = [item["id"] for item in outcome]
        for name in ("reports", "dashboards"):
            with self.store.gate.hold():
                self.entities[name].delete_many({"_id": {"$in": ids}})

    def _stored_documents(self, ids: list[str]) -> list[dict]:
        found = {document["_id"]: document for name in ("reports", "dashboards")
                 for document in self.entities[name].find({"_id": {"$in": ids}})}
        return [found[i] for i in ids]

    def measure_peak_rss(self) -> None:
        """The import worker's peak resident memory while it imports a file near the size limit."""
        body = large_file(self.budget.rss_file_bytes)
        workers = machine.children(self.services.pid_of("import-svc", "serve"))
        reset = all(machine.reset_peak_memory(pid) for pid in workers)
        before = max((machine.memory_kib(pid, "VmRSS") for pid in workers), default=0)
        start = time.perf_counter()
        self._import(HttpClient(self.import_url, self.token), body)
        elapsed = time.perf_counter() - start
        peak = max((machine.memory_kib(pid, "VmHWM") for pid in workers), default=0)
        file_mb, peak_mb, before_mb = len(body) / 2**20, peak / 1024, before / 1024
        self.result["product"]["peakRss"] = {
            "fileBytes": len(body), "peakRssKiB": peak, "rssBeforeKiB": before,
            "peakResetBeforeImport": reset, "importMs": elapsed * 1000}
        print(f"\npeak RSS of the import worker: {peak_mb:.0f} MB importing {file_mb:.1f} MB (1,000 reports "
              f"with their XML) in {elapsed * 1000:.0f} ms; it held {before_mb:.0f} MB before"
              + ("" if reset else " (peak since the worker started: /proc/PID/clear_refs not writable)"))

    def measure_exports(self) -> None:
        imports = HttpClient(self.import_url, self.token)
        export = HttpClient(self.export_url, self.token)
        dashboard_file = json.dumps(export_file(101)).encode()
        outcome = self._import(imports, dashboard_file)
        dashboard = outcome[-1]["id"]
        path = f"/api/export/dashboard/json/{dashboard}/bench.json"
        exported = self._expect(export.request("GET", path), "an export")[1]
        exported_value = json.loads(exported)
        if len(exported_value) != 101:
            raise SystemExit(f"the dashboard export holds {len(exported_value)} entities, not 101")
        documents = self._stored_documents([item["id"] for item in outcome])
        _, written = self.store.write_samples(documents, outcome, 1)
        dashboard_times, read, encode = [], [], []
        for _ in range(self.budget.export_rounds):
            dashboard_times.append(timed(lambda: self._expect(export.request("GET", path), "an export")))
            read.append(timed(self.store.read, written))
            encode.append(timed(floor.json_encode, exported_value))
        self.result["product"]["export100Dashboard"] = {**summary(dashboard_times), "bytes": len(exported)}
        self.result["floor"]["export100Dashboard"] = {"read": summary(read), "jsonEncode": summary(encode)}

        size = self.budget.collection_size
        collection_file = json.dumps(export_file(size)).encode()
        outcome = self._import(imports, collection_file, f"?collectionId={self.collection_id}")
        import_id, by_collection = self.store.fresh_copies(self._stored_documents([i["id"] for i in outcome]))
        self.store.write_and_clear(import_id, by_collection, outcome)  # once: the collection holds them once
        path = f"/api/export/collection/json/{self.collection_id}/bench.json"
        exported_value = json.loads(self._expect(export.request("GET", path), "an export")[1])
        if len(exported_value) != size:
            raise SystemExit(f"the collection export holds {len(exported_value)} entities, not {size}")
        collection_times, collection_read, collection_encode = [], [], []
        for _ in range(max(2, self.budget.export_rounds // 3)):
            collection_times.append(timed(lambda: self._expect(export.request("GET", path), "an export")))
            collection_read.append(timed(self.store.read_collection, self.collection_id))
            collection_encode.append(timed(floor.json_encode, exported_value))
        self.result["product"][f"exportCollection{size}"] = {**summary(collection_times)}
        self.result["floor"][f"exportCollection{size}"] = {"read": summary(collection_read),
                                                           "jsonEncode": summary(collection_encode)}
        d, c = self.result["product"]["export100Dashboard"], self.result["product"][f"exportCollection{size}"]
        print(f"\nexport of a 100-report dashboard: p50 {d['p50']:.1f} p95 {d['p95']:.1f} "
              f"p99 {d['p99']:.1f} ms "
              f"| floor: read {percentile(read, .5):.2f} encode {percentile(encode, .5):.2f} ms")
        print(f"export of a {size}-entity collection: p50 {c['p50']:.1f} p95 {c['p95']:.1f} "
              f"p99 {c['p99']:.1f} ms | floor: read (by collection, as the export asks) "
              f"{percentile(collection_read, .5):.2f} encode {percentile(collection_encode, .5):.2f} ms")

    def measure_throughput(self) -> None:
        body = json.dumps(export_file(1)).encode()
        print(f"\n{'clients':>7} {'imports/s':>9} {'p50':>7} {'p99':>7} {'CPU/import':>10} "
              f"{'ours busy':>9} {'machine busy':>12}   (1-entity imports for {self.budget.window_s:.0f} s; "
              f"CPU in ms, busy in cores of {machine.facts()['usableCpus']};\n{'':>60}"
              "a shared broker's or store's CPU counts whatever else it served meanwhile)")
        for clients in self.budget.clients:
            latencies: list[float] = []
            one_client = self._import_client(body, latencies)
            before = self.cpu.snapshot()
            rate = floor.throughput(one_client, clients, self.budget.window_s)
            spent = Cpu.spent(before, self.cpu.snapshot())
            wall = len(latencies) / rate
            ours = {k: v for k, v in spent.items() if not k.startswith("machine")}
            per_import = sum(ours.values()) / len(latencies)
            self.result["throughput"][str(clients)] = {
                "importsPerSecond": rate, **summary(latencies), "cpuPerImportMs": per_import * 1000,
                "cpuByProcessMs": {k: v / len(latencies) * 1000 for k, v in ours.items()},
                "oursBusyCores": sum(ours.values()) / wall,
                "machineBusyCores": (spent["machineBusy"] / spent["machineTotal"] * os.cpu_count()
                                     if spent["machineTotal"] else None)}
            t = self.result["throughput"][str(clients)]
            print(f"{clients:>7} {rate:>9.1f} {t['p50']:>7.1f} {t['p99']:>7.1f} {t['cpuPerImportMs']:>10.1f} "
                  f"{t['oursBusyCores']:>9.2f} {t['machineBusyCores'] or 0:>12.2f}")

    def _import_client(self, body: bytes, latencies: list[float]):
        """A call that imports `body` over its thread's own connection and records the latency."""
        local, lock = threading.local(), threading.Lock()

        def one_import() -> None:
            client = getattr(local, "client", None) or HttpClient(self.import_url, self.token)
            local.client = client
            elapsed = timed(self._import, client, body)
            with lock:
                latencies.append(elapsed)

        return one_import

    def measure_ceilings(self) -> None:
        """What the broker, the catalog worker and the store can do at most with as many concurrent callers
        as the most clients above, each measured alone."""
        threads, seconds = self.budget.ceiling_threads, self.budget.ceiling_s
        rpc_body = json.dumps({"contractVersion": 1, "method": "check_import", "params": {}}).encode()
        echo = floor.throughput(lambda: self.rpc_echo.call(rpc_body), threads, seconds)
        register_catalog_rpc()
        catalog = RpcClient(self.servers.amqp_url, self.names.rpc_queue, timeout_s=30)
        params = {"user": {"id": "demo", "groups": [], "superuser": True}, "collectionId": None,
                  "checkAuthorization": True,
                  "definitions": [{"type": "process", "key": KEY, "versions": ["1"], "tenantIds": [None]}]}
        try:
            check_import = floor.throughput(lambda: catalog.call("check_import", params), threads, seconds)
        finally:
            catalog.close()
        documents = self._stored_documents([self.result["lastImport1Id"]])
        outcome = [{"id": documents[0]["_id"], "entityType": "report",
                    "sourceId": "00000000-0000-4000-8000-000000000000"}]
        def one_import_writes() -> None:
            self.store.write_and_clear(*self.store.fresh_copies(documents), outcome)

        store = floor.throughput(one_import_writes, threads, seconds)
        self.result["ceilings"] = {"threads": threads, "rpcEchoPerSecond": echo,
                                   "catalogCheckImportPerSecond": check_import,
                                   "storeImportWritesPerSecond": store}
        print(f"\nceilings with {threads} concurrent callers: RPC echo {echo:.0f}/s, catalog check_import "
              f"{check_import:.0f}/s, store (the writes of a 1-entity import) {store:.0f}/s")

    # --- 3. the headline -----------------------------------------------------------------------

    def headline(self) -> list[str]:
        f, p, t = self.result["floor"], self.result["product"], self.result["throughput"]
        r = self.result["ratios"]
        lines = []

        def add(key: str, label: str, value: float, detail: str, target: float | None, at_most: bool = True):
            r[key] = value
            verdict = ""
            if target is not None:
                holds = value <= target if at_most else value >= target
                verdict = f"target {'≤' if at_most else '≥'} {target:g}: {'holds' if holds else 'MISSES'}"
            lines.append(f"{label:<44} {value:>7.2f}   {verdict:<24} {detail}")

        noop, rpc = f["httpNoop"]["p50"], f["rpcEcho"]["p50"]
        one = f["1"]
        floor_1 = noop + rpc + one["writes"]["p50"]
        add("import1", "import, 1 entity, p50 / floor", p["import1"]["p50"] / floor_1,
            f"{p['import1']['p50']:.1f} ms / ({noop:.2f} HTTP + {rpc:.2f} RPC + {one['writes']['p50']:.2f} "
            "writes)", TARGETS["import1"])
        e = f["export100Dashboard"]
        floor_e = noop + rpc + e["read"]["p50"] + e["jsonEncode"]["p50"]
        add("export100Dashboard", "export, 100-report dashboard, p50 / floor",
            p["export100Dashboard"]["p50"] / floor_e,
            f"{p['export100Dashboard']['p50']:.1f} ms / ({noop:.2f} HTTP + {rpc:.2f} RPC + "
            f"{e['read']['p50']:.2f} read + {e['jsonEncode']['p50']:.2f} encode)",
            TARGETS["export100Dashboard"])
        size = self.budget.collection_size
        c = f[f"exportCollection{size}"]
        floor_c = noop + rpc + c["read"]["p50"] + c["jsonEncode"]["p50"]
        add("exportCollectionVsFloor", f"export, {size:,}-entity collection, p50 / floor",
            p[f"exportCollection{size}"]["p50"] / floor_c,
            f"{p[f'exportCollection{size}']['p50']:.0f} ms / ({noop:.2f} HTTP + {rpc:.2f} RPC + "
            f"{c['read']['p50']:.1f} read + {c['jsonEncode']['p50']:.2f} encode)", None)
        sizes = self.budget.sizes
        big, bigger = (1000, 10_000) if 10_000 in sizes else (sizes[-2], sizes[-1])
        writes_big = f[str(big)]["writes"]["p50"]
        add("import1000VsWrites", f"import, {big:,} entities, p50 / their writes",
            p[f"import{big}"]["p50"] / writes_big, f"{p[f'import{big}']['p50']:.0f} ms / {writes_big:.0f} ms",
            TARGETS["import1000VsWrites"] if big == 1000 else None)
        full_floor = (noop + rpc + f[str(big)]["writes"]["p50"] + f[str(big)]["jsonDecode"]["p50"])
        add("import1000VsFloor", f"import, {big:,} entities, p50 / floor",
            p[f"import{big}"]["p50"] / full_floor,
            f"floor {full_floor:.0f} ms = HTTP + RPC + writes + decode", None)
        add("import10000Vs1000", f"import, {bigger:,} / {big:,} entities, p50",
            p[f"import{bigger}"]["p50"] / p[f"import{big}"]["p50"],
            f"{p[f'import{bigger}']['p50']:.0f} ms / {p[f'import{big}']['p50']:.0f} ms (linear: "
            f"{bigger / big:g}; their writes alone: "
            f"{f[str(bigger)]['writes']['p50'] / f[str(big)]['writes']['p50']:.2f})",
            TARGETS["import10000Vs1000"] if big == 1000 else None)
        largest = p["peakRss"]
        file_mb = largest["fileBytes"] / 2**20
        peak_mb, before_mb = largest["peakRssKiB"] / 1024, largest["rssBeforeKiB"] / 1024
        add("peakRssPerFileMb", "import worker peak RSS / file size", peak_mb / file_mb,
            f"{peak_mb:.0f} MB peak for {file_mb:.1f} MB ({(peak_mb - before_mb) / file_mb:.1f} x the file "
            f"above the {before_mb:.0f} MB it held before)", TARGETS["peakRssPerFileMb"])
        r["peakRssGrowthPerFileMb"] = (peak_mb - before_mb) / file_mb
        most = str(self.budget.clients[-1])
        rate = t[most]["importsPerSecond"]
        add("importsPerSecond16Clients", f"1-entity imports/s, {most} clients", rate,
            self._saturation(t[most]), TARGETS["importsPerSecond16Clients"] if most == "16" else None,
            at_most=False)
        return lines

    def _saturation(self, run: dict) -> str:
        """The resource that limits the rate: the cores when the machine was (nearly) all busy, else the
        lowest of the ceilings measured in this run (CPU: the cores over the CPU one import costs)."""
        cores = machine.facts()["usableCpus"]
        ceilings = self.result["ceilings"]
        cpu_ceiling = cores / (run["cpuPerImportMs"] / 1000)
        candidates = {"CPU": cpu_ceiling, "catalog RPC worker": ceilings["catalogCheckImportPerSecond"],
                      "broker (RPC)": ceilings["rpcEchoPerSecond"],
                      "store writes": ceilings["storeImportWritesPerSecond"]}
        machine_busy = run["machineBusyCores"] or 0
        name = "CPU" if machine_busy >= 0.9 * cores else min(candidates, key=candidates.get)
        self.result["saturation"] = {"cpuCeilingPerSecond": cpu_ceiling, "ceilings": candidates,
                                     "saturating": name}
        others = max(0.0, machine_busy - run["oursBusyCores"])
        return (f"saturates: {name} (CPU {run['cpuPerImportMs']:.1f} ms/import over every process x "
                f"{run['importsPerSecond']:.0f}/s = {run['oursBusyCores']:.2f} of {cores} cores, "
                f"{others:.2f} more busy with other work; ceilings/s: CPU {cpu_ceiling:.0f}, catalog RPC "
                f"{ceilings['catalogCheckImportPerSecond']:.0f}, broker {ceilings['rpcEchoPerSecond']:.0f}, "
                f"store {ceilings['storeImportWritesPerSecond']:.0f})")

    def run(self) -> None:
        print(machine_line(self.result))
        self.start()
        self.warm_up()
        if self.options.only == "rss":
            self.measure_peak_rss()
            return
        if self.options.only == "imports":
            # In a store of about the size a full run measures imports in (5,700 reports after throughput,
            # ceilings and RSS): where a document lands in the store's indexes depends on what is there.
            for _ in range(5):
                self._import(HttpClient(self.import_url, self.token), json.dumps(export_file(1000)).encode())
            self.measure_imports()
            self.print_import_ratios()
            return
        if self.options.only == "import1":
            self.budget.sizes, self.budget.rounds = [1], {1: self.budget.rounds[1]}
            self.measure_imports()
            f, p = self.result["floor"], self.result["product"]["import1"]
            floor_1 = f["httpNoop"]["p50"] + f["rpcEcho"]["p50"] + f["1"]["writes"]["p50"]
            cpu = p["cpuByProcessMs"]["import-svc serve"]
            print(f"import, 1 entity, p50 / floor: {p['p50'] / floor_1:.2f} ({p['p50']:.2f} ms / "
                  f"{floor_1:.2f} ms; import-svc CPU/import {cpu:.2f} ms)")
            return
        if self.options.only == "throughput":
            self.measure_throughput()
            self.result["lastImport1Id"] = self._import(HttpClient(self.import_url, self.token),
                                                        json.dumps(export_file(1)).encode())[0]["id"]
            self.measure_ceilings()
            most = self.result["throughput"][str(self.budget.clients[-1])]
            print(f"{self.budget.clients[-1]} clients: {most['importsPerSecond']:.0f}/s; "
                  f"{self._saturation(most)}")
            print("CPU/import by process (ms): " + ", ".join(
                f"{name} {ms:.2f}" for name, ms in most["cpuByProcessMs"].items() if ms))
            return
        # Throughput, ceilings and memory first: on a store still small (the embedded server's costs may grow
        # with its size) and an import worker that has not yet held a 10,000-entity file.
        self.measure_throughput()
        self.result["lastImport1Id"] = self._import(HttpClient(self.import_url, self.token),
                                                    json.dumps(export_file(1)).encode())[0]["id"]
        self.measure_ceilings()
        self.measure_peak_rss()
        self.measure_imports()
        self.measure_exports()
        lines = self.headline()
        self.result["machine"]["cpuSpeedMsAtEnd"] = machine.cpu_speed_ms()
        print("\n=== HEADLINE: ratios to the floor measured in this run "
              f"({'QUICK, not comparable' if self.budget.quick else 'full run'}) ===")
        print("\n".join(lines))
        self.result["headline"] = lines


def machine_line(result: dict) -> str:
    m = result["machine"]
    return (f"{result['time']} {m['host']}: {m['cpus']} CPUs ({m['usableCpus']} usable), {m['cpuModel']}; "
            f"Python {m['python']}; one core runs the reference Python workload in {m['cpuSpeedMs']:.0f} ms "
            f"(machine.py cpu_speed_ms; lower is faster: absolute rates compare only at equal speed); "
            f"load average {' '.join(map(str, m['loadAverage']))}; "
            f"store: {result['store']}; floor JSON: {result['jsonLibraryOfTheFloor']}; "
            f"catalog RPC workers: {result.get('catalogRpcWorkers', 1)}")


def save(result: dict, output: Path, history: Path | None) -> Path:
    output.mkdir(parents=True, exist_ok=True)
    stamp = result["time"].replace("-", "").replace(":", "")
    path = output / f"{stamp}-{result['kind']}-{result['machine']['host']}.json"
    path.write_text(json.dumps(result, indent=2) + "\n")
    if history is not None:
        with history.open("a") as markdown:
            markdown.write(f"\n### {result['time']} ({result['kind']} run)\n\n{machine_line(result)}; "
                           f"load average at the end {' '.join(map(str, machine.facts()['loadAverage']))}, "
                           f"reference workload {result['machine']['cpuSpeedMsAtEnd']:.0f} ms; "
                           f"results: `{path.relative_to(HERE.parent)}`\n\n```\n"
                           + "\n".join(result["headline"]) + "\n```\n")
    return path


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="every step with a minimal budget (seconds)")
    parser.add_argument("--workers", type=int, help="gunicorn workers per service (default: the services')")
    parser.add_argument("--threads", type=int, help="threads per gunicorn worker (default: the services')")
    parser.add_argument("--rpc-workers", type=int, default=2,
                        help="catalog RPC worker processes on the queue (default 2: one per core)")
    parser.add_argument("--output", type=Path, default=HERE / "results", help="where the JSON result goes")
    parser.add_argument("--no-history", action="store_true",
                        help="do not append the headline to BENCHMARKS.md")
    parser.add_argument("--only", choices=["rss", "imports", "import1", "throughput"],
                        help="rss: only the import worker's peak RSS; imports: only the imports of every "
                             "size against their floor; import1: only the 1-entity import against its floor; "
                             "throughput: only imports/s with 1, 4 and 16 clients and the ceilings (printed, "
                             "nothing saved)")
    options = parser.parse_args(argv)
    budget = Budget(options.quick)
    with ExitStack() as stack:
        servers = start_test_servers(stack)
        benchmark = Benchmark(servers, budget, options, stack)
        benchmark.run()
    if options.only:
        return benchmark.result
    history = None if options.quick or options.no_history else HERE.parent / "BENCHMARKS.md"
    path = save(benchmark.result, options.output, history)
    print(f"\nresult: {path}" + (f"; headline appended to {history}" if history else ""))
    return benchmark.result


if __name__ == "__main__":
    main()
