"""Readiness probes shared by the services."""

from pymongo import MongoClient

from optimize_runtime.http.app import ReadinessCheck
from optimize_runtime.infra.rabbitmq import broker_answers


def mongodb_check(client: MongoClient) -> ReadinessCheck:
    return ReadinessCheck("mongodb", lambda: client.admin.command("ping"))


def rabbitmq_check(amqp_url: str) -> ReadinessCheck:
    def probe() -> None:
        if not broker_answers(amqp_url):
            raise ConnectionError("RabbitMQ does not answer")
    return ReadinessCheck("rabbitmq", probe)


def catalog_check(rpc_client) -> ReadinessCheck:
    """One catalog RPC round trip: proves RabbitMQ and a running catalog worker at once."""
    return ReadinessCheck("catalog", lambda: rpc_client.call("ping", {}))
