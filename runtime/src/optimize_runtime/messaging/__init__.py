"""RabbitMQ messaging every service uses: RPC between services and events for others to consume."""

from optimize_runtime.messaging.errors import (
    EventPublishFailed,
    MessagingError,
    RemoteError,
    RpcError,
    RpcTimeout,
    RpcUnavailable,
)
from optimize_runtime.messaging.event_publisher import EventPublisher
from optimize_runtime.messaging.remote_service import RemoteService
from optimize_runtime.messaging.rpc_client import RpcClient
from optimize_runtime.messaging.rpc_server import RpcContext, RpcHandler, RpcServer

__all__ = [
    "EventPublishFailed",
    "EventPublisher",
    "MessagingError",
    "RemoteError",
    "RemoteService",
    "RpcClient",
    "RpcContext",
    "RpcError",
    "RpcHandler",
    "RpcServer",
    "RpcTimeout",
    "RpcUnavailable",
]
