"""Every Prometheus series the services expose, and the /metrics exposition (one worker's view, or all
gunicorn workers added up in multiprocess mode)."""

import collections
from collections.abc import Callable

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
)
from prometheus_client import multiprocess as prometheus_multiprocess

from contracts.errors import ErrorCode, ServiceError
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

IMPORTS = Counter(
    "optimize_imports", "Import requests, by outcome (imported, dry_run, rejected, failed) and errorCode",
    ["outcome", "error_code"])
ENTITIES_WRITTEN = Counter(
    "optimize_entities_written", "Entities written to the entity store, by entity type and operation "
    "(imported, created, updated, deleted)", ["entity_type", "operation"])
EXPORTS = Counter(
    "optimize_exports", "Export files produced, by what was exported (report, dashboard, collection) "
    "and API (user, public)", ["entity_type", "api"])
EXPORTED_ENTITIES = Counter(
    "optimize_exported_entities", "Entities written into export files, by entity type", ["entity_type"])


def record_import(outcome: str, error_code: str | None = None) -> None:
    IMPORTS.labels(outcome, error_code or "").inc()


def record_entities_written(entity_type: str, operation: str, count: int = 1) -> None:
    if count:
        ENTITIES_WRITTEN.labels(entity_type, operation).inc(count)


def record_export(entity_type: str, api: str, exported_types: list[str] | tuple[str, ...] = ()) -> None:
    """One export file of `entity_type` made through `api`; `exported_types` lists the file's entities."""
    EXPORTS.labels(entity_type, api).inc()
    for exported_type in exported_types:
        EXPORTED_ENTITIES.labels(exported_type).inc()


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


def observe_import(dry_run: bool, run: Callable[[], list[dict]]) -> list[dict]:
    """Runs an import and counts it: imported (with its entities) or dry_run, rejected with the errorCode
    a user sees, or failed when the service could not do it."""
    try:
        imported = run()
    except ServiceError as error:
        record_import("rejected" if error.status < 500 else "failed", error.code.value)
        raise
    except Exception:
        record_import("failed", ErrorCode.SERVER_ERROR.value)
        raise
    if dry_run:
        record_import("dry_run")
        return imported
    record_import("imported")
    for entity_type, count in collections.Counter(entity["entityType"] for entity in imported).items():
        record_entities_written(entity_type, "imported", count)
    return imported


def observe_export(entity_type: str, api: str, run: Callable[[], list[dict]]) -> list[dict]:
    """Runs an export and counts the file and the entities in it."""
    entities = run()
    record_export(entity_type, api, [entity["exportEntityType"] for entity in entities])
    return entities
