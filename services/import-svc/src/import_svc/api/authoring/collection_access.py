"""The catalog's `collection_access` RPC as authoring asks it, with the catalog's failures as answers."""

import logging
from collections.abc import Mapping

from contracts.errors import ErrorCode, ServiceError, service_unavailable
from import_svc.domain.authoring import CollectionAccess
from optimize_runtime.identity import Identity
from optimize_runtime.messaging import RpcClient, RpcError, RpcTimeout, RpcUnavailable

log = logging.getLogger(__name__)


def ask_collection_access(catalog: RpcClient, user: Identity,
                          collection_ids: list[str]) -> Mapping[str, CollectionAccess]:
    try:
        result = catalog.call("collection_access",
                              {"user": user.as_rpc_user(), "collectionIds": collection_ids})
    except (RpcTimeout, RpcUnavailable) as error:
        raise service_unavailable(f"The catalog did not answer in time: {error}") from error
    except RpcError as error:  # the catalog answered with an error, or broke the contract
        log.error("collection_access failed: %s", error)
        raise ServiceError(ErrorCode.SERVER_ERROR, "The catalog could not answer",
                           f"collection_access failed with {error.code}") from error
    return {item["id"]: CollectionAccess(item["id"], item["exists"], item.get("name"), item.get("role"))
            for item in result["collections"]}
