"""Find a RabbitMQ broker, or start (and if need be install) one on this machine."""

import logging
import os
import shutil
import subprocess
import time
from dataclasses import dataclass
from urllib.parse import urlparse

import pika

from optimize_runtime.infra.ports import port_answers

log = logging.getLogger(__name__)

DEFAULT_AMQP_URL = "amqp://guest:guest@127.0.0.1:5672/%2F"


@dataclass
class RabbitBroker:
    url: str
    started_here: bool

    def stop(self) -> None:
        if self.started_here and shutil.which("rabbitmqctl"):
            subprocess.run(["rabbitmqctl", "stop"], capture_output=True, timeout=60)


def broker_answers(url: str) -> bool:
    parsed = urlparse(url)
    if not port_answers(parsed.hostname or "127.0.0.1", parsed.port or 5672):
        return False
    try:
        pika.BlockingConnection(pika.URLParameters(url)).close()
        return True
    except Exception:  # noqa: BLE001 - any failure means "not usable"
        return False


def ensure_rabbitmq(url: str = DEFAULT_AMQP_URL, timeout_s: float = 90.0) -> RabbitBroker:
    """Use the broker at `url`; if none answers and it is local, start rabbitmq-server (installing it
    with apt when we are root and it is missing)."""
    if broker_answers(url):
        return RabbitBroker(url, started_here=False)
    host = urlparse(url).hostname
    if host not in ("127.0.0.1", "localhost"):
        raise RuntimeError(f"RabbitMQ at {url} does not answer")
    if not shutil.which("rabbitmq-server"):
        _install_rabbitmq()
    log.warning("no RabbitMQ answers at %s: starting rabbitmq-server", url)
    subprocess.run(["rabbitmq-server", "-detached"], env=_loopback_only_environ(), check=False,
                   capture_output=True)
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if broker_answers(url):
            return RabbitBroker(url, started_here=True)
        time.sleep(1)
    raise RuntimeError(f"started rabbitmq-server but {url} did not answer within {timeout_s:.0f} s")


def _loopback_only_environ() -> dict[str, str]:
    """A broker we start listens on the loopback interface only: AMQP, epmd and Erlang distribution."""
    return {
        **os.environ,
        "RABBITMQ_NODE_IP_ADDRESS": "127.0.0.1",
        "ERL_EPMD_ADDRESS": "127.0.0.1",
        "RABBITMQ_SERVER_ADDITIONAL_ERL_ARGS": "-kernel inet_dist_use_interface {127,0,0,1}",
    }


def _install_rabbitmq() -> None:
    if os.geteuid() != 0 or not shutil.which("apt-get"):
        raise RuntimeError(
            "RabbitMQ is not installed and cannot be installed here (needs root and apt-get); "
            "install rabbitmq-server or set OPTIMIZE_AMQP_URL"
        )
    log.warning("installing rabbitmq-server with apt-get")
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    subprocess.run(["apt-get", "update", "-q"], check=True, env=env)
    subprocess.run(["apt-get", "install", "-y", "-q", "rabbitmq-server"], check=True, env=env)
