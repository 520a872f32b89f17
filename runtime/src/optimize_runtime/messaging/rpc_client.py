"""The calling side of RPC over RabbitMQ: direct reply-to, a correlation id per call, a real deadline, and
mandatory publishing with confirms so that a queue nobody serves fails at once."""

import logging
import math
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pika
from pika.exceptions import NackError, UnroutableError

from contracts.rpc import RpcError, decode_reply, encode_request
from optimize_runtime.messaging.connection import (
    CONNECTION_BROKEN_ERRORS,
    ConnectionPerThread,
    ThreadConnection,
    connection_parameters,
)
from optimize_runtime.messaging.errors import RemoteError, RpcTimeout, RpcUnavailable
from optimize_runtime.observability.context import current_request_id
from optimize_runtime.observability.metrics import record_rpc_call

log = logging.getLogger(__name__)

DIRECT_REPLY_TO = "amq.rabbitmq.reply-to"
# Header with the call's deadline in milliseconds since the epoch (AMQP tables have no floats in pika),
# so that a worker can drop a request nobody awaits any more.
DEADLINE_HEADER = "deadline"
# Header with the request id of the HTTP request (or RPC) the call is made for, so that the worker's logs
# can be joined with the caller's.
REQUEST_ID_HEADER = "x-request-id"


@dataclass(eq=False)
class CallerConnection(ThreadConnection):
    """A thread's connection, consuming its direct reply-to pseudo-queue, and the one call it waits for."""

    awaited_id: str | None = None
    reply: bytes | None = None
    abandoned_id: str | None = None  # the call its caller stopped waiting for: its reply is dropped quietly

    def on_reply(self, _channel: Any, _method: Any, properties: pika.BasicProperties, body: bytes) -> None:
        if properties.correlation_id == self.abandoned_id:
            return
        if self.awaited_id is None or properties.correlation_id != self.awaited_id:
            # A reply to a call that timed out already, or not ours at all.
            log.warning("dropping an RPC reply with unknown correlation id %r", properties.correlation_id)
            return
        self.reply = body

    def await_call(self, correlation_id: str | None) -> None:
        self.awaited_id = correlation_id
        self.reply = None

    def abandon(self) -> None:
        self.abandoned_id, self.awaited_id, self.reply = self.awaited_id, None, None


class RpcClient:
    """Calls methods of the RPC server consuming `queue`. Safe to share between threads: each thread
    gets its own connection, opened on its first call."""

    def __init__(self, amqp_url: str, queue: str, timeout_s: float = 5.0, connection_name: str | None = None):
        self.queue = queue
        self.timeout_s = timeout_s
        self._parameters = connection_parameters(amqp_url, connection_name, connect_timeout_s=timeout_s)
        self._connections: ConnectionPerThread[CallerConnection] = ConnectionPerThread(self._open)

    def _open(self) -> CallerConnection:
        connection = pika.BlockingConnection(self._parameters)
        try:
            channel = connection.channel()
            channel.confirm_delivery()
            caller = CallerConnection(connection, channel)
            # Consume the reply pseudo-queue before the first publish: RabbitMQ requires it.
            channel.basic_consume(DIRECT_REPLY_TO, caller.on_reply, auto_ack=True)
            return caller
        except BaseException:
            connection.close()
            raise

    def call(
        self,
        method: str,
        params: dict[str, Any],
        *,
        timeout_s: float | None = None,
        headers: dict[str, Any] | None = None,
        meanwhile: Callable[[], None] | None = None,
    ) -> dict[str, Any]:
        """The result of `method`. Raises RpcError when the call breaks the contract, RemoteError when the
        server answers with an error, RpcUnavailable when the request cannot be delivered, RpcTimeout when
        no reply comes in time. `meanwhile()` runs once the request is delivered, while the reply is on its
        way (not when the request could not be sent); what it raises ends the call, its reply dropped."""
        started, outcome = time.monotonic(), "ok"
        try:
            return self._call(method, params, timeout_s, headers, meanwhile)
        except RemoteError:
            outcome = "remote_error"
            raise
        except RpcTimeout:
            outcome = "timeout"
            raise
        except RpcUnavailable:
            outcome = "unavailable"
            raise
        except RpcError:
            outcome = "invalid"
            raise
        finally:
            record_rpc_call(method, outcome, time.monotonic() - started)

    def _call(
        self, method: str, params: dict[str, Any], timeout_s: float | None, headers: dict[str, Any] | None,
        meanwhile: Callable[[], None] | None,
    ) -> dict[str, Any]:
        timeout_s = self.timeout_s if timeout_s is None else timeout_s
        request_id = current_request_id()
        if request_id:
            headers = {REQUEST_ID_HEADER: request_id, **(headers or {})}
        body = encode_request(method, params)
        correlation_id = str(uuid.uuid4())
        deadline = time.monotonic() + timeout_s
        properties = pika.BasicProperties(
            content_type="application/json",
            correlation_id=correlation_id,
            reply_to=DIRECT_REPLY_TO,
            # The broker discards the request once nobody can be waiting for it any more.
            expiration=str(max(1, math.ceil(timeout_s * 1000))),
            headers={**(headers or {}), DEADLINE_HEADER: round((time.time() + timeout_s) * 1000)},
        )
        caller = self._publish(method, body, properties, deadline)
        if meanwhile is not None:
            try:
                meanwhile()
            except BaseException:
                caller.abandon()
                raise
        reply = decode_reply(method, self._await_reply(caller, method, deadline))
        if not reply["ok"]:
            error = reply["error"]
            raise RemoteError(error["code"], error["message"], error["details"])
        return reply["result"]

    def _publish(
        self, method: str, body: bytes, properties: pika.BasicProperties, deadline: float
    ) -> CallerConnection:
        for attempt in (1, 2):
            try:
                caller = self._connections.get()
                # Reads what arrived since the last call: a close by the broker surfaces here, before
                # publishing, and late replies are dropped before a new call is awaited.
                caller.connection.process_data_events(time_limit=0)
                caller.await_call(properties.correlation_id)
                caller.channel.basic_publish("", self.queue, body, properties, mandatory=True)
                return caller
            except UnroutableError:
                raise RpcUnavailable(
                    f"no RPC server consumes queue {self.queue!r} (calling {method!r})"
                ) from None
            except NackError:
                raise RpcUnavailable(
                    f"the broker refused the request to {self.queue!r} (calling {method!r})"
                ) from None
            except CONNECTION_BROKEN_ERRORS as error:
                self._connections.drop()
                if attempt == 2 or time.monotonic() >= deadline:
                    raise RpcUnavailable(f"cannot reach the broker to call {method!r}: {error!r}") from error
                log.info("AMQP connection broken (%r); calling %r again on a fresh one", error, method)
        raise AssertionError("unreachable")

    def _await_reply(self, caller: CallerConnection, method: str, deadline: float) -> bytes:
        try:
            while caller.reply is None:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    # A reply that came in time while the caller was busy (`meanwhile`) is taken still.
                    caller.connection.process_data_events(time_limit=0)
                    if caller.reply is not None:
                        break
                    raise RpcTimeout(f"no reply to {method!r} from {self.queue!r} within the deadline")
                caller.connection.process_data_events(time_limit=remaining)
            return caller.reply
        except CONNECTION_BROKEN_ERRORS as error:
            # The reply pseudo-queue died with the connection: the answer, if any, is lost.
            self._connections.drop()
            raise RpcUnavailable(
                f"connection lost while waiting for the reply to {method!r}: {error!r}"
            ) from error
        finally:
            caller.await_call(None)

    def close(self) -> None:
        self._connections.close_all()
