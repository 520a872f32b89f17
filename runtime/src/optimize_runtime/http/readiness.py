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


# Shorter than a readiness probe's timeout: a silent catalog is answered as 503, not as a probe timeout.
READINESS_RPC_DEADLINE_S = 2.0


def catalog_check(rpc_client) -> ReadinessCheck:
    """One catalog RPC round trip: proves RabbitMQ and a running catalog worker at once."""
    deadline_s = min(READINESS_RPC_DEADLINE_S, rpc_client.timeout_s)
    return ReadinessCheck("catalog", lambda: rpc_client.call("ping", {}, timeout_s=deadline_s))
