"""The serving side of RPC over RabbitMQ. Several workers may consume the same queue; each RpcServer is
one consumer on its own connection, run by one thread."""

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pika
from pika.adapters.blocking_connection import BlockingChannel
from pika.spec import Basic

from contracts.events import utc_now_iso
from contracts.rpc import (
    RPC_METHODS,
    SERVER_ERROR,
    UNKNOWN_METHOD,
    RpcError,
    decode_request,
    encode_error,
    encode_result,
)
from optimize_runtime.messaging.connection import (
    CONNECTION_BROKEN_ERRORS,
    connection_parameters,
    consume_until_stopped,
)
from optimize_runtime.messaging.rpc_client import DEADLINE_HEADER, REQUEST_ID_HEADER
from optimize_runtime.observability.context import bound_request
from optimize_runtime.observability.metrics import record_rpc_expired, record_rpc_served

log = logging.getLogger(__name__)



@dataclass(frozen=True)
class RpcContext:
    """What a handler may want to know about the request besides its params."""

    correlation_id: str | None
    headers: dict[str, Any] = field(default_factory=dict)
    reply_to: str | None = None

    @property
    def request_id(self) -> str | None:
        return self.headers.get(REQUEST_ID_HEADER)

    @property
    def deadline(self) -> float | None:
        """Seconds since the epoch after which the caller no longer waits, if it said so."""
        value = self.headers.get(DEADLINE_HEADER)
        return value / 1000 if isinstance(value, int) else None


RpcHandler = Callable[[dict[str, Any], RpcContext], dict[str, Any]]


class RpcServer:
    """Answers requests on `queue` with `handlers` (method name -> handler) until stop() is called.

    The queue is non-durable and auto-deleted: it exists only while some worker consumes it, so a client
    publishing with `mandatory` learns at once that no server is running."""

    def __init__(self, amqp_url: str, queue: str, handlers: dict[str, RpcHandler], prefetch: int = 8):
        unknown = sorted(set(handlers) - set(RPC_METHODS))
        if unknown:
            raise ValueError(f"handlers for methods not in the contract: {', '.join(unknown)}")
        self.queue = queue
        self.handlers = {"ping": self._ping, **handlers}
        self.prefetch = prefetch
        self._parameters = connection_parameters(amqp_url, connection_name=f"rpc-server {queue}")
        self._connection: pika.BlockingConnection | None = None
        self._channel: BlockingChannel | None = None
        self._consumer_tag: str | None = None
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._serving = threading.Event()

    def _ping(self, _params: dict[str, Any], _context: RpcContext) -> dict[str, Any]:
        return {"service": self.queue, "time": utc_now_iso()}

    def serve_forever(self) -> None:
        """Consume until stop(); reconnects after the broker went away. Run it in the thread that owns it."""
        consume_until_stopped(self._consume, self._stopping, self._after_attempt,
                              f"RPC server on {self.queue!r}")

    def _after_attempt(self) -> None:
        self._serving.clear()
        self._close_connection()

    def _consume(self) -> None:
        connection = pika.BlockingConnection(self._parameters)
        with self._lock:
            self._connection = connection
        channel = self._channel = connection.channel()
        channel.queue_declare(self.queue, durable=False, auto_delete=True)
        channel.basic_qos(prefetch_count=self.prefetch)
        self._consumer_tag = channel.basic_consume(self.queue, self._on_request, auto_ack=False)
        self._serving.set()
        if self._stopping.is_set():
            self._cancel()  # stop() came while we were connecting
        log.info("RPC server consuming %r", self.queue)
        channel.start_consuming()  # returns once the consumer is cancelled

    def stop(self) -> None:
        """Stop consuming, from any thread: the request in hand is finished, prefetched ones are requeued."""
        self._stopping.set()
        with self._lock:
            connection = self._connection
        if connection is not None and connection.is_open:
            try:
                connection.add_callback_threadsafe(self._cancel)
            except CONNECTION_BROKEN_ERRORS:
                pass  # closed meanwhile: serve_forever returns on its own

    def wait_until_serving(self, timeout_s: float | None = None) -> bool:
        return self._serving.wait(timeout_s)

    def _cancel(self) -> None:
        # Runs in the serving thread; pika rejects with requeue what was prefetched but not yet handled.
        if self._channel is not None and self._channel.is_open and self._consumer_tag is not None:
            consumer_tag, self._consumer_tag = self._consumer_tag, None
            self._channel.basic_cancel(consumer_tag)

    def _close_connection(self) -> None:
        with self._lock:
            connection, self._connection = self._connection, None
        self._channel, self._consumer_tag = None, None
        if connection is not None and connection.is_open:
            try:
                connection.close()
            except CONNECTION_BROKEN_ERRORS:
                pass

    def _on_request(
        self, channel: BlockingChannel, deliver: Basic.Deliver, properties: pika.BasicProperties, body: bytes
    ) -> None:
        if self._stopping.is_set():
            # Prefetched but not started when stop() came: give it back for another worker.
            self._cancel()
            channel.basic_nack(deliver.delivery_tag, requeue=True)
            return
        headers = dict(properties.headers or {})
        context = RpcContext(properties.correlation_id, headers, properties.reply_to)
        with bound_request(context.request_id):
            if context.deadline is not None and time.time() > context.deadline:
                record_rpc_expired()
                log.info(
                    "dropping RPC request %s: its deadline passed before it was served",
                    context.correlation_id,
                )
            elif not properties.reply_to:
                log.warning(
                    "dropping RPC request %s without reply_to: nobody to answer", context.correlation_id
                )
            else:
                reply = self._answer(body, context)
                # Queued on the underlying channel, not flushed: the reply leaves in the same write as the
                # ack below (BlockingChannel.basic_publish would flush it alone: a poll and a send more
                # per request). Same frames, same order.
                channel._impl.basic_publish(
                    "",
                    properties.reply_to,
                    reply,
                    pika.BasicProperties(
                        content_type="application/json", correlation_id=properties.correlation_id
                    ),
                )
        channel.basic_ack(deliver.delivery_tag)

    def _answer(self, body: bytes, context: RpcContext) -> bytes:
        method, outcome, started = None, "ok", time.monotonic()
        try:
            method, params = decode_request(body)
            handler = self.handlers.get(method)
            if handler is None:
                raise RpcError(UNKNOWN_METHOD, f"this server does not serve {method!r}", {"method": method})
            return encode_result(method, handler(params, context))
        except RpcError as error:
            outcome = error.code
            log.info(
                "RPC %s (request id %s) answered %s: %s",
                method,
                context.request_id,
                error.code,
                error.message,
            )
            return encode_error(error)
        except Exception:
            outcome = SERVER_ERROR
            log.exception("RPC %s failed (request id %s)", method, context.request_id)
            details = {"requestId": context.request_id} if context.request_id else {}
            return encode_error(RpcError(SERVER_ERROR, f"the server failed to answer {method!r}", details))
        finally:
            seconds = time.monotonic() - started
            record_rpc_served(method, outcome, seconds)
            log.info(
                "RPC %s answered %s in %.1f ms",
                method,
                outcome,
                seconds * 1000,
                extra={"rpcMethod": method, "outcome": outcome, "correlationId": context.correlation_id},
            )
