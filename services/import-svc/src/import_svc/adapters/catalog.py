"""The catalog as import-svc asks it: one `check_import` per import, one `collection_access` per authoring
call, answered as the typed results of `contracts.catalog_rpc`; a failed call is answered by the one RPC
rule of `RemoteService`."""

from collections.abc import Callable

from contracts.catalog_rpc import (
    CHECK_IMPORT,
    COLLECTION_ACCESS,
    CollectionAccess,
    DefinitionRef,
    ImportCheck,
    collection_accesses,
)
from optimize_runtime.identity import Identity
from optimize_runtime.messaging import RemoteService


class ImportCatalog:
    def __init__(self, catalog: RemoteService) -> None:
        self._catalog = catalog

    def check_import(self, user: Identity, collection_id: str | None, definitions: list[DefinitionRef], *,
                     check_authorization: bool, with_variables: bool = False,
                     meanwhile: Callable[[], None] | None = None) -> ImportCheck:
        return ImportCheck.from_result(self._catalog.call(
            CHECK_IMPORT, {"user": user.as_rpc_user(), "collectionId": collection_id,
                           "definitions": [definition.as_message() for definition in definitions],
                           "checkAuthorization": check_authorization, "withVariables": with_variables},
            not_done="nothing was imported", meanwhile=meanwhile))

    def check_authoring(self, user: Identity, collection_id: str | None, definitions: list[DefinitionRef],
                        collection_ids: list[str]) -> ImportCheck:
        """One question for one authoring call: the target collection (its scope against `definitions`,
        which must exist) and the user's role there and in `collection_ids` (those of the shown reports)."""
        return ImportCheck.from_result(self._catalog.call(
            CHECK_IMPORT, {"user": user.as_rpc_user(), "collectionId": collection_id,
                           "definitions": [definition.as_message() for definition in definitions],
                           "checkAuthorization": False, "collectionIds": collection_ids},
            not_done="nothing was changed"))

    def collection_access(self, user: Identity, collection_ids: list[str]) -> dict[str, CollectionAccess]:
        return collection_accesses(self._catalog.call(
            COLLECTION_ACCESS, {"user": user.as_rpc_user(), "collectionIds": collection_ids},
            not_done="nothing was changed"))
