"""The transactional outbox and its relay, against the real broker and store: what a consumer bound to the
events exchange receives, and what the relay's metrics say."""

import json
import subprocess
import threading
import time

import pika
import pytest
from prometheus_client import REGISTRY
from pymongo import MongoClient

from contracts.events import ENTITY_CREATED, ENTITY_DELETED, new_event
from optimize_runtime.messaging import EventPublisher, EventPublishFailed
from optimize_runtime.messaging.outbox import Outbox, OutboxRelay
from optimize_runtime.store.write_gate import write_gate_for
from optimize_testing.store_commands import StoreCommands, reads_whole_collection


class BoundQueue:
    """A queue bound to the events exchange, as another service binds one."""

    def __init__(self, amqp_url: str, exchange: str):
        self.connection = pika.BlockingConnection(pika.URLParameters(amqp_url))
        self.channel = self.connection.channel()
        self.channel.exchange_declare(exchange, exchange_type="topic", durable=True)
        self.queue = self.channel.queue_declare("", exclusive=True).method.queue
        self.channel.queue_bind(self.queue, exchange, routing_key="#")

    def drain(self, count: int, timeout_s: float = 10.0) -> list[dict]:
        received: list[dict] = []
        deadline = time.monotonic() + timeout_s
        while len(received) < count and time.monotonic() < deadline:
            method, _, body = self.channel.basic_get(self.queue, auto_ack=True)
            if method is None:
                self.connection.sleep(0.05)
                continue
            received.append(json.loads(body))
        return received


@pytest.fixture
def store(mongodb_uri, servers, names):
    client = MongoClient(mongodb_uri, tz_aware=True)
    db = client[names.entities_db]
    gate = write_gate_for(servers.mongodb_embedded, servers.data_dir, mongodb_uri)
    outbox = Outbox(db, gate)
    outbox.ensure_indexes()
    yield db, gate, outbox
    client.drop_database(names.entities_db)
    client.close()


@pytest.fixture
def bound(amqp_url, names):
    queue = BoundQueue(amqp_url, names.events_exchange)
    yield queue
    queue.channel.exchange_delete(names.events_exchange)
    queue.connection.close()


@pytest.fixture
def publisher(amqp_url, names):
    events = EventPublisher(amqp_url, names.events_exchange, connection_name=f"{names.prefix}-relay",
                            transactional=True)  # as `<service> relay` makes it
    yield events
    events.close()


def backlog_metric(name: str) -> tuple[float | None, float | None]:
    return (REGISTRY.get_sample_value("optimize_outbox_backlog", {"outbox": name}),
            REGISTRY.get_sample_value("optimize_outbox_oldest_unsent_age_seconds", {"outbox": name}))


def writes(count: int, per_write: int = 2) -> list[list[dict]]:
    """Events of `count` writes, each about one entity: created, then deleted."""
    kinds = (ENTITY_CREATED, ENTITY_DELETED)[:per_write]
    return [[new_event(kind, "demo", [f"report-{n}"]) for kind in kinds] for n in range(count)]


def test_the_relay_publishes_every_recorded_event_once_in_recording_order_and_marks_it_sent(
        store, bound, publisher, names):
    db, gate, outbox = store
    recorded = writes(5)
    for events in recorded:
        outbox.record(events)
    relay = OutboxRelay(db, gate, publisher, names.prefix, batch_size=4)

    assert relay.backlog().unsent == 10
    published = sum(iter(relay.relay_once, 0))

    assert published == 10
    expected = [event for events in recorded for event in events]
    assert bound.drain(10) == expected, "every event as recorded, created before deleted for each entity"
    assert bound.drain(1, timeout_s=0.3) == [], "and each once"
    assert db.outbox.count_documents({"sent": True}) == 10
    assert relay.backlog().unsent == 0
    assert backlog_metric(names.prefix) == (0, 0)


def test_events_recorded_while_the_broker_is_unreachable_wait_and_are_counted_then_all_go_out(
        store, bound, publisher, names):
    db, gate, outbox = store
    for events in writes(3):
        outbox.record(events)
    unreachable = EventPublisher("amqp://guest:guest@127.0.0.1:1/%2F", names.events_exchange)
    stuck = OutboxRelay(db, gate, unreachable, names.prefix)

    with pytest.raises(EventPublishFailed):
        stuck.relay_once()
    unsent, oldest_age = backlog_metric(names.prefix)
    assert unsent == 6 and oldest_age > 0
    assert db.outbox.count_documents({"sent": False}) == 6

    OutboxRelay(db, gate, publisher, names.prefix).relay_once()
    assert len(bound.drain(6)) == 6
    assert backlog_metric(names.prefix) == (0, 0)


def test_with_the_relays_connection_closed_by_the_broker_during_writes_every_event_arrives(
        store, bound, publisher, names):
    db, gate, outbox = store
    relay = OutboxRelay(db, gate, publisher, names.prefix, poll_interval_s=0.05)
    running = threading.Thread(target=relay.run, daemon=True)
    running.start()
    recorded = writes(40, per_write=1)
    try:
        for n, events in enumerate(recorded):
            outbox.record(events)
            if n == 20:
                _close_broker_connection(f"{names.prefix}-relay")
        received = bound.drain(40, timeout_s=30)
    finally:
        relay.stop()
        running.join(timeout=10)
    assert {event["eventId"] for event in received} >= {events[0]["eventId"] for events in recorded}
    assert relay.backlog().unsent == 0
    assert backlog_metric(names.prefix)[0] == 0


def test_one_relay_publishes_at_a_time(store, publisher, names):
    db, gate, _ = store
    first = OutboxRelay(db, gate, publisher, names.prefix, lease_s=30)
    second = OutboxRelay(db, gate, publisher, names.prefix, lease_s=30)

    assert first.hold_lease() is True
    assert second.hold_lease() is False
    assert first.hold_lease() is True, "renewed by its holder"
    first.release_lease()
    assert second.hold_lease() is True


def test_a_relay_round_costs_the_same_commands_for_1_and_100_events_and_reads_only_unsent_ones_by_index(
        store, bound, publisher, mongodb_uri, names):
    db, gate, outbox = store
    for events in writes(300, per_write=1):  # sent long ago: what a whole-collection read would go through
        outbox.record(events)
    OutboxRelay(db, gate, publisher, names.prefix, batch_size=500).relay_once()
    bound.drain(300)
    commands = StoreCommands()
    counted = MongoClient(mongodb_uri, event_listeners=[commands])
    try:
        relay = OutboxRelay(counted[names.entities_db], gate, publisher, names.prefix)
        sent = {}
        for count in (1, 100):
            for events in writes(count, per_write=1):
                outbox.record(events)
            commands.clear()
            assert relay.relay_once() == count
            sent[count] = list(commands.sent)
            assert len(bound.drain(count)) == count
        assert [c["name"] for c in sent[1]] == [c["name"] for c in sent[100]] == ["find", "update"]
        assert not any(reads_whole_collection(db, c["command"]) for c in sent[100] if c["name"] == "find")
    finally:
        counted.close()


def test_a_batch_the_broker_does_not_take_stays_unsent_whole_and_goes_out_again_in_order(
        store, bound, publisher, names, monkeypatch):
    db, gate, outbox = store
    recorded = writes(3)
    for events in recorded:
        outbox.record(events)
    relay = OutboxRelay(db, gate, publisher, names.prefix)
    channel_commit = []

    def broken_commit(self):
        channel_commit.append(1)
        raise pika.exceptions.ChannelClosedByBroker(541, "internal error")

    monkeypatch.setattr(pika.adapters.blocking_connection.BlockingChannel, "tx_commit", broken_commit)
    with pytest.raises(EventPublishFailed):
        relay.relay_once()
    monkeypatch.undo()
    assert len(channel_commit) == 2, "tried again once on a fresh connection"
    assert bound.drain(1, timeout_s=0.5) == [], "nothing of an uncommitted batch is delivered"
    assert relay.backlog().unsent == 6

    assert relay.relay_once() == 6
    assert bound.drain(6) == [event for events in recorded for event in events]


def test_an_event_that_breaks_the_contract_is_never_recorded(store):
    db, _, outbox = store
    with pytest.raises(Exception, match="entityIds"):
        outbox.record([{**new_event(ENTITY_CREATED, "demo", ["r"]), "entityIds": "r"}])
    assert db.outbox.count_documents({}) == 0


def _close_broker_connection(connection_name: str) -> None:
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        listed = subprocess.run(["rabbitmqctl", "list_connections", "pid", "client_properties", "--quiet",
                                 "--no-table-headers"], capture_output=True, text=True, check=True,
                                timeout=30)
        marker = f'{{"connection_name","{connection_name}"}}'
        found = [line.split("\t")[0] for line in listed.stdout.splitlines() if marker in line]
        if found:
            for connection in found:
                subprocess.run(["rabbitmqctl", "close_connection", connection, "test"], capture_output=True,
                               check=True, timeout=30)
            return
        time.sleep(0.1)
    raise AssertionError(f"no broker connection named {connection_name}")
