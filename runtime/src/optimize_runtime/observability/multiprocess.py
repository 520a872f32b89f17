"""Metrics shared by the gunicorn workers of one service: prometheus-client's multiprocess mode, where each
worker writes its samples to files in one directory and /metrics adds them up.

This module must not import prometheus_client: the mode is chosen when prometheus_client is imported."""

import os
import shutil
import sys
import tempfile
from pathlib import Path

MULTIPROC_VARIABLE = "PROMETHEUS_MULTIPROC_DIR"


def prepare_metrics_dir(service: str, parent: Path | None) -> Path:
    """A fresh directory for this server's workers (named by the master's pid, so that servers sharing
    `parent` never mix or wipe each other's samples), made before prometheus_client is imported."""
    if "prometheus_client" in sys.modules and MULTIPROC_VARIABLE not in os.environ:
        raise RuntimeError("prometheus_client was imported before the metrics directory was prepared")
    parent = parent or Path(tempfile.gettempdir())
    directory = parent / f"{service}-metrics-{os.getpid()}"
    shutil.rmtree(directory, ignore_errors=True)
    directory.mkdir(parents=True)
    os.environ[MULTIPROC_VARIABLE] = str(directory)
    return directory


def multiprocess_enabled() -> bool:
    return bool(os.environ.get(MULTIPROC_VARIABLE))


def worker_exited(pid: int) -> None:
    """gunicorn's child_exit hook: the dead worker's live gauges no longer count."""
    if multiprocess_enabled():
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(pid)


def remove_metrics_dir() -> None:
    """gunicorn's on_exit hook: the directory belongs to this server alone."""
    directory = os.environ.get(MULTIPROC_VARIABLE)
    if directory:
        shutil.rmtree(directory, ignore_errors=True)
