"""Which entities a user sees: their own private ones and those of every collection they have a role in.

Each call asks the catalog at most once, and not at all for the user's own private entities."""

import base64
import binascii
import json
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from contracts.catalog_rpc import CollectionAccess
from contracts.entities import ENTITY_NAMES, OWNER_ROLE, VIEW
from contracts.errors import ErrorCode, ServiceError, not_found
from contracts.export_file import definitions_of
from export_svc.domain.access import AccessQuestions, EntityAccess
from optimize_runtime.identity import Identity


class EntityListings(Protocol):
    """The part of the read-only entity store the entity list and single reads use."""

    def get(self, entity_id: str, entity_type: str | None = None) -> dict | None: ...
    def summaries_in_collection(self, collection_id: str) -> list[dict]: ...

    # A page of a list: up to `limit + 1` documents after the position (lastModified, id), newest first
    # (`Page`), without content, the position of each, and how many the whole list holds.
    def page_visible_to(self, user_id: str, collection_ids: Iterable[str], limit: int,
                        after: tuple | None) -> tuple[list[dict], list[tuple], int]: ...
    def page_in_collection(self, collection_id: str, limit: int,
                           after: tuple | None) -> tuple[list[dict], list[tuple], int]: ...


class CollectionRoles(AccessQuestions, Protocol):
    """The catalog questions reading asks: the access questions, and the user's collections."""


@dataclass(frozen=True)
class Seen:
    """An entity as one user sees it: the document and the user's role for it."""

    document: dict
    role: str


DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE = 1000, 10_000


@dataclass(frozen=True)
class Page:
    """One page of a list in its stable order (newest `lastModified` first, then `id` descending): the
    items, how many the whole list holds, and the cursor of the next page (None on the last)."""

    items: list[Seen]
    total: int
    next_cursor: str | None


# A cursor's mark for a time stored as text (the embedded server stores a `$set` date so).
_TEXT = "text"


def page_of(documents: Sequence[dict], positions: Sequence[tuple], total: int, limit: int,
            role_of: Callable[[dict], str]) -> Page:
    """The page of the first `limit` of `documents` (the store's up to `limit + 1` after the cursor); a
    next page when the store found more. Keyed on the last item's (lastModified, id), so that entities
    created or deleted meanwhile shift no page."""
    items = [Seen(document, role_of(document)) for document in documents[:limit]]
    more = len(documents) > limit
    return Page(items, total, _cursor(positions[len(items) - 1]) if more and items else None)


def _cursor(position: tuple) -> str:
    moment, entity_id = position
    if isinstance(moment, datetime):
        position = [moment.isoformat(), entity_id]
    else:  # a time the embedded server stored as text: the text, marked as such
        position = [str(moment), entity_id, _TEXT]
    text = json.dumps(position, separators=(",", ":"))
    return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")



def _position(cursor: str) -> tuple[datetime | str, str]:
    try:
        decoded = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
        if isinstance(decoded, list) and len(decoded) == 3 and decoded[2] == _TEXT:
            return str(decoded[0]), str(decoded[1])
        moment, entity_id = decoded
        position = datetime.fromisoformat(moment), str(entity_id)
        if position[0].tzinfo is None:
            raise ValueError("a cursor's time has its zone")
        return position
    except (binascii.Error, ValueError, TypeError, UnicodeDecodeError) as error:
        raise ServiceError(ErrorCode.BAD_REQUEST, "The cursor is not one a previous page gave",
                           "Start again without a cursor",
                           validationErrors={"query": {"cursor": ["Not a cursor of this list."]}}) from error


@dataclass
class VisibleEntities:
    """The entity list, a collection's entities and single entities, as one user may see them."""

    entities: EntityListings
    catalog: CollectionRoles

    def entity_list(self, user: Identity, limit: int = DEFAULT_PAGE_SIZE, cursor: str | None = None) -> Page:
        """The page after `cursor` (from the previous page; None: the first), newest first, as Optimize
        lists them."""
        roles = _roles(self.catalog.collection_access(user, None))
        after = None if cursor is None else _position(cursor)
        documents, positions, total = self.entities.page_visible_to(user.user_id, roles, limit, after)
        return page_of(documents, positions, total, limit, lambda document: _role_of(document, roles))

    def collection_entities(self, user: Identity, collection_id: str, limit: int = DEFAULT_PAGE_SIZE,
                            cursor: str | None = None) -> Page:
        access = self.catalog.collection_access(user, [collection_id]).get(collection_id)
        if access is None or not access.exists:
            raise not_found("Collection", collection_id)
        if access.role is None:
            raise ServiceError(ErrorCode.FORBIDDEN,
                               f"User '{user.user_id}' has no role in collection '{collection_id}'",
                               collectionId=collection_id)
        after = None if cursor is None else _position(cursor)
        documents, positions, total = self.entities.page_in_collection(collection_id, limit, after)
        return page_of(documents, positions, total, limit, lambda _document: access.role)

    def in_collection_for_services(self, entity_type: str, collection_id: str | None) -> list[dict]:
        """The reports or dashboards of a collection for the public API, as Optimize's PublicApiRestService
        lists them (getReportIds / getDashboardIds): a collection id is required (400 badRequestError);
        an unknown collection has none."""
        if not collection_id:
            raise ServiceError(ErrorCode.BAD_REQUEST, "Must specify a collection ID for this request.")
        documents = [document for document in self.entities.summaries_in_collection(collection_id)
                     if document["entityType"] == entity_type]
        return [{"id": document["id"], "name": document["name"]}
                for document in sorted(documents, key=lambda document: (document["created"], document["id"]))]

    def entity(self, user: Identity, entity_type: str, entity_id: str) -> Seen:
        """One entity, by the rule every read and export path shares (`EntityAccess`)."""
        document = self.entities.get(entity_id, entity_type)
        if document is None:
            raise not_found(ENTITY_NAMES[entity_type], entity_id)
        definitions = definitions_of([document])
        roles = EntityAccess(self.catalog).require(user, VIEW, [document], definitions)
        return Seen(document, _role_of(document, roles))


def _roles(access: dict[str, CollectionAccess]) -> dict[str, str]:
    return {cid: collection.role for cid, collection in access.items()
            if collection.exists and collection.role}


def _role_of(document: dict, roles: dict[str, str]) -> str:
    collection_id = document.get("collectionId")
    return OWNER_ROLE if collection_id is None else roles[collection_id]

