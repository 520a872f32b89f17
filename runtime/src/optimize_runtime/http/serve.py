"""Serve a Flask app factory with gunicorn, configured from the service's settings: gunicorn's asyncio
worker reads every request whole before a thread runs the app (see `optimize_runtime.http.front`)."""

import logging
from collections.abc import Callable

from gunicorn.app.base import BaseApplication
from gunicorn.glogging import Logger

from optimize_runtime.http.front import BufferedWsgi
from optimize_runtime.observability.multiprocess import remove_metrics_dir, worker_exited

log = logging.getLogger(__name__)

FORWARDED_MAX_BODY_BYTES = 256 * 1024 * 1024

# The connections a service's wiring holds (see each service's bootstrap.py).
_WIRING_CONNECTIONS = ("catalog", "events", "mongo")


class GunicornLogger(Logger):
    """gunicorn's own messages go to the root logger, so that they are JSON lines like all the others."""

    def setup(self, cfg) -> None:
        super().setup(cfg)
        for gunicorn_log in (self.error_log, self.access_log):
            for handler in list(gunicorn_log.handlers):
                gunicorn_log.removeHandler(handler)
            gunicorn_log.propagate = True


def close_worker_connections(server, worker) -> None:
    """gunicorn's worker_exit hook: in-flight requests are done; close the worker's connections."""
    app = getattr(getattr(worker, "asgi", None), "wsgi_app", None)
    for wiring in getattr(app, "extensions", {}).values():
        for attribute in _WIRING_CONNECTIONS:
            connection = getattr(wiring, attribute, None)
            if connection is not None and callable(getattr(connection, "close", None)):
                try:
                    connection.close()
                except Exception:  # noqa: BLE001 - the worker exits anyway; say what did not close cleanly
                    log.warning("closing %s failed", attribute, exc_info=True)


class GunicornServer(BaseApplication):
    def __init__(self, app_factory: Callable, options: dict, *, threads: int, read_timeout_s: float) -> None:
        self.app_factory = app_factory
        self.options = options
        self.threads = threads
        self.read_timeout_s = read_timeout_s  # ServiceWorker reads it for the request head
        super().__init__()

    def load_config(self) -> None:
        for key, value in self.options.items():
            if value is not None and key in self.cfg.settings:
                self.cfg.set(key, value)

    def load(self):
        # Called in each worker after the fork, so connections are made per worker.
        app = self.app_factory()
        # A service's app says the largest body any of its routes takes; a plain WSGI app (the local
        # gateway) forwards to services that say it themselves.
        max_body_bytes = getattr(app, "config", {}).get("MAX_BODY_BYTES", FORWARDED_MAX_BODY_BYTES)
        return BufferedWsgi(app, threads=self.threads, max_body_bytes=max_body_bytes,
                            read_timeout_s=self.read_timeout_s)


def serve(app_factory: Callable, *, bind: str, workers: int = 1, threads: int = 8,
          graceful_timeout: int = 30, timeout: int = 60, read_timeout_s: float = 30.0) -> None:
    """On SIGTERM gunicorn stops accepting, lets in-flight requests finish for up to `graceful_timeout`
    seconds, then the workers close their connections and exit. `threads`: requests served at once per
    worker; connections waiting for their request to arrive take none."""
    GunicornServer(app_factory, {
        "bind": bind, "workers": workers, "worker_class": "optimize_runtime.http.front.ServiceWorker",
        # gunicorn's own limits of the request head (its defaults): over them, a JSON 414 or 431
        "limit_request_line": 4094, "limit_request_fields": 100, "limit_request_field_size": 8190,
        "graceful_timeout": graceful_timeout, "timeout": timeout, "accesslog": None,
        "preload_app": False, "logger_class": GunicornLogger,
        "control_socket_disable": True,  # several services share one machine (and HOME); nothing uses it
        "worker_exit": close_worker_connections,
        "child_exit": lambda server, worker: worker_exited(worker.pid),
        "on_exit": lambda server: remove_metrics_dir(),
    }, threads=threads, read_timeout_s=read_timeout_s).run()
