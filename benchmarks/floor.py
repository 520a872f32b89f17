"""The floor: what the parts underneath the services take for the work an import or an export cannot avoid,
measured on the same servers as the product, in the same run.

- one RPC round trip on the same broker, as the services call (direct reply-to, mandatory publishing with
  publisher confirms), answered by an echo server with nothing of ours in it (`rpc_echo_server.py`);
- the writes the atomic-import design needs before it can answer, of the same documents the product stored:
  the pending journal record, one `insert_many` per collection (marked pending), the single-document commit
  of the record (with the import's outcome); on the embedded server each through the write gate, as it needs
  to be correct. The clearing of the markers is not among them: the design clears them after the answer,
  for many imports at once (readers never need it), so no import has to wait for it; it is measured with
  the store's ceiling, one clearing per import;
- the read of the same documents (one `$in` query per collection);
- JSON decoding of the file and encoding of the export, with the fastest JSON library installed.
"""

import json
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable
from pathlib import Path

import pika
from pymongo import MongoClient

from contracts.entities import collection_of
from contracts.entity_ids import new_entity_id
from contracts.import_journal import (
    JOURNAL_COLLECTION,
    PENDING_MARKER,
    commit_filter,
    commit_update,
    pending_record,
)
from import_svc.adapters.entity_store import EntityStore
from import_svc.adapters.import_journal import ImportJournal
from optimize_runtime.cyclic_gc import cyclic_gc_paused
from optimize_runtime.store.write_gate import WriteGate

try:
    import orjson

    JSON_LIBRARY = f"orjson {orjson.__version__}"
    json_decode, json_encode = orjson.loads, orjson.dumps
except ImportError:  # the floor is then what the standard library can do
    JSON_LIBRARY = "json (standard library)"
    json_decode = json.loads

    def json_encode(value) -> bytes:
        return json.dumps(value, separators=(",", ":")).encode()

DIRECT_REPLY_TO = "amq.rabbitmq.reply-to"


def json_decode_alone(body: bytes):
    """Decoding with the cyclic garbage collector paused, as an import decodes (else this process's own heap
    would be walked again and again, which is Python's cost, not the library's)."""
    with cyclic_gc_paused():
        return json_decode(body)


def samples(call: Callable[[], object], rounds: int) -> list[float]:
    """Seconds per call, `rounds` times after one call not counted."""
    call()
    times = []
    for _ in range(rounds):
        start = time.perf_counter()
        call()
        times.append(time.perf_counter() - start)
    return times


def throughput(call: Callable[[], object], threads: int, duration_s: float) -> float:
    """Calls per second that `threads` threads make, each calling back to back for `duration_s`."""
    done = [0] * threads
    failures: list[BaseException] = []
    stop_at = time.perf_counter() + duration_s

    def worker(index: int) -> None:
        try:
            while time.perf_counter() < stop_at:
                call()
                done[index] += 1
        except BaseException as error:  # noqa: BLE001 - reported by the caller
            failures.append(error)

    workers = [threading.Thread(target=worker, args=(i,), daemon=True) for i in range(threads)]
    start = time.perf_counter()
    for thread in workers:
        thread.start()
    for thread in workers:
        thread.join()
    if failures:
        raise failures[0]
    return sum(done) / (time.perf_counter() - start)


class RpcEcho:
    """An echo server process on the broker and a client per thread that calls it as the services call."""

    def __init__(self, amqp_url: str, queue: str) -> None:
        self.amqp_url, self.queue = amqp_url, queue
        self._server: subprocess.Popen | None = None
        self._local = threading.local()
        self._connections: list[pika.BlockingConnection] = []
        self._lock = threading.Lock()

    def start(self) -> "RpcEcho":
        script = Path(__file__).with_name("rpc_echo_server.py")
        self._server = subprocess.Popen([sys.executable, str(script), self.amqp_url, self.queue],
                                        stdout=subprocess.PIPE, text=True, start_new_session=True)
        if self._server.stdout.readline().strip() != "ready":
            raise SystemExit("the RPC echo server did not start")
        return self

    @property
    def pid(self) -> int | None:
        return self._server.pid if self._server else None

    def stop(self) -> None:
        with self._lock:
            for connection in self._connections:
                try:
                    connection.close()
                except Exception:  # noqa: BLE001 - closing at the end; a broken one is as good as closed
                    pass
        if self._server is not None and self._server.poll() is None:
            self._server.terminate()
            try:
                self._server.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self._server.kill()
                self._server.wait()

    def _caller(self):
        caller = getattr(self._local, "caller", None)
        if caller is None:
            connection = pika.BlockingConnection(pika.URLParameters(self.amqp_url))
            channel = connection.channel()
            channel.confirm_delivery()
            reply: dict = {}

            def on_reply(_channel, _method, properties, body) -> None:
                reply[properties.correlation_id] = body

            channel.basic_consume(DIRECT_REPLY_TO, on_reply, auto_ack=True)
            caller = self._local.caller = (connection, channel, reply)
            with self._lock:
                self._connections.append(connection)
        return caller

    def call(self, body: bytes) -> bytes:
        connection, channel, replies = self._caller()
        correlation_id = str(uuid.uuid4())
        channel.basic_publish("", self.queue, body, pika.BasicProperties(
            content_type="application/json", correlation_id=correlation_id, reply_to=DIRECT_REPLY_TO,
            expiration="10000", headers={"deadline": round((time.time() + 10) * 1000)}), mandatory=True)
        deadline = time.monotonic() + 10
        while correlation_id not in replies:
            if time.monotonic() > deadline:
                raise TimeoutError("the RPC echo server did not answer within 10 s")
            connection.process_data_events(time_limit=1)
        return replies.pop(correlation_id)


class StoreFloor:
    """The atomic-import writes and the export read of given documents, in a database of its own on the
    same server, with the entity store's indexes."""

    def __init__(self, mongodb_uri: str, database: str, gate: WriteGate) -> None:
        self._client = MongoClient(mongodb_uri)
        self.db = self._client[database]
        self.gate = gate
        EntityStore(self.db, WriteGate()).ensure_indexes()
        ImportJournal(self.db, EntityStore(self.db, WriteGate()), WriteGate()).ensure_indexes()

    def close(self) -> None:
        self._client.drop_database(self.db.name)
        self._client.close()

    @staticmethod
    def fresh_copies(documents: list[dict]) -> tuple[str, dict[str, list[dict]]]:
        """The documents under new ids, marked with a new import id, by collection (made before timing:
        the product makes its documents before it writes them too). The ids are the product's own
        (time-ordered, `contracts.entity_ids`): where they go in the store's indexes is part of the cost."""
        import_id = new_entity_id()
        by_collection: dict[str, list[dict]] = {}
        for document in documents:
            by_collection.setdefault(collection_of(document), []).append(
                {**document, "_id": (entity_id := new_entity_id()), "id": entity_id, "importId": import_id,
                 PENDING_MARKER: import_id})
        return import_id, by_collection

    def write_import(self, import_id: str, by_collection: dict[str, list[dict]], outcome: list[dict]) -> None:
        """The writes of one atomic import before its answer, as the design needs them."""
        journal, gate, now_ms = self.db[JOURNAL_COLLECTION], self.gate, int(time.time() * 1000)
        record = pending_record(record=import_id, import_id=import_id,
                                owner={"host": "bench", "pid": 1, "started": "1"}, now_ms=now_ms,
                                lease_ms=60_000, entity_count={n: len(d) for n, d in by_collection.items()},
                                user_id="demo", key=None, digest=None)
        with gate.hold():
            journal.insert_one(record)
        for name, batch in by_collection.items():
            with gate.hold():
                self.db[name].insert_many(batch, ordered=False)
        with gate.hold():
            journal.update_one(commit_filter(import_id, import_id), commit_update(outcome, [], now_ms))

    def clear_markers(self, import_id: str, by_collection: dict[str, list[dict]]) -> None:
        """The markers of one committed import cleared (the product clears those of many at once)."""
        for name, batch in by_collection.items():  # found by id: the primary index, on every server
            with self.gate.hold():
                self.db[name].update_many({"_id": {"$in": [d["_id"] for d in batch]},
                                           PENDING_MARKER: import_id}, {"$unset": {PENDING_MARKER: ""}})

    def write_and_clear(self, import_id: str, by_collection: dict[str, list[dict]],
                        outcome: list[dict]) -> None:
        """Every write of one import, its markers' clearing included (for the store's ceiling)."""
        self.write_import(import_id, by_collection, outcome)
        self.clear_markers(import_id, by_collection)

    def write_samples(self, documents: list[dict], outcome: list[dict],
                      rounds: int) -> tuple[list[float], list]:
        """Seconds per atomic import of the documents, and the ids of the last one written."""
        times, written = [], []
        for _ in range(rounds + 1):
            import_id, by_collection = self.fresh_copies(documents)
            start = time.perf_counter()
            self.write_import(import_id, by_collection, outcome)
            times.append(time.perf_counter() - start)
            self.clear_markers(import_id, by_collection)
            written = [(name, [d["_id"] for d in batch]) for name, batch in by_collection.items()]
        return times[1:], written

    def remove(self, written: list[tuple[str, list[str]]]) -> None:
        """The documents `write_samples` says it wrote, removed again."""
        for name, ids in written:
            with self.gate.hold():
                self.db[name].delete_many({"_id": {"$in": ids}})

    def read_collection(self, collection_id: str) -> list[dict]:
        """Every document of a collection, as a collection export asks for them (by collectionId)."""
        query = {"collectionId": {"$in": [collection_id]}}
        return [document for name in ("reports", "dashboards") for document in self.db[name].find(query)]

    def read(self, written: list[tuple[str, list[str]]]) -> list[dict]:
        return [document for name, ids in written for document in self.db[name].find({"_id": {"$in": ids}})]
