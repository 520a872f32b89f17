"""`make run` as a user runs it: everything comes up behind gunicorn, and SIGTERM leaves nothing behind."""

import json
import os
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from optimize_runtime.infra.ports import free_port, port_answers

BIN = Path(sys.executable).parent


def _get(url: str, headers: dict | None = None) -> tuple[int, dict]:
    request = urllib.request.Request(url, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=5) as response:
            return response.status, json.loads(response.read() or b"{}")
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read() or b"{}")


def test_local_installation_comes_up_ready_and_stops_on_sigterm(tmp_path, amqp_url):
    ports = {"OPTIMIZE_CATALOG_PORT": free_port(), "OPTIMIZE_EXPORT_PORT": free_port(),
             "OPTIMIZE_IMPORT_PORT": free_port(), "OPTIMIZE_MONGODB_PORT": free_port(),
             "OPTIMIZE_OPERATIONS_PORT": free_port()}
    env = {k: v for k, v in os.environ.items() if not k.startswith("OPTIMIZE_")}
    env.update({k: str(v) for k, v in ports.items()})
    env.update(OPTIMIZE_DATA_DIR=str(tmp_path / "data"), OPTIMIZE_AMQP_URL=amqp_url,
               OPTIMIZE_RPC_QUEUE=f"local-run-{os.getpid()}.catalog.rpc", OPTIMIZE_HTTP_WORKERS="1",
               HOME=str(tmp_path / "home"))
    started = ""
    process = subprocess.Popen([str(BIN / "optimize-local"), "run"], env=env, stdout=subprocess.PIPE,
                               stderr=subprocess.STDOUT, text=True)
    try:
        deadline = time.monotonic() + 60
        ready = set()
        while time.monotonic() < deadline and len(ready) < 3:
            for var in ("OPTIMIZE_CATALOG_PORT", "OPTIMIZE_EXPORT_PORT", "OPTIMIZE_IMPORT_PORT"):
                try:
                    if _get(f"http://127.0.0.1:{ports[var]}/readyz")[0] == 200:
                        ready.add(var)
                except OSError:
                    pass
            time.sleep(0.5)
        assert len(ready) == 3, "not every service answered /readyz 200 within 60 s"
        while "Ctrl-C stops everything" not in started and (line := process.stdout.readline()):
            started += line
        assert f"OPTIMIZE_DATA_DIR={env['OPTIMIZE_DATA_DIR']} make token USER=demo" in started

        token = subprocess.run([str(BIN / "optimize-local"), "token", "demo"], env=env, capture_output=True,
                               text=True, check=True).stdout.strip()
        status, body = _get(f"http://127.0.0.1:{ports['OPTIMIZE_EXPORT_PORT']}/api/entities",
                            {"Authorization": f"Bearer {token}"})
        assert status == 200, body
        status, body = _get(f"http://127.0.0.1:{ports['OPTIMIZE_EXPORT_PORT']}/api/entities")
        assert (status, body["errorCode"]) == (401, "unauthorizedError")
    finally:
        process.send_signal(signal.SIGTERM)
        stopped_at = time.monotonic()
        output, _ = process.communicate(timeout=30)
        output = started + output
    still_open = [p for p in ports.values() if port_answers("127.0.0.1", p)]
    deadline = stopped_at + 10
    while still_open and time.monotonic() < deadline:
        time.sleep(0.2)
        still_open = [p for p in ports.values() if port_answers("127.0.0.1", p)]
    assert still_open == [], f"ports still open 10 s after SIGTERM: {still_open}\n{output[-2000:]}"
    json_lines = [json.loads(line) for line in output.splitlines() if line.startswith("{")]
    errors = [line for line in json_lines if line["level"] == "ERROR"]
    assert errors == [], "a clean start and stop logs no error"
    assert not (tmp_path / "home" / ".gunicorn").exists(), "no gunicorn control socket shared by the services"
