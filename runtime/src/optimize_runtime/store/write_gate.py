"""One gate for every write to a database that uses transactions, when that database lives on the
embedded server.

nx-27017 runs a transaction as a savepoint on the one SQLite connection of a database, so concurrent
work on the same database leaks into it and is rolled back with it. Serializing every write (across
threads and gunicorn worker processes) makes it lose nothing. On a real MongoDB the gate is a no-op."""

import fcntl
import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


class WriteGate:
    """No-op gate: real MongoDB isolates transactions itself."""

    @contextmanager
    def hold(self) -> Iterator[None]:
        yield


class FileWriteGate(WriteGate):
    """An exclusive flock on a file, plus a thread lock: flock alone is per open file, and one file
    is shared by the threads of a process."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._threads = threading.RLock()
        self._depth = 0
        self._fd: int | None = None

    @contextmanager
    def hold(self) -> Iterator[None]:
        with self._threads:
            if self._depth == 0:
                self._fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
                fcntl.flock(self._fd, fcntl.LOCK_EX)
            self._depth += 1
            try:
                yield
            finally:
                self._depth -= 1
                if self._depth == 0 and self._fd is not None:
                    fcntl.flock(self._fd, fcntl.LOCK_UN)
                    os.close(self._fd)
                    self._fd = None


def write_gate_for(embedded: bool, data_dir: Path | str) -> WriteGate:
    if not embedded:
        return WriteGate()
    return FileWriteGate(Path(data_dir) / "mongodb-write.lock")
