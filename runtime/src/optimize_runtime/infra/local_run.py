"""`make run`: everything on one machine. Starts what is missing (RabbitMQ, the embedded MongoDB-protocol
server), the three services, the catalog RPC worker, the outbox relays and import-svc's event consumer,
restarts any of them that dies (with a back-off), and stops all it started on Ctrl-C or SIGTERM."""

import logging
import os
import secrets
import shlex
import signal
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

from optimize_runtime.identity import issue_token
from optimize_runtime.infra.mongodb import EmbeddedMongo
from optimize_runtime.infra.ports import port_answers
from optimize_runtime.infra.rabbitmq import DEFAULT_AMQP_URL, ensure_rabbitmq

log = logging.getLogger("optimize.local")

SERVICES = (
    # name, command, port variable, default port
    ("catalog-svc", ["catalog-svc", "serve"], "OPTIMIZE_CATALOG_PORT", 8081),
    ("catalog-rpc", ["catalog-svc", "rpc"], None, None),
    ("export-svc", ["export-svc", "serve"], "OPTIMIZE_EXPORT_PORT", 8082),
    ("import-svc", ["import-svc", "serve"], "OPTIMIZE_IMPORT_PORT", 8083),
    # One origin for a browser (the console) and the command line, routing as the cluster's Gateway does.
    ("gateway", ["optimize-local", "gateway"], "OPTIMIZE_GATEWAY_PORT", 8090),
    ("catalog-relay", ["catalog-svc", "relay"], None, None),
    ("import-relay", ["import-svc", "relay"], None, None),
    ("import-consumer", ["import-svc", "consume"], None, None),
)
# The processes without an HTTP API of their own serve /healthz, /readyz and /metrics on
# OPTIMIZE_OPERATIONS_PORT (9464) plus this offset.
OPERATIONS_PORT_OFFSET = {"catalog-rpc": 0, "catalog-relay": 1, "import-relay": 2, "import-consumer": 3}
# A child that dies is started again after this back-off, doubled at each death in a row up to the most;
# a child that stayed up for RESTART_RESET_S starts over from the first.
RESTART_BACKOFF_S = 0.5
RESTART_BACKOFF_MAX_S = 30.0
RESTART_RESET_S = 60.0


def development_secret(data_dir: Path, name: str) -> str:
    """A secret generated once into the data directory, for development only."""
    path = data_dir / name
    if path.exists():
        return path.read_text().strip()
    data_dir.mkdir(parents=True, exist_ok=True)
    value = secrets.token_urlsafe(32)
    path.write_text(value)
    path.chmod(0o600)
    return value


def development_environ(environ: dict[str, str] | None = None) -> dict[str, str]:
    env = dict(os.environ if environ is None else environ)
    env.setdefault("OPTIMIZE_ENV", "development")
    data_dir = Path(env.setdefault("OPTIMIZE_DATA_DIR", ".data")).resolve()
    env["OPTIMIZE_DATA_DIR"] = str(data_dir)
    env.setdefault("OPTIMIZE_AMQP_URL", DEFAULT_AMQP_URL)
    if not env.get("OPTIMIZE_AUTH_JWT_SECRET") and not env.get("OPTIMIZE_AUTH_JWKS_URL"):
        env["OPTIMIZE_AUTH_JWT_SECRET"] = development_secret(data_dir, "jwt-secret")
    if not env.get("OPTIMIZE_API_ACCESS_TOKEN"):
        env["OPTIMIZE_API_ACCESS_TOKEN"] = development_secret(data_dir, "api-access-token")
    env.setdefault("OPTIMIZE_AUTH_SUPERUSER_IDS", "demo")
    env.setdefault("OPTIMIZE_GRACEFUL_TIMEOUT_S", "5")
    if "OPTIMIZE_LOG_FORMAT" not in env and sys.stderr.isatty():
        env["OPTIMIZE_LOG_FORMAT"] = "text"  # a person reads the terminal; a collector gets JSON
    return env


@dataclass
class _Restarts:
    backoff_s: float = RESTART_BACKOFF_S
    count: int = 0
    started_at: float = field(default_factory=time.monotonic)
    due: float | None = None  # when a dead child is started again


def _kill_group(pid: int) -> None:
    try:
        os.killpg(pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass


@dataclass
class LocalInstallation:
    env: dict[str, str]
    bin_dir: Path = field(default_factory=lambda: Path(sys.executable).parent)
    children: dict[str, subprocess.Popen] = field(default_factory=dict)
    mongo: EmbeddedMongo | None = None
    broker = None
    _restarts: dict[str, "_Restarts"] = field(default_factory=dict)

    def start(self) -> None:
        self.broker = ensure_rabbitmq(self.env["OPTIMIZE_AMQP_URL"])
        if not self.env.get("OPTIMIZE_MONGODB_URI"):
            data_dir = Path(self.env["OPTIMIZE_DATA_DIR"]) / "mongodb"
            port = int(self.env.get("OPTIMIZE_MONGODB_PORT", "0"))
            self.mongo = EmbeddedMongo(data_dir, port=port).start()
            self.env["OPTIMIZE_MONGODB_URI"] = self.mongo.uri
            self.env["OPTIMIZE_MONGODB_EMBEDDED"] = "1"
            log.info("embedded MongoDB-protocol server (nx-27017) on %s, data in %s",
                     self.mongo.uri, data_dir)
        self._seed_demo()
        for name, command, _, _ in SERVICES:
            self.children[name] = self._spawn(name, command)
        self._restarts = {name: _Restarts() for name in self.children}

    def _spawn(self, name: str, command: list[str]) -> subprocess.Popen:
        # Its own session and process group: stopping it stops its gunicorn workers too.
        env = dict(self.env)
        if name in OPERATIONS_PORT_OFFSET:
            base = int(self.env.get("OPTIMIZE_OPERATIONS_PORT", "9464"))
            env["OPTIMIZE_OPERATIONS_PORT"] = str(base + OPERATIONS_PORT_OFFSET[name])
        child = subprocess.Popen([str(self.bin_dir / command[0]), *command[1:]], env=env,
                                 start_new_session=True)
        log.info("started %s (pid %s)", name, child.pid)
        return child

    def supervise(self, now: float | None = None) -> None:
        """Restarts every child that died, each after its back-off; call it often."""
        now = time.monotonic() if now is None else now
        commands = {name: command for name, command, _, _ in SERVICES}
        for name, child in self.children.items():
            restarts = self._restarts[name]
            if child.poll() is None:
                if restarts.due is None and now - restarts.started_at >= RESTART_RESET_S:
                    restarts.backoff_s = RESTART_BACKOFF_S
                continue
            if restarts.due is None:
                _kill_group(child.pid)  # what the dead leader left (gunicorn workers) must free the port
                restarts.due = now + restarts.backoff_s
                restarts.count += 1
                log.warning("%s (pid %s) exited with code %s; restarting it in %.1f s (restart %d)",
                            name, child.pid, child.returncode, restarts.backoff_s, restarts.count)
            elif now >= restarts.due:
                self.children[name] = self._spawn(name, commands[name])
                restarts.due, restarts.started_at = None, now
                restarts.backoff_s = min(restarts.backoff_s * 2, RESTART_BACKOFF_MAX_S)

    def _seed_demo(self) -> None:
        if self.env.get("OPTIMIZE_DEMO_SEED", "1") == "0":
            return
        result = subprocess.run([str(self.bin_dir / "catalog-svc"), "seed", "--demo"], env=self.env,
                                capture_output=True, text=True)
        if result.returncode != 0:
            log.warning("demo seed failed: %s", result.stderr.strip()[-500:])
        else:
            log.info("%s", result.stdout.strip())

    def urls(self) -> dict[str, str]:
        return {name: f"http://127.0.0.1:{self.env.get(var, str(port))}"
                for name, _, var, port in SERVICES if var}

    def wait_ready(self, timeout_s: float = 60.0) -> bool:
        deadline = time.monotonic() + timeout_s
        pending = dict(self.urls())
        while pending and time.monotonic() < deadline:
            for name, url in list(pending.items()):
                try:
                    with urllib.request.urlopen(f"{url}/readyz", timeout=3) as response:
                        if response.status == 200:
                            del pending[name]
                except OSError:
                    pass
            self.supervise()
            time.sleep(0.5)
        return not pending

    def restarted(self) -> dict[str, int]:
        """How often each child was restarted so far."""
        return {name: restarts.count for name, restarts in self._restarts.items() if restarts.count}

    def stop(self, timeout_s: float = 7.0) -> None:
        for child in self.children.values():
            if child.poll() is None:
                os.killpg(child.pid, signal.SIGTERM)
        deadline = time.monotonic() + timeout_s
        for child in self.children.values():
            try:
                child.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                pass
            _kill_group(child.pid)  # the leader, if it did not stop, and anything it left behind
            child.wait()
        if self.mongo:
            self.mongo.stop(timeout_s=2)
        if self.broker:
            self.broker.stop()


def run() -> int:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    logging.getLogger("pika").setLevel(logging.WARNING)
    env = development_environ()
    for name, _, var, port in SERVICES:
        if var and port_answers("127.0.0.1", int(env.get(var, str(port)))):
            log.error("port %s for %s is taken; set %s to another port", env.get(var, port), name, var)
            return 1
    installation = LocalInstallation(env)
    stopping = False

    def request_stop(signum, frame):
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGTERM, request_stop)
    signal.signal(signal.SIGINT, request_stop)
    signal.signal(signal.SIGHUP, request_stop)
    parent = os.getppid()
    try:
        installation.start()
        if installation.wait_ready():
            print(banner(installation.urls()), flush=True)
            print("Ctrl-C stops everything.\n", flush=True)
        else:
            log.error("not every service became ready within 60 s; still trying (restarted: %s)",
                      installation.restarted())
        # Our parent (make) may be killed without passing the signal on: stop with it.
        while not stopping and os.getppid() == parent:
            installation.supervise()
            time.sleep(0.3)
    finally:
        installation.stop()
        log.info("stopped")
    return 0


def banner(urls: dict[str, str]) -> str:
    # The token is signed with the secret in the data directory: a shell without it gets a 401.
    data_dir = os.environ.get("OPTIMIZE_DATA_DIR")
    make = f"OPTIMIZE_DATA_DIR={shlex.quote(data_dir)} make" if data_dir else "make"
    gateway = urls["gateway"]
    services = "\n".join(f"  {name:<12} {url}   (API docs: {url}/docs)"
                         for name, url in urls.items() if name != "gateway")
    return (f"\nOptimize export/import is running:\n"
            f"  console      {gateway}/console/   (sign in with a token, see below)\n"
            f"  gateway      {gateway}   (every API on one origin)\n{services}\n"
            f"\nA token for the superuser 'demo':  {make} token USER=demo\n"
            f"For the command line, paste:\n"
            f"  export OPTIMIZE_URL={gateway} OPTIMIZE_TOKEN=$({make} -s token USER=demo)\n"
            f"  .venv/bin/optimize-transfer list")


def token(user: str, groups: list[str]) -> int:
    env = development_environ()
    print(issue_token(env["OPTIMIZE_AUTH_JWT_SECRET"], user, groups))
    return 0
