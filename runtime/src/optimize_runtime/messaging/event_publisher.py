"""Publishing events on the durable topic exchange: with publisher confirms, or in AMQP transactions
(a batch of events, one broker round trip)."""

import json
import logging
from collections.abc import Sequence
from typing import Any

import pika
from marshmallow import ValidationError
from pika.exceptions import NackError, UnroutableError

from contracts.events import EVENTS_EXCHANGE, event_problems
from optimize_runtime.messaging.connection import (
    CONNECTION_BROKEN_ERRORS,
    ConnectionPerThread,
    ThreadConnection,
    connection_parameters,
)
from optimize_runtime.messaging.errors import EventPublishFailed

log = logging.getLogger(__name__)


class EventPublisher:
    """Publishes events routed by their type. Safe to share between threads: each thread gets its own
    connection, opened on its first publish.

    `transactional`: the channel publishes in AMQP transactions instead of with confirms, so that a
    batch (`publish_batch`) costs one round trip to the broker however many events it holds, and the
    broker takes the whole batch or none of it; for an outbox relay. A single event costs one round trip
    either way."""

    def __init__(self, amqp_url: str, exchange: str = EVENTS_EXCHANGE, connection_name: str | None = None,
                 transactional: bool = False):
        self.exchange = exchange
        self.transactional = transactional
        self._parameters = connection_parameters(amqp_url, connection_name)
        self._connections: ConnectionPerThread[ThreadConnection] = ConnectionPerThread(self._open)

    def _open(self) -> ThreadConnection:
        connection = pika.BlockingConnection(self._parameters)
        try:
            channel = connection.channel()
            if self.transactional:
                channel.tx_select()
            else:
                channel.confirm_delivery()
            channel.exchange_declare(self.exchange, exchange_type="topic", durable=True)
            return ThreadConnection(connection, channel)
        except BaseException:
            connection.close()
            raise

    def publish(self, event: dict[str, Any]) -> None:
        """Returns once the broker has confirmed the event; raises marshmallow's ValidationError for an
        event that breaks the contract and EventPublishFailed when the broker does not take it."""
        self.publish_batch([event])

    def publish_batch(self, events: Sequence[dict[str, Any]]) -> None:
        """Publishes the events in their order and returns once the broker has taken every one of them
        (one commit when transactional, else a confirm each). Raises marshmallow's ValidationError, before
        publishing anything, when one breaks the contract, and EventPublishFailed when the broker did not
        take them: then none counts as published (some may have been; publish them again)."""
        for event in events:
            errors = event_problems(event)
            if errors:
                raise ValidationError(errors)
        if not events:
            return
        messages = [(event["type"], json.dumps(event).encode(), pika.BasicProperties(
            content_type="application/json",
            delivery_mode=pika.DeliveryMode.Persistent,
            message_id=event["eventId"],
            type=event["type"],
        )) for event in events]
        first = events[0]["eventId"]
        which = f"event {first}" if len(events) == 1 else f"{len(events)} events from {first}"
        for attempt in (1, 2):
            try:
                publishing = self._connections.get()
                publishing.connection.process_data_events(
                    time_limit=0
                )  # surfaces a connection closed meanwhile
                for routing_key, body, properties in messages:
                    publishing.channel.basic_publish(self.exchange, routing_key, body, properties)
                if self.transactional:
                    publishing.channel.tx_commit()
                return
            except (NackError, UnroutableError) as error:
                raise EventPublishFailed(f"the broker did not take {which}: {error!r}") from error
            except CONNECTION_BROKEN_ERRORS as error:
                # An uncommitted transaction dies with its channel: nothing of it was delivered.
                self._connections.drop()
                if attempt == 2:
                    raise EventPublishFailed(
                        f"cannot reach the broker to publish {which}: {error!r}"
                    ) from error
                log.info("AMQP connection broken (%r); publishing %s again on a fresh one", error, which)

    def publish_or_log(self, event: dict[str, Any]) -> None:
        """Publishes an event about a change already made: whatever goes wrong (the broker does not take
        it, the event breaks the contract) is logged with the event's id and type, never raised, so that
        the change's outcome stands and the caller is not led to make it twice."""
        try:
            self.publish(event)
        except Exception:  # noqa: BLE001 - the change is made; a lost event must not undo or fail it
            log.exception("event %s (%s) about %s was not published", event.get("eventId"), event.get("type"),
                          event.get("entityIds"))

    def close(self) -> None:
        self._connections.close_all()
