"""The catalog as export-svc asks it: `collection_access` and `check_export`, answered as the typed results
of `contracts.catalog_rpc`; a failed call is answered by the one RPC rule of `RemoteService`."""

from contracts.catalog_rpc import (
    CHECK_EXPORT,
    COLLECTION_ACCESS,
    CollectionAccess,
    DefinitionRef,
    ExportCheck,
    collection_accesses,
)
from optimize_runtime.identity import Identity
from optimize_runtime.messaging import RemoteService


class ExportCatalog:
    def __init__(self, catalog: RemoteService) -> None:
        self._catalog = catalog

    def collection_access(self, user: Identity,
                          collection_ids: list[str] | None) -> dict[str, CollectionAccess]:
        """What the catalog says about these collections for the user (None: every collection the user
        has a role in), by id."""
        return collection_accesses(self._catalog.call(
            COLLECTION_ACCESS, {"user": user.as_rpc_user(), "collectionIds": collection_ids}))

    def check_export(self, user: Identity, definitions: list[DefinitionRef],
                     collection_ids: list[str] | None = None) -> ExportCheck:
        """The catalog's verdict on every definition the entities read, and the user's access to each of
        `collection_ids`, in one call."""
        return ExportCheck.from_result(self._catalog.call(
            CHECK_EXPORT, {"user": user.as_rpc_user(),
                           "definitions": [definition.as_message() for definition in definitions],
                           "collectionIds": collection_ids or []}))
