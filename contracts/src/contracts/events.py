"""Events the services publish on the topic exchange `optimize.events`, routed by their type,
for other services to consume."""

import re
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from marshmallow import INCLUDE, Schema, ValidationError, fields, validate, validates_schema

from contracts.plain_checks import are_texts, is_text, is_text_or_null

EVENTS_EXCHANGE = "optimize.events"
EVENT_CONTRACT_VERSION = 1

ENTITY_IMPORTED = "entity.imported"
ENTITY_CREATED = "entity.created"
# An import with mode=overwrite replaced entities an earlier import made (their ids stay).
ENTITY_UPDATED = "entity.updated"
ENTITY_DELETED = "entity.deleted"
ENTITY_EXPORTED = "entity.exported"
IMPORT_REJECTED = "import.rejected"
# The catalog's: a collection was deleted (collectionId); its entities go with it.
COLLECTION_DELETED = "collection.deleted"
EVENT_TYPES = (ENTITY_IMPORTED, ENTITY_CREATED, ENTITY_UPDATED, ENTITY_DELETED, ENTITY_EXPORTED,
               IMPORT_REJECTED, COLLECTION_DELETED)


def _in_utc(moment: datetime) -> None:
    if moment.utcoffset() != timedelta(0):
        raise ValidationError("must be in UTC")


class _Details(Schema):
    """What `details` holds for one event type. Every field is optional, and a consumer must ignore fields it
    does not know (later versions may add some)."""

    class Meta:
        unknown = INCLUDE


class EntityImportedDetails(_Details):
    importId = fields.Str()
    sourceIds = fields.List(fields.Str())  # the ids in the file, in the order of entityIds


class EntityUpdatedDetails(EntityImportedDetails):
    """An import with mode=overwrite: the entities (entityIds) it replaced in place, from these ids in
    the file."""
    # Set when the update undid another event (an overwrite revoked: its entities are back as they were).
    cause = fields.Str()
    causeEventId = fields.UUID()


class EntityCreatedDetails(_Details):
    entityType = fields.Str(validate=validate.OneOf(("report", "dashboard")))
    exportEntityType = fields.Str()
    name = fields.Str(allow_none=True)


class EntityDeletedDetails(EntityCreatedDetails):
    # Set when the deletion followed another event (a deleted collection takes its entities along).
    cause = fields.Str()
    causeEventId = fields.UUID()


class EntityExportedDetails(_Details):
    entityType = fields.Str()
    requested = fields.List(fields.Str())
    collectionIds = fields.List(fields.Str())


class ImportRejectedDetails(_Details):
    errorCode = fields.Str()


class CollectionDeletedDetails(_Details):
    name = fields.Str(allow_none=True)


EVENT_DETAILS: dict[str, type[Schema]] = {
    ENTITY_IMPORTED: EntityImportedDetails, ENTITY_CREATED: EntityCreatedDetails,
    ENTITY_UPDATED: EntityUpdatedDetails,
    ENTITY_DELETED: EntityDeletedDetails, ENTITY_EXPORTED: EntityExportedDetails,
    IMPORT_REJECTED: ImportRejectedDetails, COLLECTION_DELETED: CollectionDeletedDetails,
}


# Made once: making a marshmallow schema costs more than validating with it (every event is checked,
# several times on its way: when made, recorded, copied and published).
_DETAILS_SCHEMAS = {event_type: schema() for event_type, schema in EVENT_DETAILS.items()}


class EventSchema(Schema):
    contractVersion = fields.Int(required=True, strict=True)
    eventId = fields.UUID(required=True)
    type = fields.Str(required=True, validate=validate.OneOf(EVENT_TYPES))
    time = fields.AwareDateTime(required=True, validate=_in_utc)
    actor = fields.Str(required=True, validate=validate.Length(min=1))
    entityIds = fields.List(fields.Str(), required=True)
    collectionId = fields.Str(allow_none=True, load_default=None)
    requestId = fields.Str(allow_none=True, load_default=None)
    details = fields.Dict(keys=fields.Str(), load_default=dict)  # of the type's schema in EVENT_DETAILS

    @validates_schema
    def details_of_the_type(self, data: dict[str, Any], **_: Any) -> None:
        details_schema = _DETAILS_SCHEMAS.get(data.get("type"))
        if details_schema is not None and isinstance(data.get("details"), dict):
            errors = details_schema.validate(data["details"])
            if errors:
                raise ValidationError(errors, "details")


EVENT_SCHEMA = EventSchema()


def event_problems(event: Any) -> dict:
    """What `EventSchema` finds wrong with the event ({} when nothing). Plain checks answer the common case
    (exact types, the shapes `new_event` makes); the schema is asked whenever in doubt, so its messages
    stay its own. `contracts/tests/unit/test_event_conformance.py` holds each pass against the schema."""
    return {} if _conforms(event) else EVENT_SCHEMA.validate(event)


_CANONICAL_UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
_UTC_MILLISECONDS = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z")
_EVENT_FIELDS = frozenset(EVENT_SCHEMA.fields)
_REQUIRED_FIELDS = ("contractVersion", "eventId", "type", "time", "actor", "entityIds")


def _uuid(value: Any) -> bool:
    return type(value) is str and _CANONICAL_UUID.fullmatch(value) is not None


def _utc_time(value: Any) -> bool:
    if type(value) is not str or _UTC_MILLISECONDS.fullmatch(value) is None:
        return False
    try:
        datetime.fromisoformat(value)
    except ValueError:
        return False
    return True


_CREATED_DETAILS = {"entityType": lambda value: value in ("report", "dashboard") and type(value) is str,
                    "exportEntityType": is_text, "name": is_text_or_null}
_DETAILS_FIELDS = {
    ENTITY_IMPORTED: {"importId": is_text, "sourceIds": are_texts},
    ENTITY_UPDATED: {"importId": is_text, "sourceIds": are_texts, "cause": is_text, "causeEventId": _uuid},
    ENTITY_CREATED: _CREATED_DETAILS,
    ENTITY_DELETED: {**_CREATED_DETAILS, "cause": is_text, "causeEventId": _uuid},
    ENTITY_EXPORTED: {"entityType": is_text, "requested": are_texts, "collectionIds": are_texts},
    IMPORT_REJECTED: {"errorCode": is_text},
    COLLECTION_DELETED: {"name": is_text_or_null},
}


def _conforms(event: Any) -> bool:
    if type(event) is not dict or not _EVENT_FIELDS.issuperset(event):
        return False
    if not all(name in event for name in _REQUIRED_FIELDS):
        return False
    event_type, details = event["type"], event.get("details", {})
    if type(event_type) is not str or event_type not in _DETAILS_FIELDS or type(details) is not dict:
        return False
    if not (type(event["contractVersion"]) is int and _uuid(event["eventId"]) and _utc_time(event["time"])
            and type(event["actor"]) is str and event["actor"] != "" and are_texts(event["entityIds"])
            and is_text_or_null(event.get("collectionId")) and is_text_or_null(event.get("requestId"))):
        return False
    checks = _DETAILS_FIELDS[event_type]
    return all(type(key) is str and (key not in checks or checks[key](value))
               for key, value in details.items())

# Python-style keyword names new_event accepts beside the wire names.
_FIELD_ALIASES = {"collection_id": "collectionId", "request_id": "requestId"}
_OPTIONAL_FIELDS = ("collectionId", "requestId", "details")


def utc_now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def new_event(type: str, actor: str, entity_ids: list[str], **fields: Any) -> dict[str, Any]:  # noqa: A002
    """A complete event with a fresh id and the current time; optional fields are collectionId
    (or collection_id), requestId (or request_id) and details. Raises ValidationError if it is not valid."""
    optional = {_FIELD_ALIASES.get(name, name): value for name, value in fields.items()}
    unknown = set(optional) - set(_OPTIONAL_FIELDS)
    if unknown:
        raise TypeError(f"new_event() got unknown fields: {', '.join(sorted(unknown))}")
    event = {
        "contractVersion": EVENT_CONTRACT_VERSION,
        "eventId": str(uuid.uuid4()),
        "type": type,
        "time": utc_now_iso(),
        "actor": actor,
        "entityIds": list(entity_ids),
        "collectionId": optional.get("collectionId"),
        "requestId": optional.get("requestId"),
        "details": optional.get("details") or {},
    }
    errors = event_problems(event)
    if errors:
        raise ValidationError(errors)
    return event
