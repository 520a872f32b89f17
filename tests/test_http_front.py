"""The HTTP front as clients meet it, with import-svc served by gunicorn as deployed: slow clients do not
starve it, its own refusals are JSON with an errorCode, a slow request head or body is cut off, and a
connection stays usable after a refusal with an unread body."""

import json
import os
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request

import pytest

from optimize_runtime.infra.ports import free_port, wait_for_port

pytestmark = pytest.mark.slow

READ_TIMEOUT_S = 6


@pytest.fixture
def served(installation, tmp_path):
    """import-svc under gunicorn (two workers of the asyncio front, as deployed) on a free port."""
    port = free_port()
    environ = {**os.environ, **installation.environ, "OPTIMIZE_IMPORT_PORT": str(port),
               "OPTIMIZE_HTTP_READ_TIMEOUT_S": str(READ_TIMEOUT_S), "OPTIMIZE_HTTP_THREADS": "4",
               "OPTIMIZE_LOG_LEVEL": "WARNING", "OPTIMIZE_GRACEFUL_TIMEOUT_S": "2"}
    process = subprocess.Popen([sys.executable, "-m", "import_svc.cli", "serve"], env=environ,
                               stderr=(tmp_path / "import-svc.log").open("w"))
    try:
        assert wait_for_port("127.0.0.1", port, 30), (tmp_path / "import-svc.log").read_text()
        yield port
    finally:
        process.terminate()
        process.wait(30)


def get(port: int, path: str, timeout_s: float = 10.0, **headers) -> tuple[int, dict]:
    request = urllib.request.Request(f"http://127.0.0.1:{port}{path}", headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=timeout_s) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


def raw(port: int, data: bytes, timeout_s: float = 15.0) -> bytes:
    """What the server answers to these bytes, until it closes the connection."""
    with socket.create_connection(("127.0.0.1", port), timeout=timeout_s) as connection:
        connection.sendall(data)
        answer = b""
        while chunk := connection.recv(65536):
            answer += chunk
        return answer


def json_of(answer: bytes) -> tuple[int, str, dict]:
    head, _, body = answer.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    content_type = next(line.split(":", 1)[1].strip() for line in lines
                        if line.lower().startswith("content-type"))
    return int(lines[0].split()[1]), content_type, json.loads(body)


def test_fifty_slow_clients_do_not_starve_readiness_nor_imports(served, installation):
    stop, cut_off = threading.Event(), []

    def trickle(first: bytes, rest: bytes) -> None:
        with socket.create_connection(("127.0.0.1", served)) as connection:
            connection.sendall(first)
            for index in range(len(rest)):
                if stop.is_set():
                    return
                try:
                    connection.send(rest[index:index + 1])
                except OSError:
                    cut_off.append(1)
                    return
                time.sleep(0.5)
            cut_off.append(0)

    heads = [(b"GET /readyz HTTP/1.1\r\n", b"Host: x\r\nX-Slow: " + b"a" * 1000) for _ in range(25)]
    bodies = [(b"POST /api/import HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
               b"Content-Length: 1000\r\n\r\n", b"[" * 1000) for _ in range(25)]
    threads = [threading.Thread(target=trickle, args=pair, daemon=True) for pair in heads + bodies]
    for thread in threads:
        thread.start()
    try:
        time.sleep(1)
        for _ in range(5):  # each answered, while all 50 trickle on
            assert get(served, "/readyz")[0] == 200
        headers = {**installation.headers(), "Content-Type": "application/json"}
        request = urllib.request.Request(f"http://127.0.0.1:{served}/api/import", data=b"[]", method="POST",
                                         headers=headers)
        with pytest.raises(urllib.error.HTTPError) as answered:  # an empty file: refused, but answered
            urllib.request.urlopen(request, timeout=10)
        assert json.loads(answered.value.read())["errorCode"] == "importFileInvalid"
        deadline = time.monotonic() + READ_TIMEOUT_S + 20
        while sum(cut_off) < 50 and time.monotonic() < deadline:  # each cut off after the read timeout
            time.sleep(0.5)
        assert sum(cut_off) == 50
    finally:
        stop.set()


@pytest.mark.parametrize(("request_bytes", "status", "code"), [
    (b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * 9000 + b"\r\n\r\n", 431,
     "requestHeaderFieldsTooLarge"),
    (b"GET /" + b"a" * 5000 + b" HTTP/1.1\r\nHost: x\r\n\r\n", 414, "uriTooLong"),
    (b"NOT A REQUEST LINE\r\n\r\n", 400, "badRequestError"),
    (b"GET /healthz HTTP/1.1\r\nHost: x\r\n" + b"".join(b"X-%d: 1\r\n" % i for i in range(150)) + b"\r\n",
     431, "requestHeaderFieldsTooLarge"),
])
def test_the_http_servers_own_refusals_are_json_with_an_error_code(served, request_bytes, status, code):
    answered_status, content_type, body = json_of(raw(served, request_bytes))
    assert (answered_status, content_type, body["errorCode"]) == (status, "application/json", code)


def test_a_request_head_that_does_not_arrive_in_time_is_cut_off_with_a_json_408(served):
    with socket.create_connection(("127.0.0.1", served), timeout=READ_TIMEOUT_S + 15) as connection:
        connection.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n")  # and never the rest
        answer = b""
        while chunk := connection.recv(65536):
            answer += chunk
    status, _, body = json_of(answer)
    assert (status, body["errorCode"]) == (408, "requestTimeout")


def test_a_declared_body_over_every_limit_is_refused_unread_and_the_connection_closed(served):
    answer = raw(served, b"POST /api/import HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                         b"Content-Length: 999999999999\r\n\r\n[")
    status, _, body = json_of(answer)
    assert (status, body["errorCode"], body["limit"]) == (413, "payloadTooLarge", 32 * 1024 * 1024)
    assert b"connection: close" in answer.lower()


def test_a_refusal_with_an_unread_body_leaves_the_kept_alive_connection_usable(served):
    unread = b"[" + b"1," * 10_000 + b"1]"  # 20 kB the app never reads: its caller is not authenticated
    first = (b"POST /api/import HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
             b"Content-Length: %d\r\n\r\n" % len(unread)) + unread
    second = b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
    answer = raw(served, first + second)
    assert answer.count(b"HTTP/1.1 ") == 2, answer[:500]
    assert answer.startswith(b"HTTP/1.1 401") and b'"unauthorizedError"' in answer
    assert b"HTTP/1.1 200" in answer and b'"alive"' in answer
