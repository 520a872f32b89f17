"""Consuming events from the events exchange on a durable queue of one's own.

A handler that fails is tried again after a delay (the message waits in `<queue>.retry`, whose TTL
dead-letters it back to `<queue>`), up to `max_attempts`; then it is parked in `<queue>.dead` with the
error, for an operator. Delivery is at least once, so handlers must be idempotent (events carry a
stable `eventId`). One consumer is one connection, run by one thread."""

import json
import logging
import threading
from collections.abc import Callable, Iterable
from typing import Any

import pika
from marshmallow import ValidationError
from pika.adapters.blocking_connection import BlockingChannel
from pika.spec import Basic

from contracts.events import event_problems
from optimize_runtime.messaging.connection import (
    CONNECTION_BROKEN_ERRORS,
    connection_parameters,
    consume_until_stopped,
)
from optimize_runtime.observability.context import bound_request
from optimize_runtime.observability.metrics import record_event_consumed

log = logging.getLogger(__name__)

ATTEMPT_HEADER = "x-optimize-attempt"
ERROR_HEADER = "x-optimize-error"

EventHandler = Callable[[dict[str, Any]], None]


def retry_queue(queue: str) -> str:
    return f"{queue}.retry"


def dead_letter_queue(queue: str) -> str:
    return f"{queue}.dead"


def declare_consumer_queues(channel: BlockingChannel, exchange: str, queue: str, routing_keys: Iterable[str],
                            retry_delay_s: float) -> None:
    """The exchange, the durable queue bound to `routing_keys`, its retry queue and its dead-letter queue."""
    channel.exchange_declare(exchange, exchange_type="topic", durable=True)
    channel.queue_declare(queue, durable=True)
    for routing_key in routing_keys:
        channel.queue_bind(queue, exchange, routing_key=routing_key)
    channel.queue_declare(retry_queue(queue), durable=True, arguments={
        "x-message-ttl": int(retry_delay_s * 1000),
        "x-dead-letter-exchange": "", "x-dead-letter-routing-key": queue})
    channel.queue_declare(dead_letter_queue(queue), durable=True)


class EventConsumer:
    def __init__(self, amqp_url: str, exchange: str, queue: str, routing_keys: Iterable[str],
                 handler: EventHandler, *, max_attempts: int = 5, retry_delay_s: float = 2.0) -> None:
        self.exchange = exchange
        self.queue = queue
        self.routing_keys = tuple(routing_keys)
        self.handler = handler
        self.max_attempts = max_attempts
        self.retry_delay_s = retry_delay_s
        self._parameters = connection_parameters(amqp_url, connection_name=f"event-consumer {queue}")
        self._connection: pika.BlockingConnection | None = None
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._serving = threading.Event()

    def serve_forever(self) -> None:
        """Consume until stop(); reconnects after the broker went away."""
        consume_until_stopped(self._consume, self._stopping, self._after_attempt,
                              f"consumer of {self.queue!r}")

    def _after_attempt(self) -> None:
        self._serving.clear()
        self._close_connection()

    def _consume(self) -> None:
        connection = pika.BlockingConnection(self._parameters)
        with self._lock:
            self._connection = connection
        channel = connection.channel()
        channel.confirm_delivery()  # a retried or parked message is acked only once the broker has it
        declare_consumer_queues(channel, self.exchange, self.queue, self.routing_keys, self.retry_delay_s)
        channel.basic_qos(prefetch_count=1)
        channel.basic_consume(self.queue, self._on_message, auto_ack=False)
        self._serving.set()
        log.info("consuming %s from %r on %r", ", ".join(self.routing_keys), self.exchange, self.queue)
        while not self._stopping.is_set():
            connection.process_data_events(time_limit=0.5)

    def stop(self) -> None:
        """From any thread or a signal handler: the message in hand is finished first."""
        self._stopping.set()

    def wait_until_serving(self, timeout_s: float | None = None) -> bool:
        return self._serving.wait(timeout_s)

    def _close_connection(self) -> None:
        with self._lock:
            connection, self._connection = self._connection, None
        if connection is not None and connection.is_open:
            try:
                connection.close()
            except CONNECTION_BROKEN_ERRORS:
                pass

    def _on_message(self, channel: BlockingChannel, deliver: Basic.Deliver, properties: pika.BasicProperties,
                    body: bytes) -> None:
        attempt = int((properties.headers or {}).get(ATTEMPT_HEADER, 1))
        try:
            event = json.loads(body)
            errors = event_problems(event)
            if errors:
                raise ValidationError(errors)
        except (ValueError, ValidationError) as error:
            self._park(channel, properties, body, f"not an event of the contract: {error}")
        else:
            with bound_request(event.get("requestId")):
                self._handle(channel, properties, body, event, attempt)
        channel.basic_ack(deliver.delivery_tag)

    def _handle(self, channel: BlockingChannel, properties: pika.BasicProperties, body: bytes,
                event: dict, attempt: int) -> None:
        try:
            self.handler(event)
            record_event_consumed(self.queue, "done")
        except Exception as error:  # noqa: BLE001 - any failure is retried, then parked; never lost
            if attempt < self.max_attempts:
                log.warning("event %s (%s) failed on attempt %d of %d, tried again in %.1f s: %r",
                            event["eventId"], event["type"], attempt, self.max_attempts, self.retry_delay_s,
                            error)
                self._republish(channel, retry_queue(self.queue), properties, body, attempt + 1)
                record_event_consumed(self.queue, "retried")
            else:
                log.error("event %s (%s) failed %d times and is parked in %s",
                          event["eventId"], event["type"], attempt, dead_letter_queue(self.queue),
                          exc_info=True)
                self._park(channel, properties, body, repr(error), attempt)

    def _park(self, channel: BlockingChannel, properties: pika.BasicProperties, body: bytes, reason: str,
              attempt: int = 1) -> None:
        if attempt == 1:
            log.error("message %s parked in %s: %s", properties.message_id, dead_letter_queue(self.queue),
                      reason)
        self._republish(channel, dead_letter_queue(self.queue), properties, body, attempt,
                        {ERROR_HEADER: reason[:1000]})
        record_event_consumed(self.queue, "dead_lettered")

    @staticmethod
    def _republish(channel: BlockingChannel, queue: str, properties: pika.BasicProperties, body: bytes,
                   attempt: int, extra_headers: dict | None = None) -> None:
        headers = {**(properties.headers or {}), ATTEMPT_HEADER: attempt, **(extra_headers or {})}
        channel.basic_publish("", queue, body, pika.BasicProperties(
            content_type=properties.content_type, delivery_mode=pika.DeliveryMode.Persistent,
            message_id=properties.message_id, type=properties.type, headers=headers), mandatory=True)
