"""The catalog's RPC methods export-svc calls, and the catalog's failures as answers to the user."""

import logging

import contracts.catalog_rpc  # noqa: F401 - registers check_export and collection_access in this process
from contracts.errors import ErrorCode, ServiceError, service_unavailable
from optimize_runtime.identity import Identity
from optimize_runtime.messaging import RpcClient, RpcError, RpcTimeout, RpcUnavailable

log = logging.getLogger(__name__)


class ExportCatalog:
    def __init__(self, rpc: RpcClient) -> None:
        self._rpc = rpc

    def collection_access(self, user: Identity, collection_ids: list[str] | None) -> dict[str, dict]:
        """What the catalog says about these collections for the user (None: every collection the user
        has a role in), by id: `{id, exists, name, role}`."""
        result = self._call("collection_access",
                            {"user": user.as_rpc_user(), "collectionIds": collection_ids})
        return {collection["id"]: collection for collection in result["collections"]}

    def check_export(self, user: Identity, definitions: list[dict],
                     collection_ids: list[str] | None = None) -> dict:
        """The catalog's verdict: `definitions`, one per reference (`authorized`, `forbiddenTenants`),
        `forbiddenDefinitions`, once per key the user may not read (`type`, `key`, `tenantIds`), and
        `collections`: the user's access to each of `collection_ids` (`{id, exists, name, role}`)."""
        return self._call("check_export", {"user": user.as_rpc_user(), "definitions": definitions,
                                           "collectionIds": collection_ids or []})

    def _call(self, method: str, params: dict) -> dict:
        try:
            return self._rpc.call(method, params)
        except (RpcTimeout, RpcUnavailable) as error:
            raise service_unavailable(f"The catalog did not answer in time: {error}") from error
        except RpcError as error:  # the catalog answered with an error, or broke the contract
            log.error("%s failed: %s", method, error)
            raise ServiceError(ErrorCode.SERVER_ERROR, "The catalog could not answer",
                               f"{method} failed with {error.code}") from error
