"""The embedded MongoDB-protocol server (nx-27017), for machines without a MongoDB.

It keeps one SQLite file per database under its data directory and does NOT isolate concurrent
transactions; the services gate their writes when they run on it (see store/write_gate.py)."""

import logging
import shutil
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

from pymongo import MongoClient

from optimize_runtime.infra.ports import free_port

log = logging.getLogger(__name__)


@dataclass
class EmbeddedMongo:
    data_dir: Path
    port: int = 0
    process: subprocess.Popen | None = field(default=None, repr=False)

    @property
    def uri(self) -> str:
        return f"mongodb://127.0.0.1:{self.port}/?directConnection=true"

    def start(self, timeout_s: float = 30.0) -> "EmbeddedMongo":
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self.port = self.port or free_port()
        executable = shutil.which("nx-27017", path=str(Path(sys.executable).parent)) or "nx-27017"
        log_file = self.data_dir / "nx-27017.log"
        self.process = subprocess.Popen(
            [executable, "--data-dir", str(self.data_dir / "databases"), "--host", "127.0.0.1",
             "--port", str(self.port), "--log-file", str(log_file),
             "--pid-file", str(self.data_dir / "nx-27017.pid")],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True,
        )
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"nx-27017 exited with {self.process.returncode}; see {log_file}")
            try:
                with MongoClient(self.uri, serverSelectionTimeoutMS=300) as client:
                    client.admin.command("ping")
                return self
            except Exception:  # noqa: BLE001 - not up yet
                time.sleep(0.1)
        self.stop()
        raise RuntimeError(f"nx-27017 did not answer on port {self.port} within {timeout_s:.0f} s")

    def stop(self, timeout_s: float = 10.0) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout=timeout_s)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
