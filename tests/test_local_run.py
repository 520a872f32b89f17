"""`make run` as a user runs it: everything comes up behind gunicorn, a process that dies is restarted,
and SIGTERM leaves nothing behind."""

import json
import os
import re
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from optimize_runtime.infra.ports import free_port, port_answers
from optimize_testing.pytest_plugin import REAL_OPTIMIZE_EXPORT

BIN = Path(sys.executable).parent


def _get(url: str, headers: dict | None = None, body: bytes | None = None,
         timeout_s: float = 5) -> tuple[int, dict]:
    request = urllib.request.Request(url, headers=headers or {}, data=body)
    try:
        with urllib.request.urlopen(request, timeout=timeout_s) as response:
            return response.status, json.loads(response.read() or b"{}")
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read() or b"{}")


def _four_free_ports() -> int:
    """The first of four free ports in a row: make run gives the worker, the relays and the consumer
    OPTIMIZE_OPERATIONS_PORT plus 0 to 3."""
    for _ in range(50):
        base = free_port()
        if base < 65532 and not any(port_answers("127.0.0.1", base + offset) for offset in range(1, 4)):
            return base
    raise AssertionError("no four free ports in a row")


def _ready(url: str) -> bool:
    try:
        return _get(url)[0] == 200
    except OSError:
        return False


def _child(parent: int, command: tuple[str, str], wait_s: float = 10) -> int:
    """The pid of make run's child running `command`, waiting up to `wait_s` for one (under load the
    supervisor may be between a child's exit and its restart)."""
    deadline = time.monotonic() + wait_s
    while (pid := _child_now(parent, command)) is None:
        if time.monotonic() > deadline:
            raise AssertionError(f"make run has no child running {' '.join(command)}")
        time.sleep(0.1)
    return pid


def _child_now(parent: int, command: tuple[str, str]) -> int | None:
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            if int(stat.read_text().rsplit(")", 1)[1].split()[1]) != parent:
                continue
            argv = (stat.parent / "cmdline").read_bytes().split(b"\0")
        except (OSError, ValueError, IndexError):
            continue
        words = [Path(word.decode(errors="replace")).name for word in argv]
        if any(words[i:i + 2] == list(command) for i in range(len(words) - 1)):  # python, script, command
            return int(stat.parent.name)
    return None


def _pids(output: str) -> dict[str, list[int]]:
    """Every pid the supervisor said it started, per process name, in order."""
    started: dict[str, list[int]] = {}
    for name, pid in re.findall(r"started (\S+) \(pid (\d+)\)", output):
        started.setdefault(name, []).append(int(pid))
    return started


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return Path(f"/proc/{pid}/stat").exists() and Path(f"/proc/{pid}/stat").read_text().split()[2] != "Z"


def test_local_installation_comes_up_restarts_a_dead_worker_and_stops_on_sigterm(tmp_path, amqp_url):
    operations = _four_free_ports()
    # The other ports never fall among the relays' operations ports.
    free = (port for port in iter(free_port, None) if not operations <= port < operations + 4)
    ports = {"OPTIMIZE_CATALOG_PORT": next(free), "OPTIMIZE_EXPORT_PORT": next(free),
             "OPTIMIZE_IMPORT_PORT": next(free), "OPTIMIZE_MONGODB_PORT": next(free),
             "OPTIMIZE_OPERATIONS_PORT": operations, "OPTIMIZE_GATEWAY_PORT": next(free)}
    not_ready = []
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
        while time.monotonic() < deadline and len(ready) < 4:
            for var in ("OPTIMIZE_CATALOG_PORT", "OPTIMIZE_EXPORT_PORT", "OPTIMIZE_IMPORT_PORT",
                        "OPTIMIZE_GATEWAY_PORT"):
                try:
                    if _get(f"http://127.0.0.1:{ports[var]}/readyz")[0] == 200:
                        ready.add(var)
                except OSError:
                    pass
            time.sleep(0.5)
        assert len(ready) == 4, "not every service (and the gateway) answered /readyz 200 within 60 s"
        while "Ctrl-C stops everything" not in started and (line := process.stdout.readline()):
            started += line
        assert f"OPTIMIZE_DATA_DIR={env['OPTIMIZE_DATA_DIR']} make token USER=demo" in started
        gateway = f"http://127.0.0.1:{ports['OPTIMIZE_GATEWAY_PORT']}"
        assert f"console      {gateway}/console/" in started
        data_dir = env["OPTIMIZE_DATA_DIR"]
        assert (f"export OPTIMIZE_URL={gateway} OPTIMIZE_TOKEN=$(OPTIMIZE_DATA_DIR={data_dir} "
                "make -s token USER=demo)") in started

        token = subprocess.run([str(BIN / "optimize-local"), "token", "demo"], env=env, capture_output=True,
                               text=True, check=True).stdout.strip()
        status, body = _get(f"http://127.0.0.1:{ports['OPTIMIZE_EXPORT_PORT']}/api/entities",
                            {"Authorization": f"Bearer {token}"})
        assert status == 200, body
        status, body = _get(f"http://127.0.0.1:{ports['OPTIMIZE_EXPORT_PORT']}/api/entities")
        assert (status, body["errorCode"]) == (401, "unauthorizedError")
        status, body = _get(f"{gateway}/api/collection/demo-collection", {"Authorization": f"Bearer {token}"})
        assert (status, body["name"]) == (200, "Demo collection"), "the gateway reaches the catalog"

        # The catalog RPC worker, import-svc's gunicorn master, the relays and the consumer die: each is
        # started again, and imports (which need the first two) are served again.
        for command in (("catalog-svc", "rpc"), ("import-svc", "serve"), ("import-svc", "relay"),
                        ("catalog-svc", "relay"), ("import-svc", "consume")):
            os.kill(_child(process.pid, command), signal.SIGKILL)
        killed_at = time.monotonic()
        import_url = f"http://127.0.0.1:{ports['OPTIMIZE_IMPORT_PORT']}/api/import?collectionId=demo-collection"
        headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
        statuses = []
        while time.monotonic() - killed_at < 10:
            try:
                status, body = _get(import_url, headers, REAL_OPTIMIZE_EXPORT.read_bytes(), timeout_s=15)
            except OSError as error:  # import-svc itself is being restarted
                status = type(error).__name__
            statuses.append(status)
            if status == 200:
                break
            time.sleep(0.2)
        served_after_s = time.monotonic() - killed_at
        assert statuses[-1] == 200, f"imports not served within 10 s of the kill: {statuses}"
        assert {entity["entityType"] for entity in body} == {"report", "dashboard"}
        print(f"imports served again {served_after_s:.1f} s after the kills ({statuses})")
        operations = [ports["OPTIMIZE_OPERATIONS_PORT"] + offset for offset in range(4)]
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and not all(
                _ready(f"http://127.0.0.1:{port}/readyz") for port in operations):
            time.sleep(0.2)
        not_ready = [port for port in operations if not _ready(f"http://127.0.0.1:{port}/readyz")]
    finally:
        process.send_signal(signal.SIGTERM)
        stopped_at = time.monotonic()
        output, _ = process.communicate(timeout=30)
        output = started + output
    listened = [*ports.values(), *(ports["OPTIMIZE_OPERATIONS_PORT"] + offset for offset in range(1, 4))]
    still_open = [p for p in listened if port_answers("127.0.0.1", p)]
    deadline = stopped_at + 10
    while still_open and time.monotonic() < deadline:
        time.sleep(0.2)
        still_open = [p for p in listened if port_answers("127.0.0.1", p)]
    assert still_open == [], f"ports still open 10 s after SIGTERM: {still_open}\n{output[-2000:]}"
    assert not_ready == [], f"the worker, the relays and the consumer answer /readyz again\n{output[-3000:]}"
    pids = _pids(output)
    for name in ("catalog-rpc", "import-svc", "import-relay", "catalog-relay", "import-consumer"):
        assert len(pids[name]) >= 2, f"the killed {name} was started once more"
        assert re.search(name + r" \(pid \d+\) exited with code -9; restarting it in", output)
    assert len(pids["export-svc"]) == 1
    left = [pid for started_pids in pids.values() for pid in started_pids if _alive(pid)]
    assert left == [], "every process make run started is gone"
    json_lines = [json.loads(line) for line in output.splitlines() if line.startswith("{")]
    errors = [line for line in json_lines if line["level"] == "ERROR"]
    assert errors == [], "a start, a restart and a stop log no error"
    assert not (tmp_path / "home" / ".gunicorn").exists(), "no gunicorn control socket shared by the services"


def test_make_run_logs_plain_lines_on_a_terminal_and_json_otherwise(tmp_path):
    """What `make run` gives its children: text when its stderr is a terminal, unless configured."""
    import pty

    script = ("from optimize_runtime.infra.local_run import development_environ; "
              "import sys; print(development_environ().get('OPTIMIZE_LOG_FORMAT', 'json'))")
    env = {k: v for k, v in os.environ.items() if not k.startswith("OPTIMIZE_")}
    env["OPTIMIZE_DATA_DIR"] = str(tmp_path)

    def log_format(extra: dict[str, str], terminal: bool) -> str:
        leader, follower = pty.openpty()
        try:
            stderr = follower if terminal else subprocess.DEVNULL
            return subprocess.run([sys.executable, "-c", script], env={**env, **extra}, stderr=stderr,
                                  capture_output=False, stdout=subprocess.PIPE, text=True,
                                  check=True).stdout.strip()
        finally:
            os.close(leader)
            os.close(follower)

    assert log_format({}, terminal=True) == "text"
    assert log_format({}, terminal=False) == "json"
    assert log_format({"OPTIMIZE_LOG_FORMAT": "json"}, terminal=True) == "json"
