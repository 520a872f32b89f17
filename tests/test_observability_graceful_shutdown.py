"""Graceful shutdown with real processes and real signals: a catalog RPC worker stopped in the middle of a
slow request finishes it and hands back what it prefetched, a killed one leaves the caller a 503, and
gunicorn finishes the request in flight; metrics add up over several gunicorn workers."""

import json
import os
import signal
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path

import pika
import pytest

from export_svc.app import create_app
from export_svc.config import ExportConfig
from optimize_runtime.infra.ports import free_port, wait_for_port
from optimize_runtime.messaging import RpcClient

pytestmark = pytest.mark.slow

# `catalog-svc rpc` as deployed (its cli: JSON logs, operations server, SIGTERM handling), except that each
# handler sleeps when the request id starts with "slow": a request that is in hand long enough to be hit.
# A held worker has imported everything and starts consuming when it reads a line.
SLOW_WORKER = """
import sys, time
from catalog_svc import rpc_worker
delay, name, held = float(sys.argv[1]), sys.argv[2], sys.argv[3] == "held"
real_handlers = rpc_worker.rpc_handlers

def slowed(handler):
    def handle(params, context):
        if (context.request_id or "").startswith("slow"):
            print("handling", context.request_id, flush=True)
            time.sleep(delay)
        return handler(params, context)
    return handle

def named_ping(params, context):
    return {"service": name, "time": "-"}

def slow_handlers(wiring):
    handlers = {**real_handlers(wiring), "ping": named_ping}
    return {method: slowed(handler) for method, handler in handlers.items()}

rpc_worker.rpc_handlers = slow_handlers
from catalog_svc.cli import main
if held:
    sys.stdin.readline()
sys.exit(main(["rpc"]))
"""


class Worker:
    def __init__(self, environ: dict[str, str], log_dir: Path, name: str, delay_s: float, held: bool):
        self.name = name
        self.log_path = log_dir / f"{name}.log"
        self.process = subprocess.Popen(
            [sys.executable, "-c", SLOW_WORKER, str(delay_s), name, "held" if held else "started"],
            env={**os.environ, **environ, "OPTIMIZE_OPERATIONS_PORT": str(free_port())},
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=self.log_path.open("w"), text=True)

    def release(self) -> None:
        self.process.stdin.write("consume\n")
        self.process.stdin.flush()

    def wait_handling(self, request_id: str, timeout_s: float = 10.0) -> None:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            line = self.process.stdout.readline()
            if line.strip() == f"handling {request_id}":
                return
        raise AssertionError(f"{self.name} never started handling {request_id}")

    def logs(self) -> list[dict]:
        return [json.loads(line) for line in self.log_path.read_text().splitlines() if line.startswith("{")]

    def answered(self) -> list[str]:
        return [line["requestId"] for line in self.logs() if line.get("rpcMethod") and line["requestId"]]

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
        self.process.wait()


@pytest.fixture
def workers(environ, tmp_path):
    started: list[Worker] = []

    def start(name: str, delay_s: float = 0.0, held: bool = False) -> Worker:
        worker = Worker(environ, tmp_path, name, delay_s, held)
        started.append(worker)
        return worker

    yield start
    for worker in started:
        worker.stop()


def wait_serving(environ: dict[str, str], name: str, timeout_s: float = 20.0) -> None:
    """Ping until `name` answers (a worker at its prefetch limit gets nothing, so the other one answers)."""
    client = RpcClient(environ["OPTIMIZE_AMQP_URL"], environ["OPTIMIZE_RPC_QUEUE"], timeout_s=1.0)
    deadline = time.monotonic() + timeout_s
    try:
        while time.monotonic() < deadline:
            try:
                if client.call("ping", {})["service"] == name:
                    return
            except Exception:  # noqa: BLE001 - not consuming yet
                time.sleep(0.1)
        raise AssertionError(f"{name} does not answer")
    finally:
        client.close()


def ready_messages(environ: dict[str, str]) -> int:
    connection = pika.BlockingConnection(pika.URLParameters(environ["OPTIMIZE_AMQP_URL"]))
    try:
        queue = connection.channel().queue_declare(environ["OPTIMIZE_RPC_QUEUE"], passive=True)
        return queue.method.message_count
    finally:
        connection.close()


def readiness_in_thread(app, request_id: str) -> dict:
    """GET /readyz of export-svc (one catalog ping over RPC, carrying the request id) in a thread."""
    answer: dict = {}

    def ask():
        response = app.test_client().get("/readyz", headers={"X-Request-Id": request_id})
        answer.update(status=response.status_code, body=response.json, retry_after=response.headers.get(
            "Retry-After"))

    thread = threading.Thread(target=ask)
    thread.start()
    answer["thread"] = thread
    return answer


@pytest.fixture
def export_app(environ):
    # Room for a slow catalog answer: the deadline is not what these tests are about.
    app = create_app(ExportConfig.from_env({**environ, "OPTIMIZE_RPC_TIMEOUT_S": "20"}))
    yield app
    wiring = app.extensions["export"]
    wiring.catalog.close()
    wiring.events.close()
    wiring.mongo.close()


def wait_delivered(environ: dict[str, str]) -> None:
    """Until no request waits in the queue: the one just sent is in a worker's hands or prefetch."""
    time.sleep(0.2)  # the request is published by a thread of ours; give it the moment it needs
    deadline = time.monotonic() + 5
    while ready_messages(environ) and time.monotonic() < deadline:
        time.sleep(0.05)


def test_a_stopped_worker_finishes_the_request_in_hand_and_hands_back_the_prefetched_one(
        environ, workers, export_app):
    environ["OPTIMIZE_RPC_PREFETCH"] = "2"
    first = workers("worker-a", delay_s=2.0)
    second = workers("worker-b", held=True)
    wait_serving(environ, "worker-a")
    in_hand = readiness_in_thread(export_app, "slow-in-hand")
    first.wait_handling("slow-in-hand")
    prefetched = readiness_in_thread(export_app, "slow-prefetched")
    wait_delivered(environ)
    second.release()
    wait_serving(environ, "worker-b")  # worker-a is at its prefetch limit: only worker-b can answer

    first.process.send_signal(signal.SIGTERM)
    for answer in (in_hand, prefetched):
        answer["thread"].join(timeout=10)

    assert in_hand["status"] == prefetched["status"] == 200
    assert first.process.wait(timeout=10) == 0
    assert "slow-in-hand" in first.answered()
    assert "slow-prefetched" in second.answered() and "slow-prefetched" not in first.answered()


def test_a_killed_worker_leaves_the_caller_a_503_or_another_workers_answer(environ, workers):
    environ["OPTIMIZE_RPC_PREFETCH"] = "1"
    app = create_app(ExportConfig.from_env({**environ, "OPTIMIZE_RPC_TIMEOUT_S": "3"}))
    try:
        redelivering = workers("worker-a", delay_s=60.0)
        survivor = workers("worker-b", held=True)
        wait_serving(environ, "worker-a")
        answered = readiness_in_thread(app, "slow-redelivered")
        redelivering.wait_handling("slow-redelivered")
        survivor.release()
        wait_serving(environ, "worker-b")
        redelivering.process.kill()  # the request was never acked: the broker gives it to worker-b
        answered["thread"].join(timeout=10)
        assert answered["status"] == 200
        assert "slow-redelivered" in survivor.answered()

        alone = workers("worker-c", delay_s=60.0)
        survivor.process.send_signal(signal.SIGTERM)
        assert survivor.process.wait(timeout=10) == 0
        wait_serving(environ, "worker-c")
        refused = readiness_in_thread(app, "slow-alone")
        alone.wait_handling("slow-alone")
        alone.process.kill()  # nobody is left to answer: the caller's deadline passes
        refused["thread"].join(timeout=10)
        assert refused["status"] == 503
        assert refused["body"]["errorCode"] == "serviceUnavailable"
        assert refused["retry_after"]
    finally:
        wiring = app.extensions["export"]
        wiring.catalog.close()
        wiring.events.close()
        wiring.mongo.close()


def test_gunicorn_adds_metrics_of_all_workers_and_finishes_the_request_in_flight_on_sigterm(
        environ, workers, tmp_path):
    catalog = workers("worker-a", delay_s=1.5)
    wait_serving(environ, "worker-a")
    port = free_port()
    log_path = tmp_path / "export-svc.log"
    server = subprocess.Popen(
        [str(Path(sys.executable).parent / "export-svc"), "serve"],
        env={**os.environ, **environ, "OPTIMIZE_EXPORT_PORT": str(port), "OPTIMIZE_HTTP_WORKERS": "3",
             "OPTIMIZE_GRACEFUL_TIMEOUT_S": "10", "OPTIMIZE_METRICS_DIR": str(tmp_path / "metrics")},
        stderr=log_path.open("w"))
    try:
        assert wait_for_port("127.0.0.1", port, timeout_s=20)
        base = f"http://127.0.0.1:{port}"
        for _ in range(24):
            with pytest.raises(urllib.error.HTTPError):
                urllib.request.urlopen(f"{base}/no-such-path", timeout=5)
        with urllib.request.urlopen(f"{base}/metrics", timeout=5) as response:
            metrics = response.read().decode()
        assert ('optimize_http_requests_total{method="GET",route="<unmatched>",service="export-svc",'
                'status="404"} 24.0') in metrics

        answer: dict = {}

        def slow_request():
            request = urllib.request.Request(f"{base}/readyz", headers={"X-Request-Id": "slow-in-flight"})
            with urllib.request.urlopen(request, timeout=15) as response:
                answer["status"] = response.status

        thread = threading.Thread(target=slow_request)
        thread.start()
        catalog.wait_handling("slow-in-flight")
        server.send_signal(signal.SIGTERM)
        thread.join(timeout=15)
        assert answer == {"status": 200}
        assert server.wait(timeout=15) == 0
        lines = [json.loads(line) for line in log_path.read_text().splitlines() if line.startswith("{")]
        served_by = {line["pid"] for line in lines if line.get("path") == "/no-such-path"}
        assert served_by, "every request leaves a JSON log line with the worker's pid"
        assert not list((tmp_path / "metrics").iterdir()), "the metrics directory goes with the server"
    finally:
        if server.poll() is None:
            server.kill()
            server.wait()
