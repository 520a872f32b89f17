"""RPC over the real broker, as a caller sees it: answers, deadlines, a missing server, a broken
connection, concurrent callers, stray replies, poison messages and remote errors."""

import json
import logging
import subprocess
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor

import pika
import pytest
from marshmallow import Schema, fields

from contracts.errors import ServiceError
from contracts.rpc import (
    CONTRACT_VERSION,
    CONTRACT_VERSION_MISMATCH,
    INVALID_RPC_MESSAGE,
    SERVER_ERROR,
    UNKNOWN_METHOD,
    RpcError,
    encode_result,
    register_rpc_method,
)
from optimize_runtime.messaging import (
    RemoteError,
    RemoteService,
    RpcClient,
    RpcContext,
    RpcServer,
    RpcTimeout,
    RpcUnavailable,
)


class EchoParams(Schema):
    value = fields.Str(required=True)
    delaySeconds = fields.Float(load_default=0.0)


class EchoResult(Schema):
    value = fields.Str(required=True)
    requestId = fields.Str(allow_none=True, load_default=None)
    servedBy = fields.Str(allow_none=True, load_default=None)


class FailParams(Schema):
    how = fields.Str(required=True)


register_rpc_method("test.echo", EchoParams, EchoResult)
register_rpc_method("test.fail", FailParams, EchoResult)


def echo_handler(served_by: str = "worker"):
    def echo(params: dict, context: RpcContext) -> dict:
        time.sleep(params["delaySeconds"])
        return {"value": params["value"], "requestId": context.request_id, "servedBy": served_by}

    return echo


def fail(params: dict, _context: RpcContext) -> dict:
    if params["how"] == "domain":
        raise RpcError("definitionNotFound", "no definition 'invoice'", {"key": "invoice"})
    if params["how"] == "bad-result":
        return {"no": "value"}
    raise ValueError("a bug in the handler")


HANDLERS = {"test.echo": echo_handler(), "test.fail": fail}


@pytest.fixture
def serve(amqp_url, names):
    """Starts an RPC worker in its own thread on the test's queue; stops every one at the end."""
    running: list[tuple[RpcServer, threading.Thread]] = []

    def start(handlers=HANDLERS, **options) -> RpcServer:
        server = RpcServer(amqp_url, names.rpc_queue, handlers, **options)
        thread = threading.Thread(target=server.serve_forever, name=f"rpc-worker-{len(running)}", daemon=True)
        thread.start()
        assert server.wait_until_serving(10), "the RPC worker did not start consuming"
        running.append((server, thread))
        return server

    yield start
    for server, thread in running:
        server.stop()
        thread.join(10)
        assert not thread.is_alive(), "the RPC worker did not stop"


@pytest.fixture
def client(amqp_url, names):
    rpc = RpcClient(amqp_url, names.rpc_queue, timeout_s=5.0, connection_name=f"{names.prefix}-client")
    yield rpc
    rpc.close()


def test_a_call_returns_the_handlers_result_with_the_request_id(serve, client):
    serve()
    result = client.call("test.echo", {"value": "hello"}, headers={"x-request-id": "req-42"})
    assert result == {"value": "hello", "requestId": "req-42", "servedBy": "worker"}
    assert client.call("ping", {})["service"]


def test_a_slow_handler_times_out_at_the_deadline_and_its_late_reply_is_dropped(serve, client, caplog):
    serve()
    started = time.monotonic()
    with pytest.raises(RpcTimeout):
        client.call("test.echo", {"value": "slow", "delaySeconds": 2.0}, timeout_s=0.5)
    waited = time.monotonic() - started
    assert 0.5 <= waited < 1.8  # not a moment before the deadline, and long before the reply

    # The next call on the same connection meets the late reply first: it must answer its own question.
    with caplog.at_level(logging.WARNING, logger="optimize_runtime.messaging"):
        assert client.call("test.echo", {"value": "next"})["value"] == "next"
    assert "unknown correlation id" in caplog.text


def test_no_server_running_fails_fast(client):
    started = time.monotonic()
    with pytest.raises(RpcUnavailable, match="no RPC server"):
        client.call("ping", {})
    assert time.monotonic() - started < client.timeout_s / 2


def test_after_the_last_worker_stops_calls_fail_fast(amqp_url, names, client):
    server = RpcServer(amqp_url, names.rpc_queue, HANDLERS)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    assert server.wait_until_serving(10)
    assert client.call("test.echo", {"value": "up"})["value"] == "up"

    server.stop()
    thread.join(10)
    assert not thread.is_alive()
    started = time.monotonic()
    with pytest.raises(RpcUnavailable):
        client.call("test.echo", {"value": "down"})
    assert time.monotonic() - started < client.timeout_s / 2


def test_an_unreachable_broker_is_unavailable(names):
    rpc = RpcClient("amqp://guest:guest@127.0.0.1:1/%2F", names.rpc_queue, timeout_s=2.0)
    with pytest.raises(RpcUnavailable, match="cannot reach the broker"):
        rpc.call("ping", {})


def broker_connections_named(connection_name: str) -> list[str]:
    """The broker's process ids of the connections a client opened under `connection_name`."""
    listed = subprocess.run(
        ["rabbitmqctl", "list_connections", "pid", "client_properties", "--quiet", "--no-table-headers"],
        capture_output=True,
        text=True,
        check=True,
        timeout=30,
    )
    marker = f'{{"connection_name","{connection_name}"}}'
    return [line.split("\t")[0] for line in listed.stdout.splitlines() if marker in line]


def test_after_the_broker_closed_the_connection_the_next_call_succeeds(serve, client, names):
    serve()
    assert client.call("test.echo", {"value": "before"})["value"] == "before"
    [connection] = broker_connections_named(f"{names.prefix}-client")
    subprocess.run(
        ["rabbitmqctl", "close_connection", connection, "closed by the test"],
        capture_output=True,
        check=True,
        timeout=30,
    )
    time.sleep(0.2)  # let the close frame reach the client

    assert client.call("test.echo", {"value": "after"})["value"] == "after"


def test_a_worker_whose_connection_the_broker_closed_serves_again(serve, client, names):
    serve()
    [connection] = broker_connections_named(f"rpc-server {names.rpc_queue}")
    subprocess.run(
        ["rabbitmqctl", "close_connection", connection, "test"], capture_output=True, check=True, timeout=30
    )

    deadline = time.monotonic() + 10
    while True:  # between losing its connection and consuming again the worker is simply not there
        try:
            assert client.call("test.echo", {"value": "back"})["value"] == "back"
            break
        except RpcUnavailable:
            assert time.monotonic() < deadline, "the worker did not come back"
            time.sleep(0.1)


def test_eight_threads_calling_at_once_each_get_their_own_answer(serve, client):
    serve()
    callers = threading.Barrier(8)

    def call(number: int) -> list[str]:
        callers.wait()
        return [client.call("test.echo", {"value": f"caller-{number}-call-{i}"})["value"] for i in range(5)]

    with ThreadPoolExecutor(max_workers=8) as pool:
        answers = list(pool.map(call, range(8)))
    assert answers == [[f"caller-{number}-call-{i}" for i in range(5)] for number in range(8)]


def test_a_reply_with_an_unknown_correlation_id_is_ignored(serve, client, amqp_url, caplog):
    def answer_twice(params: dict, context: RpcContext) -> dict:
        # A stray reply reaches the caller's reply queue first, with a correlation id it never sent.
        with pika.BlockingConnection(pika.URLParameters(amqp_url)) as connection:
            stray = encode_result("test.echo", {"value": "stray"})
            properties = pika.BasicProperties(correlation_id=str(uuid.uuid4()))
            connection.channel().basic_publish("", context.reply_to, stray, properties)
        time.sleep(0.2)
        return {"value": params["value"]}

    serve({"test.echo": answer_twice})
    with caplog.at_level(logging.WARNING, logger="optimize_runtime.messaging"):
        assert client.call("test.echo", {"value": "real"})["value"] == "real"
    assert "unknown correlation id" in caplog.text


class RawRequester:
    """Sends hand-made requests to the queue, as a broken or foreign client would."""

    def __init__(self, amqp_url: str, queue: str):
        self.queue = queue
        self.connection = pika.BlockingConnection(pika.URLParameters(amqp_url))
        self.channel = self.connection.channel()
        self.replies: dict[str, dict] = {}
        self.channel.basic_consume("amq.rabbitmq.reply-to", self._on_reply, auto_ack=True)

    def _on_reply(self, _channel, _method, properties, body):
        self.replies[properties.correlation_id] = json.loads(body)

    def send(self, body: bytes, *, reply: bool = True, headers: dict | None = None) -> str:
        correlation_id = str(uuid.uuid4())
        properties = pika.BasicProperties(
            correlation_id=correlation_id,
            reply_to="amq.rabbitmq.reply-to" if reply else None,
            headers=headers,
        )
        self.channel.basic_publish("", self.queue, body, properties)
        return correlation_id

    def reply_to(self, correlation_id: str) -> dict:
        deadline = time.monotonic() + 5
        while correlation_id not in self.replies and time.monotonic() < deadline:
            self.connection.process_data_events(time_limit=0.1)
        return self.replies[correlation_id]


def request(method: str = "test.echo", params=None, version: int = CONTRACT_VERSION) -> bytes:
    params = {"value": "x"} if params is None else params
    return json.dumps({"contractVersion": version, "method": method, "params": params}).encode()


def test_poison_messages_are_answered_and_the_worker_keeps_serving(serve, client, amqp_url, names):
    # One message at a time: a poison message left unacknowledged would block every later call.
    serve(prefetch=1)
    raw = RawRequester(amqp_url, names.rpc_queue)
    try:
        poison = {
            raw.send(b"\x00\xff garbage"): INVALID_RPC_MESSAGE,
            raw.send(request(method="no.such.method")): UNKNOWN_METHOD,
            raw.send(request(version=CONTRACT_VERSION + 1)): CONTRACT_VERSION_MISMATCH,
            raw.send(request(params={"value": 7})): INVALID_RPC_MESSAGE,
        }
        raw.send(request(), reply=False)
        expired = raw.send(request(), headers={"deadline": round((time.time() - 1) * 1000)})
        for correlation_id, code in poison.items():
            reply = raw.reply_to(correlation_id)
            assert reply["ok"] is False
            assert reply["error"]["code"] == code
        assert client.call("test.echo", {"value": "still serving"})["value"] == "still serving"
        raw.connection.process_data_events(time_limit=0.2)
        assert expired not in raw.replies
    finally:
        raw.connection.close()


def test_remote_errors_arrive_with_their_code_and_details(serve, client):
    serve()
    with pytest.raises(RemoteError) as domain:
        client.call("test.fail", {"how": "domain"})
    assert (domain.value.code, domain.value.details) == ("definitionNotFound", {"key": "invoice"})
    assert domain.value.message == "no definition 'invoice'"

    with pytest.raises(RemoteError) as bug:
        client.call("test.fail", {"how": "bug"}, headers={"x-request-id": "req-7"})
    assert bug.value.code == SERVER_ERROR
    assert bug.value.details == {"requestId": "req-7"}
    assert "a bug in the handler" not in bug.value.message  # the trace stays in the worker's log

    with pytest.raises(RemoteError) as bad_result:
        client.call("test.fail", {"how": "bad-result"})
    assert bad_result.value.code == INVALID_RPC_MESSAGE


def test_a_call_that_breaks_the_contract_is_refused_before_it_is_sent(client):
    with pytest.raises(RpcError) as unknown:
        client.call("no.such.method", {})
    assert unknown.value.code == UNKNOWN_METHOD
    assert not isinstance(unknown.value, RemoteError)
    with pytest.raises(RpcError) as invalid:
        client.call("test.echo", {"value": 7})
    assert invalid.value.code == INVALID_RPC_MESSAGE
    assert invalid.value.details["messages"] == {"value": ["Not a valid string."]}


def test_a_worker_that_stops_finishes_the_request_in_hand_and_requeues_the_rest(serve, client):
    first_started = threading.Event()
    echo = echo_handler("first worker")

    def echo_and_signal(params: dict, context: RpcContext) -> dict:
        first_started.set()
        return echo(params, context)

    first = serve({"test.echo": echo_and_signal})
    with ThreadPoolExecutor(max_workers=4) as pool:
        calls = [
            pool.submit(client.call, "test.echo", {"value": f"call-{i}", "delaySeconds": 0.5}, timeout_s=10)
            for i in range(4)
        ]
        assert first_started.wait(5)
        time.sleep(0.2)  # every request is now prefetched by the first worker
        serve({"test.echo": echo_handler("second worker")})
        first.stop()
        answers = [call.result() for call in calls]

    assert sorted(answer["value"] for answer in answers) == [f"call-{i}" for i in range(4)]
    served_by = sorted(answer["servedBy"] for answer in answers)
    assert served_by == ["first worker"] + ["second worker"] * 3


def test_handlers_for_methods_outside_the_contract_are_refused(amqp_url, names):
    with pytest.raises(ValueError, match="test.typo"):
        RpcServer(amqp_url, names.rpc_queue, {"test.typo": fail})


@pytest.mark.parametrize(("how", "status", "error_code"), [
    ("no worker", 503, "serviceUnavailable"),   # nobody serves the queue: a retry later can work
    ("bug", 503, "serviceUnavailable"),         # the other side failed (its store down, say)
    ("domain", 503, "serviceUnavailable"),      # an error of its own, answered as data
    ("bad-result", 500, "serverError"),         # its answer breaks the contract: a retry fails the same
    ("bad-params", 500, "serverError"),         # our request breaks the contract: refused before sending
])
def test_remote_service_answers_every_failure_by_one_rule(serve, client, how, status, error_code):
    if how != "no worker":
        serve()
    method, params = ("test.echo", {"value": 7}) if how == "bad-params" else ("test.fail", {"how": how})
    with pytest.raises(ServiceError) as refused:
        RemoteService("catalog", client).call(method, params, not_done="nothing was imported")
    body = refused.value.body()
    assert (refused.value.status, body["errorCode"]) == (status, error_code)
    assert "nothing was imported" in body["errorMessage"]
    assert ("Retry-After" in refused.value.headers) == (status == 503)
