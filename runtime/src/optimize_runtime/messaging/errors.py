"""What a caller of the messaging layer can see go wrong."""

from typing import Any

from contracts.rpc import RpcError


class MessagingError(Exception):
    """The broker or the other side could not do what was asked."""


class RpcUnavailable(MessagingError):
    """The request could not be delivered: the broker is unreachable, or no server consumes the queue."""


class RpcTimeout(MessagingError):
    """The request was delivered but no reply came before the deadline."""


class RemoteError(RpcError):
    """The server answered with an error; code, message and details are as it sent them."""

    def __init__(self, code: str, message: str, details: dict[str, Any] | None = None):
        super().__init__(code, message, details)


class EventPublishFailed(MessagingError):
    """The broker did not confirm an event, or could not be reached."""


__all__ = ["EventPublishFailed", "MessagingError", "RemoteError", "RpcError", "RpcTimeout", "RpcUnavailable"]
