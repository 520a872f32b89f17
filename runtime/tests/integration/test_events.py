"""Events over the real broker, as a consumer bound to the exchange sees them."""

import json
import subprocess
import time

import pika
import pytest
from marshmallow import ValidationError

from contracts.events import ENTITY_CREATED, ENTITY_IMPORTED, IMPORT_REJECTED, new_event
from optimize_runtime.messaging import EventPublisher, EventPublishFailed


class BoundConsumer:
    """A test queue bound to the events exchange, as another service would bind one."""

    def __init__(self, amqp_url: str, exchange: str, binding_key: str = "#"):
        self.connection = pika.BlockingConnection(pika.URLParameters(amqp_url))
        self.channel = self.connection.channel()
        # Declared with the publisher's arguments, so that binding before the first publish works.
        self.channel.exchange_declare(exchange, exchange_type="topic", durable=True)
        self.queue = self.channel.queue_declare("", exclusive=True).method.queue
        self.channel.queue_bind(self.queue, exchange, routing_key=binding_key)

    def received(self, count: int, timeout_s: float = 5.0) -> list[tuple[pika.BasicProperties, str, dict]]:
        messages = []
        deadline = time.monotonic() + timeout_s
        while len(messages) < count and time.monotonic() < deadline:
            method, properties, body = self.channel.basic_get(self.queue, auto_ack=True)
            if method is None:
                self.connection.sleep(0.05)
                continue
            messages.append((properties, method.routing_key, json.loads(body)))
        return messages


@pytest.fixture
def consumer(amqp_url, names):
    bound = BoundConsumer(amqp_url, names.events_exchange, binding_key="entity.*")
    yield bound
    bound.channel.exchange_delete(names.events_exchange)  # durable: it would outlive the test
    bound.connection.close()


@pytest.fixture
def publisher(amqp_url, names):
    events = EventPublisher(amqp_url, names.events_exchange, connection_name=f"{names.prefix}-events")
    yield events
    events.close()


def test_a_published_event_reaches_a_bound_consumer(publisher, consumer):
    event = new_event(
        ENTITY_IMPORTED, "demo", ["report-1", "dashboard-1"], collection_id="c1", request_id="r1"
    )
    publisher.publish(event)

    [(properties, routing_key, body)] = consumer.received(1)
    assert body == event
    assert routing_key == ENTITY_IMPORTED
    assert properties.delivery_mode == pika.DeliveryMode.Persistent.value
    assert properties.message_id == event["eventId"]


def test_events_are_routed_by_their_type(publisher, consumer):
    publisher.publish(new_event(IMPORT_REJECTED, "demo", ["report-1"]))  # not bound: "entity.*" only
    created = new_event(ENTITY_CREATED, "demo", ["report-2"])
    publisher.publish(created)

    assert [body["eventId"] for _, _, body in consumer.received(2, timeout_s=1.0)] == [created["eventId"]]


def test_an_invalid_event_is_refused_before_it_is_sent(publisher, consumer):
    event = new_event(ENTITY_CREATED, "demo", ["report-1"])
    with pytest.raises(ValidationError):
        publisher.publish({**event, "entityIds": "report-1"})
    assert consumer.received(1, timeout_s=0.3) == []


def test_an_unreachable_broker_fails_the_publish(names):
    events = EventPublisher("amqp://guest:guest@127.0.0.1:1/%2F", names.events_exchange)
    with pytest.raises(EventPublishFailed):
        events.publish(new_event(ENTITY_CREATED, "demo", ["report-1"]))


def test_after_the_broker_closed_the_connection_the_next_publish_succeeds(publisher, consumer, names):
    publisher.publish(new_event(ENTITY_CREATED, "demo", ["report-1"]))
    listed = subprocess.run(
        ["rabbitmqctl", "list_connections", "pid", "client_properties", "--quiet", "--no-table-headers"],
        capture_output=True,
        text=True,
        check=True,
        timeout=30,
    )
    marker = f'{{"connection_name","{names.prefix}-events"}}'
    [connection] = [line.split("\t")[0] for line in listed.stdout.splitlines() if marker in line]
    subprocess.run(
        ["rabbitmqctl", "close_connection", connection, "test"], capture_output=True, check=True, timeout=30
    )
    time.sleep(0.2)  # let the close frame reach the publisher

    again = new_event(ENTITY_CREATED, "demo", ["report-2"])
    publisher.publish(again)
    assert [body["entityIds"] for _, _, body in consumer.received(2)] == [["report-1"], ["report-2"]]


def test_publish_or_log_logs_an_event_it_cannot_publish_and_never_raises(amqp_url, names, consumer, caplog):
    """The one helper for events about a change already made: a broken event or an unreachable broker is a
    log line naming the event, not an error for the caller (who would otherwise make the change twice)."""
    unreachable = EventPublisher("amqp://guest:guest@127.0.0.1:1/%2F", exchange=names.events_exchange)
    lost = new_event(ENTITY_CREATED, "demo", ["r1"])
    unreachable.publish_or_log(lost)
    broken = {**new_event(ENTITY_CREATED, "demo", ["r2"]), "entityIds": "not a list"}
    publisher = EventPublisher(amqp_url, exchange=names.events_exchange)
    try:
        publisher.publish_or_log(broken)
        delivered = new_event(ENTITY_CREATED, "demo", ["r3"])
        publisher.publish_or_log(delivered)
        assert [body["eventId"] for _, _, body in consumer.received(1)] == [delivered["eventId"]]
    finally:
        publisher.close()
    logged = [record.getMessage() for record in caplog.records
              if record.name == "optimize_runtime.messaging.event_publisher" and record.levelname == "ERROR"]
    assert [lost["eventId"] in line for line in logged] == [True, False]
    assert [broken["eventId"] in line for line in logged] == [False, True]
