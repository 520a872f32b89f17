"""Serve a Flask app factory with gunicorn (threads), configured from the service's settings."""

from collections.abc import Callable

from gunicorn.app.base import BaseApplication


class GunicornServer(BaseApplication):
    def __init__(self, app_factory: Callable, options: dict) -> None:
        self.app_factory = app_factory
        self.options = options
        super().__init__()

    def load_config(self) -> None:
        for key, value in self.options.items():
            if value is not None and key in self.cfg.settings:
                self.cfg.set(key, value)

    def load(self):
        # Called in each worker after the fork, so connections are made per worker.
        return self.app_factory()


def serve(app_factory: Callable, *, bind: str, workers: int = 1, threads: int = 8,
          graceful_timeout: int = 30, timeout: int = 60) -> None:
    GunicornServer(app_factory, {
        "bind": bind, "workers": workers, "threads": threads, "worker_class": "gthread",
        "graceful_timeout": graceful_timeout, "timeout": timeout, "accesslog": None,
        "preload_app": False,
        "control_socket_disable": True,  # several services share one machine; nothing uses it
    }).run()
