"""Import and export throughput and latency against the real services, in-process.

Starts (or finds, from OPTIMIZE_MONGODB_URI / OPTIMIZE_AMQP_URL) MongoDB and RabbitMQ as the tests do,
runs one installation (the three Flask apps through their WSGI test clients, a catalog RPC worker
thread), and for export files of 1, 50 and 500 entities prints imports/s and p50/p95 latency of
import and of export. There is no HTTP socket in between: the numbers are the services' own cost.

    make benchmark                       # or: .venv/bin/python benchmarks/import_export.py --rounds 50
"""

import argparse
import json
import time
from contextlib import ExitStack

from optimize_runtime.testing.installation import start_installation
from optimize_runtime.testing.pytest_plugin import isolated_names
from optimize_runtime.testing.servers import start_test_servers

KEY = "invoice"


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
    """The percentile `fraction` of the samples, as a column."""
    ordered = sorted(samples)
    return f"{ordered[round(fraction * (len(ordered) - 1))] * 1000:>9.1f}ms"


def timed(call, *args, **kwargs):
    start = time.perf_counter()
    result = call(*args, **kwargs)
    return time.perf_counter() - start, result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=20, help="imports (and exports) per file size")
    parser.add_argument("--sizes", type=int, nargs="+", default=[1, 50, 500], help="entities per file")
    options = parser.parse_args()

    with ExitStack() as stack:
        servers = start_test_servers(stack)
        installation = start_installation(servers, isolated_names("bench"))
        stack.callback(installation.close)
        headers = installation.headers()
        definitions = [{"type": "process", "key": KEY, "name": "Invoice", "version": "1", "tenantId": None}]
        installation.catalog.post("/api/definition", json=definitions, headers=headers)
        installation.catalog.post("/api/authorization", headers=headers, json=[{
            "identity": {"id": "demo", "type": "user"}, "definitionType": "process", "definitionKey": KEY,
            "tenants": [None]}])
        imports, export = installation.imports, installation.export
        store = "embedded nx-27017 (write gate on)" if servers.mongodb_embedded else servers.mongodb_uri
        print(f"store: {store}; {options.rounds} rounds per size; in-process WSGI clients\n")
        print(f"{'entities':>8} {'imports/s':>10} {'import p50':>11} {'import p95':>11} "
              f"{'entities/s':>11} {'export p50':>11} {'export p95':>11}")

        for size in options.sizes:
            body = json.dumps(export_file(size))
            import_times, export_times = [], []
            for _ in range(options.rounds):
                elapsed, response = timed(imports.post, "/api/import", data=body,
                                          content_type="application/json", headers=headers)
                if response.status_code != 200:
                    raise SystemExit(f"import of {size} entities failed: {response.get_data(as_text=True)}")
                import_times.append(elapsed)
                last = response.json[-1]
                path = f"/api/export/{last['entityType']}/json/{last['id']}/bench.json"
                elapsed, response = timed(export.get, path, headers=headers)
                if response.status_code != 200:
                    raise SystemExit(f"export of {size} entities failed: {response.get_data(as_text=True)}")
                export_times.append(elapsed)
            rate = len(import_times) / sum(import_times)
            print(f"{size:>8} {rate:>10.1f} {milliseconds(import_times, .5)} "
                  f"{milliseconds(import_times, .95)} {rate * size:>11.0f} "
                  f"{milliseconds(export_times, .5)} {milliseconds(export_times, .95)}")


if __name__ == "__main__":
    main()
