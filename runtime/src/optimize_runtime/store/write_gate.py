"""One gate for every write to a database that uses transactions, when that database lives on the
embedded server.

nx-27017 runs a transaction as a savepoint on the one SQLite connection of a database, so concurrent
work on the same database leaks into it and is rolled back with it. Keeping every other write out while a
transaction is open (across threads and gunicorn worker processes) makes it lose nothing: a transaction
holds the gate exclusively, plain writes share it (the server runs each command whole, one at a time per
database). On a real MongoDB the gate is a no-op."""

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
    def hold(self, exclusive: bool = False) -> Iterator[None]:
        """The gate around writes: shared by plain writes (each one command), `exclusive` for several
        commands that must not see another client's writes between them (a transaction: `session`)."""
        yield

    @contextmanager
    def session(self, client: MongoClient) -> Iterator[ClientSession]:
        """The gate held exclusively around a session for one transaction."""
        with self.hold(exclusive=True), client.start_session() as session:
            yield session


class _Held(threading.local):
    exclusive: bool | None = None  # None: this thread does not hold the gate
    depth: int = 0
    fd: int | None = None


class FileWriteGate(WriteGate):
    """A `flock` on a file in the data directory, across threads and processes: shared by plain writes,
    exclusive for a transaction. Each hold opens the file itself (flock excludes across open files, also
    within one process). nx-27017 runs each command whole under a lock of its database, so plain writes
    need no order among themselves; what it cannot do is keep another client's write out of an open
    transaction, which the exclusive hold does. A transaction waiting for the gate goes before writes that
    come after it: every hold passes a turnstile (a second lock file) on its way in, which the transaction
    holds until it has the gate."""

    def __init__(self, path: Path, mongodb_uri: str | None = None) -> None:
        self.path = Path(path)
        self.turnstile = self.path.with_name(self.path.name + ".turnstile")
        self.mongodb_uri = mongodb_uri
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._held = _Held()

    @contextmanager
    def hold(self, exclusive: bool = False) -> Iterator[None]:
        held = self._held
        if held.exclusive is not None:  # held by this thread already: an inner hold changes nothing
            if exclusive and not held.exclusive:
                raise RuntimeError("the write gate is held shared by this thread: no transaction inside")
            held.depth += 1
            try:
                yield
            finally:
                held.depth -= 1
            return
        fd = self._enter(exclusive)
        held.exclusive, held.depth, held.fd = exclusive, 1, fd
        try:
            yield
        finally:
            held.exclusive, held.depth, held.fd = None, 0, None
            os.close(fd)  # closing the file releases its lock

    def _enter(self, exclusive: bool) -> int:
        while True:
            fd = self._locked(exclusive)
            if exclusive:
                self._end_abandoned_transaction(fd)
                return fd
            if not os.pread(fd, 64, 0).strip():
                return fd
            # A process died inside a transaction: that session is ended under the exclusive gate first.
            os.close(fd)
            with self.hold(exclusive=True):
                pass

    def _locked(self, exclusive: bool) -> int:
        turnstile = os.open(self.turnstile, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(turnstile, fcntl.LOCK_EX if exclusive else fcntl.LOCK_SH)
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX if exclusive else fcntl.LOCK_SH)
            except BaseException:
                os.close(fd)
                raise
            return fd
        finally:
            os.close(turnstile)

    @contextmanager
    def session(self, client: MongoClient) -> Iterator[ClientSession]:
        """The session's id is kept in the lock file while it is open: if this process dies inside its
        transaction, the server keeps that transaction open (later writes would land in it and be rolled
        back with it), so the next holder of the gate ends it first."""
        with self.hold(exclusive=True), client.start_session() as session:
            self._note_session(session.session_id["id"].hex())
            try:
                yield session
            finally:
                self._note_session("")

    def _note_session(self, session_id: str) -> None:
        os.ftruncate(self._held.fd, 0)
        os.pwrite(self._held.fd, session_id.encode(), 0)

    def _end_abandoned_transaction(self, fd: int) -> None:
        session_id = os.pread(fd, 64, 0).decode(errors="replace").strip()
        if not session_id or self.mongodb_uri is None:
            return
        log.warning("ending session %s, left open inside the write gate by a process that died", session_id)
        with MongoClient(self.mongodb_uri, serverSelectionTimeoutMS=3000) as client:
            # Ending a session rolls back its open transaction on the embedded server.
            client.admin.command("endSessions", [{"id": Binary(bytes.fromhex(session_id), 4)}])
        os.ftruncate(fd, 0)


def write_gate_for(embedded: bool, data_dir: Path | str, mongodb_uri: str | None = None) -> WriteGate:
    if not embedded:
        return WriteGate()
    return FileWriteGate(Path(data_dir) / "mongodb-write.lock", mongodb_uri)
