"""Creating, changing and deleting reports and dashboards one at a time, as Optimize's editor does.

Rules: what is stored is a valid entity at the current version; a combined report's children and a
dashboard's report tiles exist and are visible to the user; a private entity belongs to its owner; an
entity in a collection needs the editor or manager role there, and every definition a report in a
collection reads must exist and lie within the collection's scope (keys and tenants), as Optimize's
ReportService.ensureCompliesWithCollectionScope requires. The catalog is asked once per call (roles and
scope together), and only when a collection is involved; a create in a collection asks once more right
after its write (a collection deleted or a role lost in between undoes it)."""

import logging
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Protocol

from contracts.catalog_rpc import CollectionAccess, DefinitionRef, ImportCheck
from contracts.entities import (
    DESCRIPTION_MAX_LENGTH,
    EDIT_ROLES,
    ENTITY_NAMES,
    content_fields,
    editable_by,
    export_entity_from_stored,
    stored_entity_from_export,
    stored_time,
    visible_to,
)
from contracts.entity_ids import new_entity_id
from contracts.errors import ErrorCode, ServiceError, not_found
from contracts.events import ENTITY_CREATED, ENTITY_DELETED, new_event
from contracts.export_file import CURRENT_VERSIONS, referenced_report_ids, validate_current_entity
from optimize_runtime.identity import Identity

log = logging.getLogger(__name__)

class EditableEntities(Protocol):
    """The part of the entity store authoring uses."""

    def insert(self, document: dict, events: Sequence[dict] = ()) -> None:
        """One entity, visible at once, with `events` recorded for the relay in the same write; refused
        (not found) when its collection was deleted meanwhile."""
    def update(self, entity_type: str, entity_id: str, fields: dict) -> dict | None: ...
    def delete(self, entity_type: str, entity_id: str, events: Sequence[dict] = ()) -> bool: ...
    def get(self, entity_id: str, entity_type: str | None = None) -> dict | None: ...
    def get_many(self, entity_ids: Iterable[str], entity_type: str | None = None) -> dict[str, dict]: ...
    def storage_problem(self, entity: dict) -> str | None: ...


class AuthoringQuestions(Protocol):
    def check_authoring(self, user: Identity, collection_id: str | None, definitions: list[DefinitionRef],
                        collection_ids: list[str]) -> ImportCheck:
        """One RPC: the target collection's scope against `definitions`, and the user's roles."""

    def collection_access(self, user: Identity, collection_ids: list[str]) -> Mapping[str, CollectionAccess]:
        """One RPC: the user's roles in these collections."""


_DEFINITION_TYPES = {"single_process_report": "process", "single_decision_report": "decision"}


@dataclass
class Authoring:
    store: EditableEntities
    catalog: AuthoringQuestions
    max_name_length: int
    clock: Callable[[], datetime] = field(default=lambda: datetime.now(UTC))
    new_id: Callable[[], str] = new_entity_id

    def create(self, user: Identity, export_type: str, fields: dict, request_id: str | None = None) -> str:
        """Stores a new entity of `export_type` from `fields` (name, description, collectionId and the
        content: `data`, or `tiles`, `availableFilters`...); its id."""
        entity_id = self.new_id()
        collection_id = fields.get("collectionId")
        entity = {
            "id": entity_id,
            "exportEntityType": export_type,
            "name": fields.get("name"),
            "description": fields.get("description"),
            "sourceIndexVersion": CURRENT_VERSIONS[export_type],
            "collectionId": collection_id,
            **{name: fields[name] for name in content_fields(export_type) if name in fields},
        }
        self._check_content(entity, reported_id=None)  # the new id means nothing to the caller yet
        references = self._referenced_reports(entity)
        roles = self._ask_catalog(user, collection_id, entity, references.values())
        self._check_may_edit_in(user, collection_id, roles)
        self._check_references_visible(user, references, roles)

        document = stored_entity_from_export(entity, entity_id=entity_id, owner=user.user_id,
                                             collection_id=collection_id, now=self.clock())
        # Recorded with the write, published by the relay: never lost, never announced for nothing.
        created = new_event(ENTITY_CREATED, user.user_id, [entity_id], collection_id=collection_id,
                            request_id=request_id, details=_event_details(document))
        self.store.insert(document, [created])
        self._verify_written(user, document, created)
        return entity_id

    def _verify_written(self, user: Identity, document: dict, created: dict) -> None:
        """Right after a write into a collection, the catalog is asked once more: a change that came
        between the check and the write (the collection deleted, the user's editing role gone) undoes it
        (deleted, with `entity.deleted` after `entity.created`) and is answered. A catalog that does not
        answer now leaves the entity (logged): nothing was decided."""
        collection_id = document["collectionId"]
        if collection_id is None:
            return
        try:
            self._check_may_edit_in(user, collection_id, self._roles(user, [collection_id], []))
        except ServiceError as refusal:
            if refusal.code == ErrorCode.SERVICE_UNAVAILABLE:
                log.warning("%s %s could not be verified after its write: %s", document["entityType"],
                            document["id"], refusal)
                return
            self.store.delete(document["entityType"], document["id"], [new_event(
                ENTITY_DELETED, user.user_id, [document["id"]], collection_id=collection_id,
                request_id=created["requestId"],
                details={**_event_details(document), "cause": "authoring.revoked",
                         "causeEventId": created["eventId"]})])
            raise

    def update(self, user: Identity, entity_type: str, entity_id: str, changes: dict) -> dict:
        """Changes name, description and content of an existing entity; the updated document.
        Owner, collection and creation time stay."""
        existing = self._existing(entity_type, entity_id)
        entity = export_entity_from_stored(existing)
        entity.update({name: value for name, value in changes.items()
                       if name in ("name", "description", *content_fields(entity["exportEntityType"]))})
        self._check_content(entity, reported_id=entity_id)
        references = self._referenced_reports(entity)
        roles = self._ask_catalog(user, existing["collectionId"], entity, references.values())
        self._check_may_edit(user, existing, roles)
        self._check_references_visible(user, references, roles)

        updated = {name: entity[name] for name in ("name", "description", *content_fields(
            entity["exportEntityType"])) if name in entity}
        updated.update(lastModifier=user.user_id, lastModified=stored_time(self.clock()))
        document = self.store.update(entity_type, entity_id, updated)
        if document is None:  # deleted meanwhile
            raise not_found(ENTITY_NAMES[entity_type], entity_id)
        self._verify_updated(user, entity_type, existing, entity, references)
        return document

    def _verify_updated(self, user: Identity, entity_type: str, existing: dict, entity: dict,
                        references: Mapping[str, dict]) -> None:
        """Right after a change in a collection, the catalog is asked once more: a change that came between
        the check and the write (the collection deleted, its scope narrowed, the user's editing role gone)
        puts the entity back as it was and is answered. A catalog that does not answer now leaves the
        change (logged): nothing was decided."""
        collection_id = existing["collectionId"]
        if collection_id is None:
            return
        try:
            roles = self._ask_catalog(user, collection_id, entity, references.values())
            self._check_may_edit(user, existing, roles)
        except ServiceError as refusal:
            if refusal.code == ErrorCode.SERVICE_UNAVAILABLE:
                log.warning("%s %s could not be verified after its change: %s", existing["entityType"],
                            existing["id"], refusal)
                return
            before = {name: existing[name] for name in (
                "name", "description", "lastModifier", "lastModified",
                *content_fields(entity["exportEntityType"])) if name in existing}
            self.store.update(entity_type, existing["id"], before)
            raise

    def delete(self, user: Identity, entity_type: str, entity_id: str, request_id: str | None = None) -> None:
        """A user deletes what they may change; the public API (Optimize's PublicApiRestService
        deleteReportDefinition / deleteDashboardDefinition) deletes the entities of collections, never a
        user's private one, and an entity whose collection is gone is not found."""
        existing = self._existing(entity_type, entity_id)
        roles = self._roles(user, [existing["collectionId"]], [])
        if user.public_api:
            self._check_service_may_delete(existing, roles)
        else:
            self._check_may_edit(user, existing, roles)
        deleted = new_event(ENTITY_DELETED, user.user_id, [entity_id], collection_id=existing["collectionId"],
                            request_id=request_id, details=_event_details(existing))
        if not self.store.delete(entity_type, entity_id, [deleted]):
            raise not_found(ENTITY_NAMES[entity_type], entity_id)

    def _existing(self, entity_type: str, entity_id: str) -> dict:
        document = self.store.get(entity_id, entity_type)
        if document is None:
            raise not_found(ENTITY_NAMES[entity_type], entity_id)
        return document

    def _check_content(self, entity: dict, reported_id: str | None) -> None:
        problems = validate_current_entity(entity)
        name = entity.get("name")
        if isinstance(name, str) and (not name.strip() or len(name) > self.max_name_length):
            problems.append({"entityId": entity["id"], "path": "name", "message":
                             f"Must not be empty or longer than {self.max_name_length} characters."})
        description = entity.get("description")
        if isinstance(description, str) and (not description or len(description) > DESCRIPTION_MAX_LENGTH):
            problems.append({"entityId": entity["id"], "path": "description",
                             "message": f"Must be null, or 1 to {DESCRIPTION_MAX_LENGTH} characters long."})
        if not problems and (too_large := self.store.storage_problem(entity)):
            problems.append({"entityId": entity["id"], "path": "", "message": too_large})
        if problems:
            problems = [{**problem, "entityId": reported_id} for problem in problems]
            raise ServiceError(ErrorCode.BAD_REQUEST, f"The {_kind(entity)} is invalid",
                               "The entity does not match the current format; see validationErrors",
                               validationErrors=problems)

    def _referenced_reports(self, entity: dict) -> dict[str, dict]:
        """The reports the entity shows, by id, in order; refused when one does not exist, or when a
        combined report would hold anything but single reports."""
        report_ids = referenced_report_ids(entity)
        found = self.store.get_many(report_ids, "report")
        missing = [report_id for report_id in report_ids if report_id not in found]
        if missing:
            raise ServiceError(ErrorCode.NOT_FOUND, f"Reports do not exist: {', '.join(missing)}",
                               f"The {_kind(entity)} refers to reports that do not exist", ids=missing)
        if entity["exportEntityType"] == "combined_report":
            combined = [report_id for report_id in report_ids if found[report_id]["combined"]]
            if combined:
                raise ServiceError(ErrorCode.BAD_REQUEST,
                                   f"A combined report holds single reports only: {', '.join(combined)}",
                                   ids=combined)
        return {report_id: found[report_id] for report_id in report_ids}

    def _roles(self, user: Identity, collection_ids: Iterable[str | None],
               references: Iterable[dict]) -> dict[str, CollectionAccess]:
        """The user's roles in every collection involved: one call, none when all is private."""
        wanted = list(dict.fromkeys(
            [*(cid for cid in collection_ids if cid), *(doc["collectionId"] for doc in references
                                                         if doc["collectionId"])]))
        return dict(self.catalog.collection_access(user, wanted)) if wanted else {}

    def _ask_catalog(self, user: Identity, collection_id: str | None, entity: dict | None,
                     references: Iterable[dict]) -> dict[str, CollectionAccess]:
        """The user's access to every collection involved, by id, after refusing definitions outside the
        target collection's scope: one call, none when all is private."""
        others = list(dict.fromkeys(doc["collectionId"] for doc in references
                                    if doc["collectionId"] and doc["collectionId"] != collection_id))
        if collection_id is None and not others:
            return {}
        definitions = _definitions_read(entity) if collection_id is not None and entity is not None else []
        answer = self.catalog.check_authoring(user, collection_id, definitions, others)
        access = dict(answer.collections)
        if answer.collection is not None:
            access[answer.collection.id] = answer.collection
            if answer.collection.exists and answer.collection.role in EDIT_ROLES:
                _refuse_out_of_scope(answer)  # only to those who may add to it: scope is its business
        return access

    @staticmethod
    def _check_may_edit_in(user: Identity, collection_id: str | None,
                           access: Mapping[str, CollectionAccess]) -> None:
        if collection_id is None:
            return
        collection = access.get(collection_id)
        if collection is None or not collection.exists:
            raise not_found("Collection", collection_id)
        if collection.role not in EDIT_ROLES:
            raise ServiceError(
                ErrorCode.FORBIDDEN,
                f"User '{user.user_id}' may not add entities to collection '{collection_id}'",
                f"This needs the editor or manager role in the collection; the user's role is "
                f"{collection.role or 'none'}", collectionId=collection_id)

    @staticmethod
    def _check_service_may_delete(document: dict, access: Mapping[str, CollectionAccess]) -> None:
        collection_id = document["collectionId"]
        if collection_id is None:
            raise ServiceError(ErrorCode.FORBIDDEN, f"The public API may not delete the private "
                                                    f"{document['entityType']} '{document['id']}'",
                               "The public API deletes entities of collections only", id=document["id"])
        collection = access.get(collection_id)
        if collection is None or not collection.exists:
            raise not_found(ENTITY_NAMES[document["entityType"]], document["id"])

    @staticmethod
    def _check_may_edit(user: Identity, document: dict, access: Mapping[str, CollectionAccess]) -> None:
        if not editable_by(document, user.user_id, _role_map(access)):
            raise ServiceError(
                ErrorCode.FORBIDDEN,
                f"User '{user.user_id}' may not change {document['entityType']} '{document['id']}'",
                "A private entity belongs to its owner; one in a collection needs the editor or manager role",
                id=document["id"])

    @staticmethod
    def _check_references_visible(user: Identity, references: Mapping[str, dict],
                                  access: Mapping[str, CollectionAccess]) -> None:
        roles = _role_map(access)
        hidden = [report_id for report_id, document in references.items()
                  if not visible_to(document, user.user_id, roles)]
        if hidden:
            raise ServiceError(ErrorCode.FORBIDDEN,
                               f"User '{user.user_id}' may not see reports: {', '.join(hidden)}", ids=hidden)


def _definitions_read(entity: dict) -> list[DefinitionRef]:
    definition_type = _DEFINITION_TYPES.get(entity["exportEntityType"])
    if definition_type is None:
        return []
    return list(dict.fromkeys(
        DefinitionRef(definition_type, definition["key"], tuple(definition["versions"]),
                      tuple(definition["tenantIds"]))
        for definition in entity["data"]["definitions"]))


def _refuse_out_of_scope(answer: ImportCheck) -> None:
    """Optimize's scope conflicts: a key the collection's data sources lack (or no such definition at all,
    which no scope can hold) is nonDefinitionScopeCompliantConflict; a tenant outside its scope entry
    nonTenantScopeCompliantConflict (409, the collection and the definitions named)."""
    collection = answer.collection
    conflicted = [{"id": collection.id, "type": "collection", "name": collection.name}]
    outside = [check.ref for check in answer.definitions if check.in_scope is False or not check.exists]
    if outside:
        raise ServiceError(
            ErrorCode.NON_DEFINITION_SCOPE_COMPLIANT_CONFLICT,
            f"Collection '{collection.name}' does not have {_named(outside)} in its data sources",
            "Add the definitions to the collection's data sources first (they must exist)",
            conflictedItems=conflicted, definitions=[ref.as_message() for ref in outside])
    tenants = [(check.ref, check.tenants_out_of_scope) for check in answer.definitions
               if check.tenants_out_of_scope]
    if tenants:
        raise ServiceError(
            ErrorCode.NON_TENANT_SCOPE_COMPLIANT_CONFLICT,
            f"Collection '{collection.name}' does not have these tenants of "
            f"{_named([ref for ref, _ in tenants])} in its data sources",
            "Add the tenants to the collection's data sources first", conflictedItems=conflicted,
            definitions=[{**ref.as_message(), "tenantIds": list(outside)} for ref, outside in tenants])


def _named(refs: Iterable[DefinitionRef]) -> str:
    return ", ".join(f"{ref.type} '{ref.key}'" for ref in refs)


def _role_map(access: Mapping[str, CollectionAccess]) -> dict[str, str | None]:
    return {cid: collection.role for cid, collection in access.items() if collection.exists}


def _kind(entity: dict) -> str:
    return entity["exportEntityType"].replace("_", " ")


def _event_details(document: dict) -> dict[str, Any]:
    return {"entityType": document["entityType"], "exportEntityType": document["exportEntityType"],
            "name": document["name"]}

