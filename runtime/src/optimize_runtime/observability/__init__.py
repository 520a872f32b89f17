"""Operating the services: Prometheus metrics, JSON logs with request ids, operations endpoints.

Import `metrics` (which imports prometheus_client) only after `multiprocess.prepare_metrics_dir` ran in a
gunicorn master; the other modules are safe to import at any time."""

from optimize_runtime.observability.context import bound_request, current_request_id, current_user_id
from optimize_runtime.observability.logs import configure_logging

__all__ = ["bound_request", "configure_logging", "current_request_id", "current_user_id"]
