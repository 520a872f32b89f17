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
          threads=config.http.threads, graceful_timeout=config.http.graceful_timeout_s,
          read_timeout_s=config.http.read_timeout_s)


def run_in_foreground(config, runner, client) -> None:
    """Runs `runner` (an outbox relay or an event consumer: `run()`/`serve_forever()` and `stop()`) until
    SIGTERM or SIGINT, with /healthz, /readyz and /metrics on the operations port."""
    import signal

    from optimize_runtime.http.readiness import mongodb_check, rabbitmq_check
    from optimize_runtime.observability.operations_server import serve_operations

    common = config.common
    server = serve_operations(config.http.host, common.operations_port,
                              [mongodb_check(client), rabbitmq_check(common.amqp_url)])

    def stop(signum, frame):
        runner.stop()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    try:
        (getattr(runner, "run", None) or runner.serve_forever)()
    finally:
        server.shutdown()
        client.close()


def run_outbox_relay(config, client, db, gate, outbox_name: str, feeders=()) -> None:
    """`<service> relay`: publishes the service's outbox (in `db`) until SIGTERM."""
    from optimize_runtime.messaging import EventPublisher
    from optimize_runtime.messaging.outbox import OutboxRelay

    common = config.common
    publisher = EventPublisher(common.amqp_url, exchange=common.events_exchange,
                               connection_name=f"{outbox_name} relay", transactional=True)
    relay = OutboxRelay(db, gate, publisher, outbox_name, feeders=feeders)
    try:
        run_in_foreground(config, relay, client)
    finally:
        publisher.close()
