"""The stored entity: one MongoDB document per report or dashboard, in the entity store.

import-svc writes these documents, export-svc reads them; both convert through this module only.
A document carries what the entity list needs (names, owner, collection, times, types) beside the
entity's own content, which is kept exactly as the export file has it at the current version:
a report's `data`, a dashboard's tiles, filters and flags.

    {_id, id, entityType, exportEntityType, reportType, combined, name, description, collectionId,
     owner, lastModifier, created, lastModified, schemaVersion, importId, <content>}

An imported entity also carries `sourceId` (its id in the file it came from: a later import of the same
file with mode=overwrite finds it by it) and `importDigest` (`content_digest` as the import wrote it:
when the entity's digest differs, a user changed it since).

Pure functions, no database access.
"""

import hashlib
import json
from collections.abc import Mapping
from datetime import UTC, datetime
from json.encoder import c_make_encoder, encode_basestring
from typing import Any

from contracts.export_file import CURRENT_VERSIONS, ENTITY_TYPES
from contracts.export_file.structure import json_copy

REPORT = "report"
DASHBOARD = "dashboard"
ENTITY_KINDS = (REPORT, DASHBOARD)

# Roles in a collection (`contracts.catalog_rpc.ROLES`) that may change its entities; any role may see them.
EDIT_ROLES = ("editor", "manager")

# How users read an entityType in messages ("Report 'r1' does not exist").
ENTITY_NAMES = {REPORT: "Report", DASHBOARD: "Dashboard"}

# Optimize's limit on an entity's description (EntityImportService, ReportService): null, or 1 to this many.
DESCRIPTION_MAX_LENGTH = 400

# MongoDB collection of each entityType.
COLLECTIONS = {REPORT: "reports", DASHBOARD: "dashboards"}

ENTITY_TYPE_OF = {
    "single_process_report": REPORT,
    "single_decision_report": REPORT,
    "combined_report": REPORT,
    "dashboard": DASHBOARD,
}

# As Optimize lists them: a combined report is a process report with `combined: true`.
REPORT_TYPE_OF = {
    "single_process_report": "process",
    "single_decision_report": "decision",
    "combined_report": "process",
    "dashboard": None,
}

# What a dashboard carries beside the common fields: these always, as Optimize's
# DashboardDefinitionExportDto writes them on every dashboard (defaults when absent), ...
DASHBOARD_CONTENT_DEFAULTS: dict[str, Any] = {
    "tiles": [], "availableFilters": [], "instantPreviewDashboard": False,
}
# ... these stored when the entity has them, never exported: Optimize stores them, but its current
# DashboardDefinitionExportDto has neither (a dashboard upgraded from version 4 or 5 loses them on export).
DASHBOARD_OPTIONAL_FIELDS = ("refreshRateSeconds", "managementDashboard")

# The fields of the entity list; everything else in a document is content.
SUMMARY_FIELDS = (
    "id", "entityType", "exportEntityType", "reportType", "combined", "name", "description",
    "collectionId", "owner", "lastModifier", "created", "lastModified", "schemaVersion", "importId",
)


def content_fields(export_entity_type: str) -> tuple[str, ...]:
    if ENTITY_TYPE_OF[export_entity_type] == DASHBOARD:
        return (*DASHBOARD_CONTENT_DEFAULTS, *DASHBOARD_OPTIONAL_FIELDS)
    return ("data",)


def _shared(value: Any) -> Any:
    return value


def _copy_content(source: dict, target: dict, *, stored: bool = True, copy: bool = True) -> None:
    take = json_copy if copy else _shared
    if source["exportEntityType"] != "dashboard":
        target["data"] = take(source["data"])
        return
    for field, default in DASHBOARD_CONTENT_DEFAULTS.items():
        target[field] = take(source[field]) if field in source else json_copy(default)
    for field in DASHBOARD_OPTIONAL_FIELDS if stored else ():
        if field in source:
            target[field] = take(source[field])


def collection_of(document_or_type: dict | str) -> str:
    """The MongoDB collection of a document, an entityType or an exportEntityType."""
    if isinstance(document_or_type, dict):
        return COLLECTIONS[document_or_type["entityType"]]
    return COLLECTIONS[ENTITY_TYPE_OF.get(document_or_type, document_or_type)]


def stored_time(moment: datetime) -> datetime:
    """A UTC time as MongoDB keeps it (milliseconds), so that a document reads back equal."""
    moment = moment.astimezone(UTC)
    if moment.microsecond % 1000 == 0:
        return moment  # as stored already (an import stores its one time in every document)
    return moment.replace(microsecond=moment.microsecond // 1000 * 1000)


SOURCE_ID = "sourceId"
IMPORT_DIGEST = "importDigest"


_DIGEST_ARGUMENTS = {"sort_keys": True, "ensure_ascii": False, "separators": (",", ":"), "default": str}
# The C encoder `json.dumps(..., **_DIGEST_ARGUMENTS)` makes for every call (with the same arguments), made
# once: making it was half of a digest's cost. Without the circular-reference check (it keeps state across a
# call), which nothing read from JSON or BSON needs.
_DIGEST_ENCODER = None if c_make_encoder is None else c_make_encoder(
    None, str, encode_basestring, None, ":", ",", True, False, True)


def _digest_text(value: Any) -> str:
    if _DIGEST_ENCODER is None:
        return json.dumps(value, **_DIGEST_ARGUMENTS)
    return "".join(_DIGEST_ENCODER(value, 0))


def content_digest(document: dict) -> str:
    """What a user can change of an entity (name, description, content), as one digest: equal digests,
    equal entities. Digests stored by earlier imports stay valid: the text hashed is byte for byte
    `json.dumps([exportEntityType, content], **_DIGEST_ARGUMENTS)`."""
    fields = ("name", "description", *content_fields(document["exportEntityType"]))
    content = {field: document.get(field) for field in fields}
    text = _digest_text([document["exportEntityType"], content])
    return hashlib.sha256(text.encode()).hexdigest()


def stored_entity_from_export(entity: dict, *, entity_id: str, owner: str, collection_id: str | None,
                              now: datetime, import_id: str | None = None, copy: bool = True) -> dict:
    """The document of an export entity at its current version (validate it first with
    `contracts.export_file.validate_current_entity`). The entity's own id and collectionId are
    replaced by `entity_id` and `collection_id`; its content is copied, not shared (`copy=False`: shared,
    for a caller whose entity is its own copy already and is not used again)."""
    export_type = entity["exportEntityType"]
    if export_type not in ENTITY_TYPES:
        raise ValueError(f"unknown exportEntityType {export_type!r}")
    if entity.get("sourceIndexVersion") != CURRENT_VERSIONS[export_type]:
        raise ValueError(
            f"{export_type} {entity.get('id')!r} is at version {entity.get('sourceIndexVersion')!r}, "
            f"not the current {CURRENT_VERSIONS[export_type]}: upgrade it first"
        )
    created = stored_time(now)
    document = {
        "_id": entity_id,
        "id": entity_id,
        "entityType": ENTITY_TYPE_OF[export_type],
        "exportEntityType": export_type,
        "reportType": REPORT_TYPE_OF[export_type],
        "combined": export_type == "combined_report",
        "name": entity["name"],
        "description": entity.get("description"),
        "collectionId": collection_id,
        "owner": owner,
        "lastModifier": owner,
        "created": created,
        "lastModified": created,
        "schemaVersion": CURRENT_VERSIONS[export_type],
        "importId": import_id,
    }
    _copy_content(entity, document, copy=copy)
    return document


def export_entity_from_stored(document: dict, *, copy: bool = True) -> dict:
    """The export entity of a document, at the current version, fields in Optimize's order; its content
    copied (`copy=False`: shared, for a document read for this export alone)."""
    export_type = document["exportEntityType"]
    entity = {
        "id": document["id"],
        "exportEntityType": export_type,
        "name": document["name"],
        "description": document.get("description"),
        "sourceIndexVersion": CURRENT_VERSIONS[export_type],
        "collectionId": document.get("collectionId"),
    }
    _copy_content(document, entity, stored=False, copy=copy)
    return entity


# What a user may do with an entity, and the least role each needs (Optimize's RoleType order). The owner of
# a private entity holds the editor role on it; in a collection, the user's role there. Exporting needs
# the editor role as in Optimize (ReportExportService: verifyUserAuthorizedToEditCollectionResources).
VIEW, EXPORT, EDIT = "view", "export", "edit"
OWNER_ROLE = "editor"
ROLE_RANK = {"viewer": 1, "editor": 2, "manager": 3}
LEAST_ROLE = {VIEW: "viewer", EXPORT: "editor", EDIT: "editor"}


def role_on(document: dict, user_id: str, roles: Mapping[str, str | None]) -> str | None:
    """The user's role on the entity: `roles` maps collection ids to the user's role there (None: no
    role; a collection missing from it, e.g. deleted, grants nothing)."""
    collection_id = document.get("collectionId")
    if collection_id is None:
        return OWNER_ROLE if document.get("owner") == user_id else None
    return roles.get(collection_id)


def may(action: str, document: dict, user_id: str, roles: Mapping[str, str | None]) -> bool:
    """The one rule of every read, export and change path: whether the user may do `action` (VIEW,
    EXPORT, EDIT) with the entity. Definition authorization is asked of the catalog beside it."""
    role = role_on(document, user_id, roles)
    return role is not None and ROLE_RANK.get(role, 0) >= ROLE_RANK[LEAST_ROLE[action]]


def visible_to(document: dict, user_id: str, roles: Mapping[str, str | None]) -> bool:
    return may(VIEW, document, user_id, roles)


def editable_by(document: dict, user_id: str, roles: Mapping[str, str | None]) -> bool:
    return may(EDIT, document, user_id, roles)
