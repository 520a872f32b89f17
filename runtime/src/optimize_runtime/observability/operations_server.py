"""/healthz, /readyz and /metrics for a process that serves no HTTP of its own (the catalog RPC worker),
on a small server in a daemon thread, so that Kubernetes can probe it and Prometheus scrape it."""

import json
import logging
import threading
from collections.abc import Iterable
from socketserver import ThreadingMixIn
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

from optimize_runtime.http.app import ReadinessCheck
from optimize_runtime.observability.metrics import metrics_exposition

log = logging.getLogger(__name__)

class _QuietHandler(WSGIRequestHandler):
    def log_message(self, format: str, *args) -> None:  # noqa: A002 - the signature of the base class
        log.debug(format, *args)


class _ThreadingWSGIServer(ThreadingMixIn, WSGIServer):
    daemon_threads = True


def operations_app(readiness: Iterable[ReadinessCheck]):
    checks = list(readiness)

    def app(environ, start_response):
        path = environ.get("PATH_INFO", "")
        if path == "/metrics":
            body, content_type = metrics_exposition()
            start_response("200 OK", [("Content-Type", content_type)])
            return [body]
        if path == "/healthz":
            return _json(start_response, "200 OK", {"status": "alive"})
        if path == "/readyz":
            results, failed = {}, False
            for check in checks:
                try:
                    check.probe()
                    results[check.name] = "ok"
                except Exception as error:  # noqa: BLE001 - any failure means not ready, and we say which
                    results[check.name], failed = f"failed: {error}", True
            if failed:
                return _json(start_response, "503 Service Unavailable",
                             {"status": "not ready", "checks": results})
            return _json(start_response, "200 OK", {"status": "ready", "checks": results})
        return _json(start_response, "404 Not Found", {"status": "not found"})

    return app


def _json(start_response, status: str, body: dict) -> list[bytes]:
    start_response(status, [("Content-Type", "application/json")])
    return [json.dumps(body).encode()]


def serve_operations(host: str, port: int, readiness: Iterable[ReadinessCheck]) -> WSGIServer:
    """Starts serving at once in a daemon thread; the returned server's `shutdown()` stops it."""
    server = make_server(host, port, operations_app(readiness), server_class=_ThreadingWSGIServer,
                         handler_class=_QuietHandler)
    threading.Thread(target=server.serve_forever, name="operations-http", daemon=True).start()
    log.info("operations endpoints (/healthz, /readyz, /metrics) on %s:%s", host, server.server_port)
    return server
