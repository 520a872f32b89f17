"""A consumer of events on a durable queue of its own, against the real broker: a failing handler is tried
again, and what keeps failing is parked in the dead-letter queue, never lost."""

import json
import threading
import time

import pika
import pytest

from contracts.events import COLLECTION_DELETED, ENTITY_CREATED, new_event
from optimize_runtime.messaging import EventPublisher
from optimize_runtime.messaging.event_consumer import (
    ATTEMPT_HEADER,
    ERROR_HEADER,
    EventConsumer,
    dead_letter_queue,
    retry_queue,
)


class Handler:
    def __init__(self, failures: int = 0):
        self.failures = failures
        self.calls: list[dict] = []
        self.handled: list[dict] = []

    def __call__(self, event: dict) -> None:
        self.calls.append(event)
        if len(self.calls) <= self.failures:
            raise RuntimeError(f"store down (call {len(self.calls)})")
        self.handled.append(event)


@pytest.fixture
def consuming(amqp_url, names):
    """Starts a consumer with a given handler; stops it and removes its queues afterwards."""
    started: list[tuple[EventConsumer, threading.Thread]] = []
    queue = f"{names.prefix}.consumer"

    def start(handler: Handler, max_attempts: int = 3) -> EventConsumer:
        consumer = EventConsumer(amqp_url, names.events_exchange, queue, [COLLECTION_DELETED], handler,
                                 max_attempts=max_attempts, retry_delay_s=0.1)
        thread = threading.Thread(target=consumer.serve_forever, daemon=True)
        thread.start()
        assert consumer.wait_until_serving(15)
        started.append((consumer, thread))
        return consumer

    yield start
    for consumer, thread in started:
        consumer.stop()
        thread.join(timeout=10)
    connection = pika.BlockingConnection(pika.URLParameters(amqp_url))
    channel = connection.channel()
    for name in (queue, retry_queue(queue), dead_letter_queue(queue)):
        channel.queue_delete(name)
    channel.exchange_delete(names.events_exchange)
    connection.close()


@pytest.fixture
def publisher(amqp_url, names):
    events = EventPublisher(amqp_url, names.events_exchange)
    yield events
    events.close()


def wait_for(condition, timeout_s: float = 15.0) -> bool:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.05)
    return condition()


def parked(amqp_url: str, queue: str) -> list[tuple[dict, dict]]:
    connection = pika.BlockingConnection(pika.URLParameters(amqp_url))
    try:
        channel = connection.channel()
        messages = []
        while True:
            method, properties, body = channel.basic_get(dead_letter_queue(queue), auto_ack=True)
            if method is None:
                return messages
            messages.append((properties.headers or {}, json.loads(body)))
    finally:
        connection.close()


def test_an_event_whose_handler_fails_twice_is_handled_on_the_third_attempt(consuming, publisher):
    handler = Handler(failures=2)
    consuming(handler)
    event = new_event(COLLECTION_DELETED, "demo", [], collection_id="c1")
    publisher.publish(event)

    assert wait_for(lambda: handler.handled == [event])
    assert len(handler.calls) == 3
    time.sleep(0.3)
    assert len(handler.calls) == 3, "handled, so never delivered again"


def test_an_event_that_keeps_failing_is_parked_in_the_dead_letter_queue_with_its_error(
        consuming, publisher, amqp_url, names):
    handler = Handler(failures=100)
    consumer = consuming(handler, max_attempts=3)
    event = new_event(COLLECTION_DELETED, "demo", [], collection_id="c1")
    publisher.publish(event)

    assert wait_for(lambda: len(handler.calls) == 3)
    messages = []
    assert wait_for(lambda: messages.extend(parked(amqp_url, consumer.queue)) or len(messages) == 1)
    [(headers, body)] = messages
    assert body == event
    assert headers[ATTEMPT_HEADER] == 3
    assert "store down (call 3)" in headers[ERROR_HEADER]
    assert handler.handled == []


def test_a_message_that_is_no_event_of_the_contract_is_parked_without_calling_the_handler(
        consuming, amqp_url, names):
    handler = Handler()
    consumer = consuming(handler)
    connection = pika.BlockingConnection(pika.URLParameters(amqp_url))
    connection.channel().basic_publish(names.events_exchange, COLLECTION_DELETED,
                                       b'{"type": "collection.deleted"}')
    connection.close()

    messages = []
    assert wait_for(lambda: messages.extend(parked(amqp_url, consumer.queue)) or len(messages) == 1)
    [(headers, _)] = messages
    assert "not an event of the contract" in headers[ERROR_HEADER]
    assert handler.calls == []


def test_only_the_bound_event_types_reach_the_handler(consuming, publisher):
    handler = Handler()
    consuming(handler)
    publisher.publish(new_event(ENTITY_CREATED, "demo", ["r1"]))
    deleted = new_event(COLLECTION_DELETED, "demo", [], collection_id="c1")
    publisher.publish(deleted)

    assert wait_for(lambda: handler.handled == [deleted])
