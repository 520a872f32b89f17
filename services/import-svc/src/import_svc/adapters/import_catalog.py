"""The catalog as the importer asks it: one `check_import` RPC, its failures as 503 to the caller."""

import logging

import contracts.catalog_rpc  # noqa: F401 - registers check_import in the RPC contract
from contracts.errors import service_unavailable
from optimize_runtime.messaging import RpcClient, RpcError, RpcTimeout, RpcUnavailable

log = logging.getLogger(__name__)

CHECK_IMPORT_METHOD = "check_import"


class ImportCatalog:
    def __init__(self, rpc: RpcClient) -> None:
        self._rpc = rpc

    def check_import(self, params: dict) -> dict:
        try:
            return self._rpc.call(CHECK_IMPORT_METHOD, params)
        except (RpcTimeout, RpcUnavailable) as error:
            log.warning("check_import: %s", error)
            raise service_unavailable("The catalog did not answer in time; nothing was imported. "
                                      "Try again later.") from error
        except RpcError as error:
            # A remote failure or a broken contract: the import cannot be checked, so it does not happen.
            log.error("check_import failed: %s", error)
            raise service_unavailable(f"The catalog could not check the import ({error.code}); "
                                      "nothing was imported.") from error
