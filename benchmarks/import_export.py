"""Import and export throughput and latency, in-process or over HTTP against the real processes.

Starts (or finds, from OPTIMIZE_MONGODB_URI / OPTIMIZE_AMQP_URL) MongoDB and RabbitMQ as the tests do, and
for export files of 1, 50 and 500 entities prints imports/s and the latency percentiles of import and of
export (the export of what was just imported: the dashboard with all its reports).

- default: one installation in this process (the three Flask apps through their WSGI test clients, a
  catalog RPC worker thread), one client. No HTTP socket in between: the numbers are the services' own cost.
- `--http`: the real thing. `catalog-svc serve`, `catalog-svc rpc`, `export-svc serve` and `import-svc serve`
  as subprocesses (gunicorn) on free loopback ports, with their own databases, queue and exchange names,
  the catalog seeded over HTTP, and 1 and 4 concurrent clients. Everything started is stopped at the end.

    make benchmark                       # or: .venv/bin/python benchmarks/import_export.py --rounds 50
    .venv/bin/python benchmarks/import_export.py --http --clients 1 4
"""

import argparse
import json
import os
import platform
import signal
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from contextlib import ExitStack
from pathlib import Path

from optimize_runtime.identity import issue_token
from optimize_runtime.infra.ports import free_port
from optimize_testing.pytest_plugin import isolated_names, service_environ
from optimize_testing.servers import TestServers, start_test_servers

KEY = "invoice"
DEFINITIONS = [{"type": "process", "key": KEY, "name": "Invoice", "version": "1", "tenantId": None}]
AUTHORIZATIONS = [{"identity": {"id": "demo", "type": "user"}, "definitionType": "process",
                   "definitionKey": KEY, "tenants": [None]}]
# (console script, command, port variable); the RPC worker has no HTTP port of its own.
SERVICE_PROCESSES = (
    ("catalog-svc", "serve", "OPTIMIZE_CATALOG_PORT"),
    ("catalog-svc", "rpc", None),
    ("export-svc", "serve", "OPTIMIZE_EXPORT_PORT"),
    ("import-svc", "serve", "OPTIMIZE_IMPORT_PORT"),
)
REQUEST_TIMEOUT_S = 120
START_TIMEOUT_S = 60


def export_file(entity_count: int) -> list[dict]:
    """`entity_count - 1` single reports and a dashboard showing them all (one report alone for 1)."""
    reports = [{
        "id": f"report-{i}", "exportEntityType": "single_process_report", "name": f"Report {i}",
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
    dashboard = {"id": "dashboard", "exportEntityType": "dashboard", "name": "Everything",
                 "description": None, "sourceIndexVersion": 8, "collectionId": None, "tiles": tiles,
                 "availableFilters": [],
                 "refreshRateSeconds": None, "managementDashboard": False, "instantPreviewDashboard": False}
    return [*reports, dashboard]


def milliseconds(samples: list[float], fraction: float) -> str:
    """The percentile `fraction` of the samples (nearest rank), as a column."""
    ordered = sorted(samples)
    return f"{ordered[round(fraction * (len(ordered) - 1))] * 1000:>9.1f}ms"


def timed(call, *args, **kwargs):
    start = time.perf_counter()
    result = call(*args, **kwargs)
    return time.perf_counter() - start, result


def machine_facts(servers: TestServers) -> str:
    cpu_model = next((line.split(":", 1)[1].strip() for line in _read_lines("/proc/cpuinfo")
                      if line.startswith("model name")), platform.processor() or "unknown")
    store = ("embedded nx-27017 (write gate on: writes serialized)" if servers.mongodb_embedded
             else servers.mongodb_uri)
    load = " ".join(_read_lines("/proc/loadavg")[0].split()[:3]) if _read_lines("/proc/loadavg") else "?"
    return (f"machine: {os.cpu_count()} CPUs ({len(os.sched_getaffinity(0))} usable), {cpu_model}; "
            f"Python {platform.python_version()}; load average {load}\nstore: {store}")


def _read_lines(path: str) -> list[str]:
    try:
        return Path(path).read_text().splitlines()
    except OSError:
        return []


def in_process(servers: TestServers, options: argparse.Namespace, stack: ExitStack) -> None:
    from optimize_testing.installation import start_installation

    installation = start_installation(servers, isolated_names("bench"))
    stack.callback(installation.close)
    headers = installation.headers()
    installation.catalog.post("/api/definition", json=DEFINITIONS, headers=headers)
    installation.catalog.post("/api/authorization", headers=headers, json=AUTHORIZATIONS)
    imports, export = installation.imports, installation.export
    print(f"{options.rounds} rounds per size; in-process WSGI clients, one at a time; CPU: this process's "
          "CPU time per import (every service, not the store), steadier than latency on a busy machine\n")
    print(f"{'entities':>8} {'imports/s':>10} {'import p50':>11} {'import p95':>11} {'CPU p50':>11} "
          f"{'entities/s':>11} {'export p50':>11} {'export p95':>11}")

    for size in options.sizes:
        body = json.dumps(export_file(size))
        import_times, import_cpu_times, export_times = [], [], []
        for _ in range(options.rounds):
            cpu_start = time.process_time()
            elapsed, response = timed(imports.post, "/api/import", data=body,
                                      content_type="application/json", headers=headers)
            if response.status_code != 200:
                raise SystemExit(f"import of {size} entities failed: {response.get_data(as_text=True)}")
            import_times.append(elapsed)
            import_cpu_times.append(time.process_time() - cpu_start)
            last = response.json[-1]
            path = f"/api/export/{last['entityType']}/json/{last['id']}/bench.json"
            elapsed, response = timed(export.get, path, headers=headers)
            if response.status_code != 200:
                raise SystemExit(f"export of {size} entities failed: {response.get_data(as_text=True)}")
            export_times.append(elapsed)
        rate = len(import_times) / sum(import_times)
        print(f"{size:>8} {rate:>10.1f} {milliseconds(import_times, .5)} "
              f"{milliseconds(import_times, .95)} {milliseconds(import_cpu_times, .5)} {rate * size:>11.0f} "
              f"{milliseconds(export_times, .5)} {milliseconds(export_times, .95)}")


class ServiceProcesses:
    """The four processes of one installation, started in their own sessions and stopped together."""

    def __init__(self, env: dict[str, str], log_path: Path) -> None:
        self.env = env
        self.log_path = log_path
        self.children: list[subprocess.Popen] = []

    def url(self, port_variable: str) -> str:
        return f"http://127.0.0.1:{self.env[port_variable]}"

    def start(self) -> None:
        bin_dir = Path(sys.executable).parent
        with self.log_path.open("ab") as log:
            for script, command, _ in SERVICE_PROCESSES:
                self.children.append(subprocess.Popen(
                    [str(bin_dir / script), command], env=self.env, stdout=log, stderr=subprocess.STDOUT,
                    start_new_session=True))

    def wait_ready(self) -> None:
        deadline = time.monotonic() + START_TIMEOUT_S
        for _, _, port_variable in SERVICE_PROCESSES:
            while port_variable is not None:
                if any(child.poll() is not None for child in self.children):
                    raise SystemExit(f"a service exited while starting:\n{self.log_tail()}")
                if time.monotonic() > deadline:
                    raise SystemExit(f"not ready within {START_TIMEOUT_S} s; see {self.log_path}")
                if request("GET", f"{self.url(port_variable)}/readyz", timeout_s=3)[0] == 200:
                    break
                time.sleep(0.3)

    def log_tail(self) -> str:
        return self.log_path.read_text(errors="replace")[-3000:] if self.log_path.exists() else ""

    def stop(self) -> None:
        for child in self.children:
            if child.poll() is None:
                os.killpg(child.pid, signal.SIGTERM)
        deadline = time.monotonic() + 15
        for child in self.children:
            try:
                child.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                os.killpg(child.pid, signal.SIGKILL)
                child.wait()


def request(method: str, url: str, *, token: str | None = None, body: bytes | None = None,
            timeout_s: float = REQUEST_TIMEOUT_S) -> tuple[int, bytes]:
    """Status and body; a refused connection is status 0."""
    headers = {"Content-Type": "application/json"} if body is not None else {}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    try:
        with urllib.request.urlopen(urllib.request.Request(url, body, headers, method=method),
                                    timeout=timeout_s) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.read()
    except OSError:
        return 0, b""


def over_http(servers: TestServers, options: argparse.Namespace, stack: ExitStack) -> None:
    ports = {f"OPTIMIZE_{name}_PORT": str(free_port())
             for name in ("CATALOG", "EXPORT", "IMPORT", "OPERATIONS")}
    env = {name: value for name, value in os.environ.items() if not name.startswith("OPTIMIZE_")}
    env.update(service_environ(servers, isolated_names("benchhttp"), **ports, OPTIMIZE_HTTP_HOST="127.0.0.1",
                               OPTIMIZE_HTTP_WORKERS=str(options.workers),
                               OPTIMIZE_HTTP_THREADS=str(options.threads), OPTIMIZE_DEMO_SEED="0",
                               OPTIMIZE_RPC_TIMEOUT_S="10", OPTIMIZE_GRACEFUL_TIMEOUT_S="5"))
    services = ServiceProcesses(env, servers.data_dir / "services.log")
    stack.callback(services.stop)
    services.start()
    services.wait_ready()
    token = issue_token(env["OPTIMIZE_AUTH_JWT_SECRET"], "demo")
    catalog, imports, export = (services.url(f"OPTIMIZE_{name}_PORT")
                                for name in ("CATALOG", "IMPORT", "EXPORT"))
    for path, payload in (("/api/definition", DEFINITIONS), ("/api/authorization", AUTHORIZATIONS)):
        status, answer = request("POST", catalog + path, token=token, body=json.dumps(payload).encode())
        if status != 200:
            raise SystemExit(f"seeding {path} failed ({status}): {answer[:500]!r}")
    _wait_for_rpc_worker(imports, token, services)

    print(f"{options.rounds} rounds per size and client count; gunicorn {options.workers} worker(s) x "
          f"{options.threads} threads per service; HTTP over loopback (urllib, one connection per request)\n")
    print(f"{'entities':>8} {'clients':>7} {'imports/s':>10} {'entities/s':>11} {'import p50':>11} "
          f"{'p95':>11} {'p99':>11} {'export p50':>11} {'p95':>11} {'p99':>11}")
    # Every gunicorn worker thread imports and exports once before anything is measured.
    _run_clients(imports, export, token, export_file(1), options.workers * options.threads,
                 options.workers * options.threads)
    for size in options.sizes:
        file = export_file(size)
        for clients in options.clients:
            wall, import_times, export_times = _run_clients(imports, export, token, file, clients,
                                                            options.rounds)
            rate = len(import_times) / wall
            print(f"{size:>8} {clients:>7} {rate:>10.1f} {rate * size:>11.0f} "
                  f"{milliseconds(import_times, .5)} {milliseconds(import_times, .95)} "
                  f"{milliseconds(import_times, .99)} {milliseconds(export_times, .5)} "
                  f"{milliseconds(export_times, .95)} {milliseconds(export_times, .99)}")


def _wait_for_rpc_worker(imports: str, token: str, services: ServiceProcesses) -> None:
    """A dry run needs the catalog RPC worker: it answers once the worker consumes its queue."""
    deadline = time.monotonic() + START_TIMEOUT_S
    body = json.dumps(export_file(1)).encode()
    while (status := request("POST", f"{imports}/api/import?dryRun=true", token=token, body=body)[0]) != 200:
        if status not in (0, 503) or time.monotonic() > deadline:
            raise SystemExit(f"dry run answered {status}; see {services.log_path}:\n{services.log_tail()}")
        time.sleep(0.5)


def _run_clients(imports: str, export: str, token: str, file: list[dict], clients: int,
                 rounds: int) -> tuple[float, list[float], list[float]]:
    """`rounds` imports, each followed by the export of its last entity, shared among `clients` threads;
    the wall time and every import's and export's latency."""
    body = json.dumps(file).encode()
    remaining = iter(range(rounds))
    claim = threading.Lock()
    import_times: list[float] = []
    export_times: list[float] = []
    failures: list[str] = []

    def client() -> None:
        while not failures:
            with claim:
                if next(remaining, None) is None:
                    return
            elapsed, (status, answer) = timed(request, "POST", f"{imports}/api/import", token=token,
                                              body=body)
            if status != 200:
                failures.append(f"import of {len(file)} entities answered {status}: {answer[:500]!r}")
                return
            import_times.append(elapsed)
            last = json.loads(answer)[-1]
            path = f"/api/export/{last['entityType']}/json/{last['id']}/bench.json"
            elapsed, (status, answer) = timed(request, "GET", export + path, token=token)
            if status != 200:
                failures.append(f"export of {len(file)} entities answered {status}: {answer[:500]!r}")
                return
            export_times.append(elapsed)

    threads = [threading.Thread(target=client, daemon=True) for _ in range(clients)]
    start = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    wall = time.perf_counter() - start
    if failures:
        raise SystemExit(failures[0])
    return wall, import_times, export_times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=20, help="imports (and exports) per file size")
    parser.add_argument("--sizes", type=int, nargs="+", default=[1, 50, 500], help="entities per file")
    parser.add_argument("--http", action="store_true", help="run the services as processes, over HTTP")
    parser.add_argument("--clients", type=int, nargs="+", default=[1, 4],
                        help="with --http: concurrent clients, one run per count")
    parser.add_argument("--workers", type=int, default=2, help="with --http: gunicorn workers per service")
    parser.add_argument("--threads", type=int, default=8, help="with --http: threads per gunicorn worker")
    options = parser.parse_args()

    with ExitStack() as stack:
        servers = start_test_servers(stack)
        print(machine_facts(servers))
        (over_http if options.http else in_process)(servers, options, stack)


if __name__ == "__main__":
    main()
