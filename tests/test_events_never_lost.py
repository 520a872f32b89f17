"""Events are never lost: an import records `entity.imported` in its commit record, and import-svc's relay
publishes it whenever the broker takes it. A consumer bound to the events exchange receives every one,
with the relay stopped during the imports or with its broker connection closed under it."""

import json
import subprocess
import time

import pika
import pytest
from prometheus_client import REGISTRY

from contracts.events import ENTITY_IMPORTED
from optimize_testing.factories import ok, process_report

IMPORTS = 8


@pytest.fixture
def importing(installation):
    headers = installation.headers()
    installation.seed_invoice()

    def import_one(n: int) -> list[dict]:
        return ok(installation.imports.post("/api/import", json=[process_report(f"r{n}")], headers=headers))

    return import_one


@pytest.fixture
def consumer(installation, amqp_url):
    """Another service's durable queue bound to entity.imported (deleted afterwards: the broker is shared)."""
    connection = pika.BlockingConnection(pika.URLParameters(amqp_url))
    channel = connection.channel()
    exchange, queue = installation.names.events_exchange, f"{installation.names.prefix}.reporting"
    channel.exchange_declare(exchange, exchange_type="topic", durable=True)
    channel.queue_declare(queue, durable=True)
    channel.queue_bind(queue, exchange, ENTITY_IMPORTED)

    def received(count: int, timeout_s: float) -> list[dict]:
        events, deadline = [], time.monotonic() + timeout_s
        while len(events) < count and time.monotonic() < deadline:
            method, _, body = channel.basic_get(queue, auto_ack=True)
            if method is None:
                connection.sleep(0.05)
            else:
                events.append(json.loads(body))
        return events

    yield received
    channel.queue_delete(queue)
    channel.exchange_delete(exchange)
    connection.close()
    installation.stop_event_flow()


def recorded_event_ids(installation) -> set[str]:
    journal = installation.app("import").extensions["import"].db.import_journal
    return {event["eventId"] for record in journal.find({"state": "committed"}) for event in record["events"]}


def backlog(outbox: str = "import-svc") -> float | None:
    return REGISTRY.get_sample_value("optimize_outbox_backlog", {"outbox": outbox})


def test_with_the_relay_stopped_during_imports_every_entity_imported_arrives_once_it_runs(
        installation, importing, consumer):
    imported = [importing(n) for n in range(IMPORTS)]
    assert consumer(1, timeout_s=0.5) == [], "no relay running: nothing is published yet"

    installation.start_event_flow(consumer=False)
    events = consumer(IMPORTS, timeout_s=30)

    assert {event["eventId"] for event in events} == recorded_event_ids(installation)
    assert len(events) == IMPORTS
    expected = [[item["id"] for item in outcome] for outcome in imported]
    assert [event["entityIds"] for event in events] == expected, "in the order of the imports"
    deadline = time.monotonic() + 10
    while backlog() != 0 and time.monotonic() < deadline:
        time.sleep(0.1)
    assert backlog() == 0
    relay = installation.relays["import-svc"]
    assert relay.backlog().unsent == 0


def test_with_the_relays_broker_connection_closed_during_imports_every_entity_imported_arrives(
        installation, importing, consumer):
    installation.start_event_flow(consumer=False)
    for n in range(IMPORTS):
        importing(n)
        if n == IMPORTS // 2:
            close_broker_connections(f"{installation.names.prefix}-import-svc-relay")
    events = consumer(IMPORTS, timeout_s=30)

    assert {event["eventId"] for event in events} == recorded_event_ids(installation)
    assert len(recorded_event_ids(installation)) == IMPORTS


def close_broker_connections(connection_name: str) -> None:
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        listed = subprocess.run(["rabbitmqctl", "list_connections", "pid", "client_properties", "--quiet",
                                 "--no-table-headers"], capture_output=True, text=True, check=True,
                                timeout=30)
        marker = f'{{"connection_name","{connection_name}"}}'
        found = [line.split("\t")[0] for line in listed.stdout.splitlines() if marker in line]
        for connection in found:
            subprocess.run(["rabbitmqctl", "close_connection", connection, "test"], capture_output=True,
                           check=True, timeout=30)
        if found:
            return
        time.sleep(0.1)
    raise AssertionError(f"no broker connection named {connection_name}")
