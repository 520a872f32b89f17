"""Another service called over RPC, with the one rule for what a caller answers when the call fails.

- No answer in time, nobody serving the queue, the broker unreachable, or the other service answering
  with an error of its own (its store down, say): a retry can fix it, so 503 `serviceUnavailable` with
  `Retry-After`, and nothing was done.
- A message that breaks the contract (params or result not as the contract says, an unknown method, another
  contract version), on either side: the same call would fail again, so 500 `serverError`, logged with the
  request id.
"""

import logging
from collections.abc import Callable
from typing import Any

from contracts.errors import ErrorCode, ServiceError, service_unavailable
from contracts.rpc import CONTRACT_VERSION_MISMATCH, INVALID_RPC_MESSAGE, UNKNOWN_METHOD
from optimize_runtime.messaging.errors import RpcError, RpcTimeout, RpcUnavailable
from optimize_runtime.messaging.rpc_client import RpcClient
from optimize_runtime.observability.context import current_request_id

log = logging.getLogger(__name__)

CONTRACT_BREACHES = frozenset({INVALID_RPC_MESSAGE, UNKNOWN_METHOD, CONTRACT_VERSION_MISMATCH})
RETRY_AFTER_S = 5


class RemoteService:
    """Calls `name` (as users read it: "catalog") through `rpc`; every failure becomes the rule's answer."""

    def __init__(self, name: str, rpc: RpcClient) -> None:
        self.name = name
        self.rpc = rpc

    def call(self, method: str, params: dict[str, Any], *, not_done: str | None = None,
             meanwhile: Callable[[], None] | None = None) -> dict[str, Any]:
        """The result of `method`, checked against the contract. `not_done` says what did not happen when
        the call fails (for example "nothing was imported"). `meanwhile()`: run while the reply is on its
        way (`RpcClient.call`)."""
        try:
            return self.rpc.call(method, params, meanwhile=meanwhile)
        except (RpcTimeout, RpcUnavailable) as error:
            log.warning("%s %s: %s", self.name, method, error)
            raise service_unavailable(_sentence(f"The {self.name} did not answer in time", not_done),
                                      str(error), retry_after_s=RETRY_AFTER_S) from error
        except RpcError as error:
            if error.code in CONTRACT_BREACHES:
                log.error("%s %s broke the RPC contract: %s", self.name, method, error)
                raise ServiceError(ErrorCode.SERVER_ERROR, _sentence(f"The {self.name} could not answer",
                                                                     not_done),
                                   f"{method} failed with {error.code}", requestId=current_request_id()) \
                    from error
            log.warning("%s %s answered an error: %s", self.name, method, error)
            raise service_unavailable(_sentence(f"The {self.name} could not answer ({error.code})", not_done),
                                      f"{method} failed with {error.code}: {error.message}",
                                      retry_after_s=RETRY_AFTER_S) from error

    def close(self) -> None:
        self.rpc.close()


def _sentence(what_failed: str, not_done: str | None) -> str:
    return f"{what_failed}; {not_done}. Try again later." if not_done else f"{what_failed}. Try again later."
