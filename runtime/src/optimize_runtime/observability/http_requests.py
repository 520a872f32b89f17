"""What every HTTP request leaves behind: a count and a latency by route, method and status, and one
log line with its request id and user; plus the /metrics endpoint."""

import logging
import time

from flask import Flask, Response, g, request

from optimize_runtime.observability.metrics import HTTP_REQUEST_SECONDS, HTTP_REQUESTS, metrics_exposition

log = logging.getLogger("optimize.requests")

# Probes and scrapes come every few seconds; logging each would drown the requests people make.
QUIET_PATHS = frozenset({"/healthz", "/readyz", "/metrics"})
UNMATCHED_ROUTE = "<unmatched>"


def observe_requests(app: Flask, service: str) -> None:
    """Register before any other before_request hook, so that the latency covers authentication too."""

    @app.before_request
    def start_clock() -> None:
        g.request_started = time.perf_counter()

    @app.after_request
    def record(response: Response) -> Response:
        started = g.get("request_started")
        seconds = time.perf_counter() - started if started is not None else 0.0
        # The route template, never the path: ids in paths would make a series per entity.
        route = request.url_rule.rule if request.url_rule is not None else UNMATCHED_ROUTE
        HTTP_REQUESTS.labels(service, route, request.method, str(response.status_code)).inc()
        HTTP_REQUEST_SECONDS.labels(service, route, request.method).observe(seconds)
        level = logging.DEBUG if request.path in QUIET_PATHS else logging.INFO
        # The path only: the query string and headers are not logged (they may carry what is not ours).
        log.log(level, "%s %s %s", request.method, request.path, response.status_code, extra={
            "method": request.method, "path": request.path, "route": route,
            "status": response.status_code, "durationMs": round(seconds * 1000, 1)})
        return response

    @app.get("/metrics")
    def metrics():
        body, content_type = metrics_exposition()
        return Response(body, content_type=content_type)
