"""One gate for every write to a database that uses transactions, when that database lives on the
embedded server.

nx-27017 runs a transaction as a savepoint on the one SQLite connection of a database, so concurrent
work on the same database leaks into it and is rolled back with it. Serializing every write (across
threads and gunicorn worker processes) makes it lose nothing. On a real MongoDB the gate is a no-op."""

import fcntl
import logging
import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from bson import Binary
from pymongo import MongoClient
from pymongo.client_session import ClientSession

log = logging.getLogger(__name__)


class WriteGate:
    """No-op gate: real MongoDB isolates transactions itself."""

    @contextmanager
    def hold(self) -> Iterator[None]:
        yield

    @contextmanager
    def session(self, client: MongoClient) -> Iterator[ClientSession]:
        """The gate held around a session for one transaction."""
        with self.hold(), client.start_session() as session:
            yield session


class FileWriteGate(WriteGate):
    """An exclusive flock on a file, plus a thread lock: flock alone is per open file, and one file
    is shared by the threads of a process."""

    def __init__(self, path: Path, mongodb_uri: str | None = None) -> None:
        self.path = Path(path)
        self.mongodb_uri = mongodb_uri
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
                if self._depth == 1:
                    self._end_abandoned_transaction()
                yield
            finally:
                self._depth -= 1
                if self._depth == 0 and self._fd is not None:
                    fcntl.flock(self._fd, fcntl.LOCK_UN)
                    os.close(self._fd)
                    self._fd = None

    @contextmanager
    def session(self, client: MongoClient) -> Iterator[ClientSession]:
        """The session's id is kept in the lock file while it is open: if this process dies inside its
        transaction, the server keeps that transaction open (later writes would land in it and be rolled
        back with it), so the next holder of the gate ends it first."""
        with self.hold(), client.start_session() as session:
            self._note_session(session.session_id["id"].hex())
            try:
                yield session
            finally:
                self._note_session("")

    def _note_session(self, session_id: str) -> None:
        os.ftruncate(self._fd, 0)
        os.pwrite(self._fd, session_id.encode(), 0)

    def _end_abandoned_transaction(self) -> None:
        session_id = os.pread(self._fd, 64, 0).decode(errors="replace").strip()
        if not session_id or self.mongodb_uri is None:
            return
        log.warning("ending session %s, left open inside the write gate by a process that died", session_id)
        with MongoClient(self.mongodb_uri, serverSelectionTimeoutMS=3000) as client:
            # Ending a session rolls back its open transaction on the embedded server.
            client.admin.command("endSessions", [{"id": Binary(bytes.fromhex(session_id), 4)}])
        os.ftruncate(self._fd, 0)


def write_gate_for(embedded: bool, data_dir: Path | str, mongodb_uri: str | None = None) -> WriteGate:
    if not embedded:
        return WriteGate()
    return FileWriteGate(Path(data_dir) / "mongodb-write.lock", mongodb_uri)
