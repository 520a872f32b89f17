"""The transactional outbox: an event is a document written with the change it describes (in the same
transaction, or in the single-document commit record of that change), and a relay publishes what is
unsent to the events exchange, a batch at a time in one AMQP transaction (or with publisher confirms),
then marks the batch sent.

Delivery is at least once: a relay that dies between the broker's commit and the mark publishes the
events again, with the same `eventId`, so consumers de-duplicate by it. Order is kept: the relay publishes
in the order the events were recorded, and a batch the broker does not take is published again whole, in
the same order, before anything after it, so a later event about an entity never overtakes an earlier
one. One relay publishes at a time (a lease in the same database), however many run.

What a relay round costs does not grow with the outbox: an unsent event carries `unsentNs` (its
recording time, removed once it is sent or set aside), and the relay asks only for that field, through an
index holding only unsent events (sparse), in one query per round; each batch is marked in one update.
An integer range is also what the embedded server (nx-27017) answers from an index: an equality on a
boolean such as `sent: false` makes it read the whole collection."""

import logging
import os
import socket
import threading
import time
import uuid
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from marshmallow import ValidationError
from pymongo import ASCENDING, UpdateOne
from pymongo.client_session import ClientSession
from pymongo.database import Database
from pymongo.errors import BulkWriteError, DuplicateKeyError, PyMongoError

from contracts.events import event_problems
from optimize_runtime.messaging.errors import EventPublishFailed
from optimize_runtime.messaging.event_publisher import EventPublisher
from optimize_runtime.observability.metrics import record_outbox_backlog, record_outbox_published
from optimize_runtime.store.write_gate import WriteGate

log = logging.getLogger(__name__)

OUTBOX_COLLECTION = "outbox"
LEASE_COLLECTION = "outbox_lease"
# Sent events are kept this long (for looking into what was published), then removed.
SENT_RETENTION_S = 24 * 3600
UNSENT = "unsentNs"
# Recording order (the time of the write, then the event's place in it), as the unsent index holds it.
UNSENT_ORDER = [(UNSENT, ASCENDING), ("position", ASCENDING)]
# Indexes of earlier versions, replaced by the ones above (they asked for `sent`).
_FORMER_INDEXES = ("unsent",)


def outbox_documents(events: Iterable[dict[str, Any]], now_ns: int | None = None) -> list[dict[str, Any]]:
    """The outbox documents of `events`, in their order: what a writer stores with its change.
    Raises marshmallow's ValidationError for an event that breaks the contract (never recorded)."""
    now_ns = time.time_ns() if now_ns is None else now_ns
    documents = []
    for position, event in enumerate(events):
        errors = event_problems(event)
        if errors:
            raise ValidationError(errors)
        documents.append({"_id": event["eventId"], "event": event, "sent": False, UNSENT: now_ns,
                          # Recording order: the time of the write, then the event's place in it.
                          "recordedNs": now_ns, "position": position, "recordedAt": now_ns / 1e9})
    return documents


class Outbox:
    """The writing side: records events in the outbox collection of a service's own database."""

    def __init__(self, db: Database, gate: WriteGate, collection: str = OUTBOX_COLLECTION) -> None:
        self._documents = db[collection]
        self._gate = gate

    def ensure_indexes(self) -> None:
        """The relay's indexes; events an earlier version recorded unsent get `unsentNs` (once)."""
        with self._gate.hold():
            existing = self._documents.index_information()
            for name in _FORMER_INDEXES:
                if name in existing:
                    self._documents.drop_index(name)
            self._documents.create_index(UNSENT_ORDER, name="unsent_events", sparse=True)
            self._documents.create_index([("sentAt", ASCENDING)], name="sent_at", sparse=True)
            earlier = [UpdateOne({"_id": document["_id"]}, {"$set": {UNSENT: document["recordedNs"]}})
                       for document in self._documents.find({"sent": False, UNSENT: {"$exists": False}},
                                                            {"recordedNs": 1})]
            if earlier:
                self._documents.bulk_write(earlier, ordered=False)

    def record(self, events: Iterable[dict[str, Any]], session: ClientSession | None = None) -> None:
        """Inside the caller's transaction when `session` is given (the caller holds the gate then)."""
        documents = outbox_documents(events)
        if not documents:
            return
        if session is not None:
            self._documents.insert_many(documents, session=session)
            return
        with self._gate.hold():
            self._documents.insert_many(documents)

    def copy(self, recorded: Iterable[tuple[Iterable[dict[str, Any]], int]]) -> None:
        """Records events that other single-document writes recorded first (imports' commit records),
        given as (events, time of that write) pairs, in one insert; copying the same events again changes
        nothing (their ids are the keys)."""
        documents = []
        for events, recorded_ns in recorded:
            valid = []
            for event in events:
                errors = event_problems(event)
                if errors:  # never blocks the others: left where it was recorded, and said
                    log.error("outbox: event %s breaks the contract and is not copied: %s",
                              event.get("eventId"), errors)
                else:
                    valid.append(event)
            documents += outbox_documents(valid, now_ns=recorded_ns)
        if not documents:
            return
        try:
            with self._gate.hold():
                self._documents.insert_many(documents, ordered=False)
        except BulkWriteError as error:
            if any(failure.get("code") != 11000 for failure in error.details.get("writeErrors", [])):
                raise

    def record_or_log(self, event: dict[str, Any]) -> None:
        """Records an event that describes no write of its own (an import refused): a store that fails
        loses it, and says so in the log, but never fails the request."""
        try:
            self.record([event])
        except PyMongoError:
            log.exception("event %s (%s) could not be recorded", event.get("eventId"), event.get("type"))


@dataclass
class Backlog:
    unsent: int
    oldest_age_s: float


class OutboxRelay:
    """Publishes a service's unsent events in recording order; run() until stop()."""

    def __init__(self, db: Database, gate: WriteGate, publisher: EventPublisher, name: str, *,
                 batch_size: int = 200, poll_interval_s: float = 0.5, lease_s: float = 15.0,
                 collection: str = OUTBOX_COLLECTION, feeders: Sequence[Callable[[], object]] = ()) -> None:
        """`feeders` copy into the outbox what other writes recorded first (an import's commit record);
        each round runs them before it reads the outbox. A `publisher` made `transactional` publishes a
        batch with one broker round trip."""
        self.name = name
        self._feeders = list(feeders)
        self._documents = db[collection]
        self._leases = db[LEASE_COLLECTION]
        self._gate = gate
        self._publisher = publisher
        self._batch_size = batch_size
        self._poll_interval_s = poll_interval_s
        self._lease_s = lease_s
        self._holder = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
        self._stopping = threading.Event()
        self._last_purge = 0.0
        self._lease_until = 0.0  # as this relay took or renewed it last

    def backlog(self) -> Backlog:
        """How many events are unsent, and how long the oldest has waited."""
        unsent = {UNSENT: {"$gte": 0}}
        count = self._documents.count_documents(unsent)
        oldest = next(iter(self._documents.find(unsent, {"recordedAt": 1}).sort(UNSENT_ORDER).limit(1)), None)
        age = max(0.0, time.time() - oldest["recordedAt"]) if oldest else 0.0
        return Backlog(count, age)

    def relay_once(self) -> int:
        """Publishes up to one batch of unsent events in order; how many were published. Raises
        EventPublishFailed when the broker did not take the batch (none of it is marked sent)."""
        # Events recorded up to now, once every feeder copied what was committed before now: an event
        # copied late (recorded as of its commit) never comes after a later event about the same entity.
        watermark = time.time_ns()
        for feed in self._feeders:
            feed()
        batch = list(self._documents.find({UNSENT: {"$lte": watermark}}, {"event": 1})
                     .sort(UNSENT_ORDER).limit(self._batch_size))
        events, published, refused = [], [], []
        for document in batch:
            errors = event_problems(document["event"])
            if errors:
                # Checked when recorded, so only a contract changed since can get here: set aside, never
                # retried, never blocking the events after it.
                log.error("outbox %s: event %s breaks the contract and is set aside: %s",
                          self.name, document["_id"], errors)
                refused.append(document["_id"])
            else:
                events.append(document["event"])
        try:
            self._publisher.publish_batch(events)
            published = [event["eventId"] for event in events]
        finally:
            self._mark(published, {"sent": True, "sentAt": time.time()})
            self._mark(refused, {"sent": None, "refusedAt": time.time()})
            record_outbox_published(self.name, len(published))
            self._record_backlog(batch, len(published) + len(refused))
        return len(published)

    def _mark(self, ids: list[str], fields: dict) -> None:
        if ids:
            with self._gate.hold():
                self._documents.update_many({"_id": {"$in": ids}}, {"$set": fields, "$unset": {UNSENT: ""}})

    def _record_backlog(self, batch: list[dict], done: int) -> None:
        if not batch or (done == len(batch) < self._batch_size):
            # Everything unsent was in this batch and is done: no need to ask the store again.
            record_outbox_backlog(self.name, 0, 0.0)
            return
        backlog = self.backlog()
        record_outbox_backlog(self.name, backlog.unsent, backlog.oldest_age_s)

    def hold_lease(self) -> bool:
        """Takes or renews the lease; whether this relay may publish now. A lease taken or renewed less
        than a third of its time ago is held without asking the store (no write every round)."""
        now = time.time()
        if now < self._lease_until - 2 * self._lease_s / 3:
            return True
        lease = {"holder": self._holder, "expires": now + self._lease_s}
        with self._gate.hold():
            taken = self._leases.find_one_and_update(
                {"_id": self.name, "$or": [{"holder": self._holder}, {"expires": {"$lt": now}}]},
                {"$set": lease})
            if taken is None:
                try:
                    self._leases.insert_one({"_id": self.name, **lease})
                except DuplicateKeyError:
                    self._lease_until = 0.0
                    return False
        self._lease_until = now + self._lease_s
        return True

    def release_lease(self) -> None:
        self._lease_until = 0.0
        with self._gate.hold():
            self._leases.delete_one({"_id": self.name, "holder": self._holder})

    def purge_sent(self, older_than_s: float = SENT_RETENTION_S) -> int:
        with self._gate.hold():
            return self._documents.delete_many({"sentAt": {"$lt": time.time() - older_than_s}}).deleted_count

    def run(self) -> None:
        """Relays until stop(); a broker or store that fails is tried again after a growing pause."""
        log.info("outbox relay %s started (%s)", self.name, self._holder)
        failures = 0
        while not self._stopping.is_set():
            try:
                if not self.hold_lease():
                    self._stopping.wait(self._lease_s / 3)
                    continue
                published = self.relay_once()
                failures = 0
                if time.monotonic() - self._last_purge > 60:
                    self._last_purge = time.monotonic()
                    self.purge_sent()
                if published < self._batch_size:
                    self._stopping.wait(self._poll_interval_s)
            except (EventPublishFailed, PyMongoError) as error:
                failures += 1
                pause = min(0.5 * 2 ** (failures - 1), 10.0)
                log.warning("outbox %s: %s; trying again in %.1f s", self.name, error, pause)
                self._stopping.wait(pause)
        try:
            self.release_lease()
        except PyMongoError:
            log.info("outbox %s: the lease could not be released; it expires by itself", self.name)
        log.info("outbox relay %s stopped", self.name)

    def stop(self) -> None:
        self._stopping.set()
