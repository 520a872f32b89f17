"""The Prometheus series every service shares (HTTP, RPC), and the /metrics exposition (one worker's view,
or all gunicorn workers added up in multiprocess mode). What a service counts of its own domain
(imports, exports) it defines in its own adapters."""

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
)
from prometheus_client import multiprocess as prometheus_multiprocess

from optimize_runtime.observability.multiprocess import multiprocess_enabled

# Seconds; imports of big files take seconds, health checks microseconds.
LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30)

HTTP_REQUESTS = Counter(
    "optimize_http_requests", "HTTP requests answered, by route template, method and status",
    ["service", "route", "method", "status"])
HTTP_REQUEST_SECONDS = Histogram(
    "optimize_http_request_duration_seconds", "Time to answer an HTTP request",
    ["service", "route", "method"], buckets=LATENCY_BUCKETS)

RPC_CALLS = Counter(
    "optimize_rpc_client_calls", "RPC calls made, by method and outcome "
    "(ok, timeout, unavailable, remote_error, invalid)", ["method", "outcome"])
RPC_CALL_SECONDS = Histogram(
    "optimize_rpc_client_call_duration_seconds", "Time from sending an RPC request to its reply or failure",
    ["method", "outcome"], buckets=LATENCY_BUCKETS)
RPC_REQUESTS_SERVED = Counter(
    "optimize_rpc_server_requests", "RPC requests a worker handled, by method and outcome "
    "(ok, an error code, expired)", ["method", "outcome"])
RPC_SERVE_SECONDS = Histogram(
    "optimize_rpc_server_request_duration_seconds", "Time a worker spent answering an RPC request",
    ["method"], buckets=LATENCY_BUCKETS)

OUTBOX_PUBLISHED = Counter(
    "optimize_outbox_published", "Events an outbox relay published (broker confirmed)", ["outbox"])
OUTBOX_BACKLOG = Gauge(
    "optimize_outbox_backlog", "Events recorded in an outbox and not yet published", ["outbox"],
    multiprocess_mode="max")
OUTBOX_OLDEST_AGE = Gauge(
    "optimize_outbox_oldest_unsent_age_seconds",
    "How long the oldest unpublished event of an outbox has waited",
    ["outbox"], multiprocess_mode="max")
EVENTS_CONSUMED = Counter(
    "optimize_events_consumed",
    "Events a consumer handled, by queue and outcome (done, retried, dead_lettered)",
    ["queue", "outcome"])


def record_outbox_published(outbox: str, count: int) -> None:
    OUTBOX_PUBLISHED.labels(outbox).inc(count)


def record_outbox_backlog(outbox: str, unsent: int, oldest_age_s: float) -> None:
    OUTBOX_BACKLOG.labels(outbox).set(unsent)
    OUTBOX_OLDEST_AGE.labels(outbox).set(oldest_age_s)


def record_event_consumed(queue: str, outcome: str) -> None:
    EVENTS_CONSUMED.labels(queue, outcome).inc()


def metrics_exposition() -> tuple[bytes, str]:
    """The body and content type of /metrics."""
    if multiprocess_enabled():
        registry = CollectorRegistry()
        prometheus_multiprocess.MultiProcessCollector(registry)
    else:
        registry = REGISTRY
    return generate_latest(registry), CONTENT_TYPE_LATEST


def record_rpc_call(method: str, outcome: str, seconds: float) -> None:
    RPC_CALLS.labels(method, outcome).inc()
    RPC_CALL_SECONDS.labels(method, outcome).observe(seconds)


def record_rpc_served(method: str | None, outcome: str, seconds: float) -> None:
    # An undecodable request has no method we could trust as a label.
    method = method or "unknown"
    RPC_REQUESTS_SERVED.labels(method, outcome).inc()
    RPC_SERVE_SECONDS.labels(method).observe(seconds)


def record_rpc_expired() -> None:
    RPC_REQUESTS_SERVED.labels("unknown", "expired").inc()
