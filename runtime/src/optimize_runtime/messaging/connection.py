"""Connections to RabbitMQ: parameters with explicit timeouts, and one connection per thread because a
pika BlockingConnection must only be used by the thread that made it."""

import logging
import os
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Generic, TypeVar
from urllib.parse import parse_qs, urlparse

import pika
from pika.adapters.blocking_connection import BlockingChannel
from pika.exceptions import AMQPChannelError, AMQPConnectionError

log = logging.getLogger(__name__)

HEARTBEAT_S = 30
# A broker blocking publishers (memory or disk alarm) closes our connection after this long instead of
# hanging the caller forever.
BLOCKED_CONNECTION_TIMEOUT_S = 30

# Errors after which a connection or its channel is no longer usable: drop it and open a fresh one.
CONNECTION_BROKEN_ERRORS = (AMQPConnectionError, AMQPChannelError, OSError)
# Waits before reconnecting after the n-th broken connection in a row (the last one repeats).
RECONNECT_DELAYS_S = (0.5, 1, 2, 5, 10)


def consume_until_stopped(consume: Callable[[], None], stopping: threading.Event,
                          after_each: Callable[[], None], consumer: str) -> None:
    """Runs `consume` until `stopping` is set, reconnecting with back-off after the broker went away;
    `after_each` runs after every attempt (it closes what the attempt opened). For the RPC server and the
    event consumer alike."""
    failures = 0
    while not stopping.is_set():
        try:
            consume()
            failures = 0
        except CONNECTION_BROKEN_ERRORS as error:
            if stopping.is_set():
                break
            delay = RECONNECT_DELAYS_S[min(failures, len(RECONNECT_DELAYS_S) - 1)]
            failures += 1
            log.warning("%s lost the broker (%r); reconnecting in %s s", consumer, error, delay)
            stopping.wait(delay)
        finally:
            after_each()


def connection_parameters(
    amqp_url: str, connection_name: str | None = None, connect_timeout_s: float | None = None
) -> pika.URLParameters:
    parameters = pika.URLParameters(amqp_url)
    given = parse_qs(urlparse(amqp_url).query)
    if "heartbeat" not in given:
        parameters.heartbeat = HEARTBEAT_S
    if "blocked_connection_timeout" not in given:
        parameters.blocked_connection_timeout = BLOCKED_CONNECTION_TIMEOUT_S
    if connect_timeout_s is not None:
        parameters.socket_timeout = connect_timeout_s
        parameters.stack_timeout = connect_timeout_s
    if connection_name:
        parameters.client_properties = {"connection_name": connection_name}
    return parameters


@dataclass(eq=False)
class ThreadConnection:
    """A connection and its one channel, owned by the thread that opened it."""

    connection: pika.BlockingConnection
    channel: BlockingChannel
    pid: int = field(default_factory=os.getpid)
    thread_id: int = field(default_factory=threading.get_ident)

    @property
    def usable(self) -> bool:
        # A connection inherited through fork shares its socket with the parent: never use it.
        return self.pid == os.getpid() and self.connection.is_open and self.channel.is_open


T = TypeVar("T", bound=ThreadConnection)


class ConnectionPerThread(Generic[T]):
    """Opens a thread's connection on first use (never at construction: gunicorn forks after the app is
    made) and again after it broke."""

    def __init__(self, open_connection: Callable[[], T]):
        self._open_connection = open_connection
        self._local = threading.local()
        self._all: list[T] = []
        self._lock = threading.Lock()

    def get(self) -> T:
        current: T | None = getattr(self._local, "current", None)
        if current is not None and not current.usable:
            self.drop()
            current = None
        if current is None:
            current = self._open_connection()
            self._local.current = current
            with self._lock:
                self._all.append(current)
        return current

    def drop(self) -> None:
        """Forget this thread's connection (it broke, or it is being closed); the next get() opens anew."""
        current: T | None = getattr(self._local, "current", None)
        self._local.current = None
        if current is None:
            return
        with self._lock:
            if current in self._all:
                self._all.remove(current)
        if current.pid == os.getpid() and current.connection.is_open:
            try:
                current.connection.close()
            except Exception:  # noqa: BLE001 - it is being thrown away; closing is a courtesy
                log.debug("closing a dropped AMQP connection failed", exc_info=True)

    def close_all(self) -> None:
        """Close this thread's connection now and ask every other thread's to close in its own thread."""
        self.drop()
        with self._lock:
            others, self._all = self._all, []
        for other in others:
            if other.pid != os.getpid() or not other.connection.is_open:
                continue
            try:
                other.connection.add_callback_threadsafe(other.connection.close)
            except AMQPConnectionError:
                pass  # already closed
