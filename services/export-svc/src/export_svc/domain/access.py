"""Whether a caller may read or export entities: the one decision every read path and export path
asks, with one catalog round trip (the caller's roles in the entities' collections and the definition
authorizations together).

- a user: `contracts.entities.may` for the action (owner of a private entity, or a role in its
  collection: any role to view, editor or manager to export, as Optimize), and authorization for every
  definition the entities read (Optimize's ReportAuthorizationService.isAuthorizedToReport);
- the public API acts for no user: it reads collection entities only, never a private one;
- an entity whose collection is gone is gone with it (404), whoever asks.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from contracts.catalog_rpc import CollectionAccess, DefinitionRef, ExportCheck, ForbiddenDefinition
from contracts.entities import EXPORT, VIEW, may
from contracts.errors import ErrorCode, ServiceError
from optimize_runtime.identity import Identity

ACTION_WORDS = {VIEW: "see", EXPORT: "export"}


class AccessQuestions(Protocol):
    def check_export(self, user: Identity, definitions: list[DefinitionRef],
                     collection_ids: list[str] | None = None) -> ExportCheck: ...
    def collection_access(self, user: Identity,
                          collection_ids: list[str] | None) -> dict[str, CollectionAccess]: ...


@dataclass
class EntityAccess:
    catalog: AccessQuestions

    def require(self, user: Identity, action: str, documents: Sequence[dict],
                definitions: list[dict]) -> dict[str, str]:
        """Refuses unless the caller may do `action` with every document (and read every definition, as
        `contracts.export_file.definitions_of` lists them); the caller's role in each collection
        involved, by id."""
        collection_ids = _collections_of(documents)
        if user.public_api:
            self._require_public(user, documents, collection_ids)
            return {}
        if not definitions and not collection_ids:
            verdict = ExportCheck(())
        else:
            verdict = self.catalog.check_export(
                user, [DefinitionRef.from_message(definition) for definition in definitions], collection_ids)
        access = verdict.collections
        _refuse_gone(documents, access)
        roles = {cid: c.role for cid, c in access.items() if c.exists and c.role}
        refused = [document["id"] for document in documents if not may(action, document, user.user_id, roles)]
        if refused:
            raise ServiceError(
                ErrorCode.FORBIDDEN,
                f"User '{user.user_id}' may not {ACTION_WORDS[action]} {_kind(documents, refused[0])} "
                f"'{refused[0]}'",
                "A private entity is its owner's; one in a collection needs a role there "
                + ("(editor or manager to export)" if action == EXPORT else ""),
                id=refused[0], ids=refused)
        _refuse_forbidden_definitions(user, action, verdict.forbidden)
        return roles

    def _require_public(self, user: Identity, documents: Sequence[dict], collection_ids: list[str]) -> None:
        private = [document["id"] for document in documents if document.get("collectionId") is None]
        if private:
            raise ServiceError(ErrorCode.FORBIDDEN,
                               f"The public API exports collection entities only; '{private[0]}' is private",
                               "Private reports and dashboards belong to their owner", id=private[0],
                               ids=private)
        access = self.catalog.collection_access(user, collection_ids) if collection_ids else {}
        _refuse_gone(documents, access)


def _collections_of(documents: Sequence[dict]) -> list[str]:
    return list(dict.fromkeys(document["collectionId"] for document in documents
                              if document.get("collectionId")))


def _kind(documents: Sequence[dict], entity_id: str) -> str:
    return next(document["entityType"] for document in documents if document["id"] == entity_id)


def _refuse_gone(documents: Sequence[dict], access: dict[str, CollectionAccess]) -> None:
    gone = [document["id"] for document in documents if document.get("collectionId")
            and not (document["collectionId"] in access and access[document["collectionId"]].exists)]
    if gone:
        kind = _kind(documents, gone[0]).title()
        raise ServiceError(ErrorCode.NOT_FOUND, f"{kind} '{gone[0]}' does not exist",
                           "Its collection has been deleted", id=gone[0], ids=gone)


def _refuse_forbidden_definitions(user: Identity, action: str,
                                  forbidden: Sequence[ForbiddenDefinition]) -> None:
    if forbidden:
        names = ", ".join(f"{definition.type} '{definition.key}'" for definition in forbidden)
        raise ServiceError(ErrorCode.FORBIDDEN,
                           f"User '{user.user_id}' may not {ACTION_WORDS[action]}: {names}",
                           "The user is not authorized for these definitions (or some of their tenants) that "
                           "the reports read",
                           definitions=[definition.as_message() for definition in forbidden])
