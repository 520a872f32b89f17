"""Where the tests find their servers, in this order: OPTIMIZE_MONGODB_URI / OPTIMIZE_AMQP_URL when set;
testcontainers where a Docker engine answers; otherwise local processes started (and stopped) here."""

import logging
import os
import tempfile
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path

from optimize_runtime.infra.mongodb import EmbeddedMongo
from optimize_runtime.infra.rabbitmq import DEFAULT_AMQP_URL, ensure_rabbitmq

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class TestServers:
    __test__ = False  # not a pytest test class

    mongodb_uri: str
    mongodb_embedded: bool
    amqp_url: str
    data_dir: Path


def docker_answers() -> bool:
    try:
        import docker

        docker.from_env(timeout=2).ping()
        return True
    except Exception:  # noqa: BLE001 - no engine, no socket, no package: all mean "no Docker"
        return False


def start_test_servers(stack: ExitStack) -> TestServers:
    data_dir = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="optimize-test-")))
    mongodb_uri = os.environ.get("OPTIMIZE_MONGODB_URI")
    amqp_url = os.environ.get("OPTIMIZE_AMQP_URL")
    use_docker = (not mongodb_uri or not amqp_url) and docker_answers()
    embedded = False
    if not mongodb_uri:
        if use_docker:
            mongodb_uri = _mongodb_container(stack)
        else:
            server = EmbeddedMongo(data_dir / "mongodb").start()
            stack.callback(server.stop)
            mongodb_uri, embedded = server.uri, True
    if not amqp_url:
        if use_docker:
            amqp_url = _rabbitmq_container(stack)
        else:
            broker = ensure_rabbitmq(DEFAULT_AMQP_URL)
            stack.callback(broker.stop)
            amqp_url = broker.url
    return TestServers(mongodb_uri, embedded, amqp_url, data_dir)


def _mongodb_container(stack: ExitStack) -> str:
    """MongoDB 7 as a single-node replica set, so that transactions work."""
    from pymongo import MongoClient
    from testcontainers.core.container import DockerContainer
    from testcontainers.core.waiting_utils import wait_for_logs

    container = (DockerContainer("mongo:7").with_command("--replSet rs0 --bind_ip_all")
                 .with_exposed_ports(27017))
    stack.enter_context(container)
    wait_for_logs(container, "Waiting for connections", timeout=60)
    host, port = container.get_container_host_ip(), container.get_exposed_port(27017)
    with MongoClient(host, int(port), directConnection=True) as client:
        members = [{"_id": 0, "host": "localhost:27017"}]
        client.admin.command("replSetInitiate", {"_id": "rs0", "members": members})
    return f"mongodb://{host}:{port}/?directConnection=true"


def _rabbitmq_container(stack: ExitStack) -> str:
    from testcontainers.rabbitmq import RabbitMqContainer

    container = stack.enter_context(RabbitMqContainer("rabbitmq:3.13-management"))
    host, port = container.get_container_host_ip(), container.get_exposed_port(5672)
    return f"amqp://guest:guest@{host}:{port}/%2F"
