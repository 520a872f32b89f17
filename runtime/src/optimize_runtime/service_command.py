"""What every service's `serve` command does: read the configuration (or say why it cannot start), set
up logging and metrics, and serve the app with gunicorn."""

import importlib
import sys
from collections.abc import Callable
from typing import TypeVar

from optimize_runtime.observability import configure_logging
from optimize_runtime.observability.multiprocess import prepare_metrics_dir
from optimize_runtime.settings import ConfigurationError

Config = TypeVar("Config")


def load_config(service: str, read: Callable[[], Config]) -> Config | None:
    """The service's configuration with logging set up, or None after saying why it cannot start."""
    try:
        config = read()
    except ConfigurationError as error:
        print(f"{service} cannot start: {error}", file=sys.stderr)
        return None
    common = config.common
    configure_logging(common.service, common.log_level, common.log_format)
    return config


def serve_http(config, app_module: str) -> None:
    """Serve `app_module.create_app(config)`; the module is imported only after the metrics directory is
    prepared, because prometheus_client reads it on import."""
    common = config.common
    prepare_metrics_dir(common.service, common.metrics_dir)
    from optimize_runtime.http.serve import serve

    create_app = importlib.import_module(app_module).create_app
    serve(lambda: create_app(config), bind=config.http.bind, workers=config.http.workers,
          threads=config.http.threads, graceful_timeout=config.http.graceful_timeout_s)
