"""Whether an entity surely passes its marshmallow schema (`schemas.py`), decided in plain Python.

Reading a file validated every entity with marshmallow, which was most of an import's own CPU. Almost every
entity is valid, so these checks answer the common case: True only when the schema would find nothing
(exact JSON types, nothing unexpected); False whenever in doubt, and the schema is then asked for the
problems, so every message stays the schema's own. `contracts/tests/unit/test_export_file_conformance.py`
holds each True against the schema.
"""

from typing import Any

from contracts.export_file.schemas import TILE_TYPES
from contracts.export_file.versions import ENTITY_TYPES

_ENTITY_TYPES = frozenset(ENTITY_TYPES)
_TILE_TYPES = frozenset(TILE_TYPES)
_JAVA_INT_MIN, _JAVA_INT_MAX = -(2**31), 2**31 - 1
_ABSENT = object()


def _optional(holder: dict, key: str, check) -> bool:
    value = holder.get(key, _ABSENT)
    return value is _ABSENT or check(value)


# A field whose check takes null is read with `get` (absent reads as null, which passes): as `_optional`,
# without a call for each field. `_optional` is for a field that may be absent but not null.


def _text(value: Any) -> bool:
    return type(value) is str


def _text_or_null(value: Any) -> bool:
    return value is None or type(value) is str


def _object_or_null(value: Any) -> bool:
    return value is None or type(value) is dict


def _flag_or_null(value: Any) -> bool:
    return value is None or value is True or value is False


def _java_int_or_null(value: Any) -> bool:
    return value is None or (type(value) is int and _JAVA_INT_MIN <= value <= _JAVA_INT_MAX)


def _list_of(value: Any, check) -> bool:
    return type(value) is list and all(map(check, value))


def conforms_to_envelope(entity: Any, *, description_required: bool = False) -> bool:
    """EntityEnvelopeSchema (or, with `description_required`, the fields every current schema shares)."""
    if type(entity) is not dict:
        return False
    entity_id, entity_type = entity.get("id"), entity.get("exportEntityType")
    if type(entity_id) is not str or not entity_id or type(entity_type) is not str:
        return False
    if "description" not in entity and description_required:
        return False
    return (entity_type in _ENTITY_TYPES and type(entity.get("name")) is str
            and type(entity.get("sourceIndexVersion")) is int
            and _text_or_null(entity.get("description")) and _text_or_null(entity.get("collectionId")))


def _definition(value: Any) -> bool:
    if type(value) is not dict:
        return False
    get = value.get
    return (type(get("key")) is str and _list_of(get("versions"), _text)
            and _list_of(get("tenantIds"), _text_or_null)
            and _text_or_null(get("identifier")) and _text_or_null(get("name"))
            and _text_or_null(get("displayName")))


def _single_report_data(data: Any) -> bool:
    if type(data) is not dict:
        return False
    get = data.get
    filters = get("filter")
    return (_list_of(get("definitions"), _definition)
            and _object_or_null(get("configuration")) and _object_or_null(get("view"))
            and _object_or_null(get("groupBy")) and _object_or_null(get("distributedBy"))
            and (filters is None or _list_of(filters, _is_object))
            and _text_or_null(get("visualization"))
            and _flag_or_null(get("managementReport")) and _flag_or_null(get("instantPreviewReport")))


def _is_object(value: Any) -> bool:
    return type(value) is dict


def _combined_item(value: Any) -> bool:
    return (type(value) is dict and type(value.get("id")) is str and value["id"] != ""
            and _text_or_null(value.get("color")))


def _combined_report_data(data: Any) -> bool:
    return (type(data) is dict and _list_of(data.get("reports"), _combined_item)
            and _object_or_null(data.get("configuration"))
            and _text_or_null(data.get("visualization")))


def _tile(tile: Any) -> bool:
    if type(tile) is not dict or type(tile.get("id")) is not str:
        return False
    tile_type, position, dimensions = tile.get("type"), tile.get("position"), tile.get("dimensions")
    if type(tile_type) is not str or tile_type not in _TILE_TYPES:
        return False
    if type(position) is not dict or type(dimensions) is not dict:
        return False
    if not all(_java_int_or_null(position.get(key)) for key in ("x", "y")):
        return False
    if not all(_java_int_or_null(dimensions.get(key)) for key in ("width", "height")):
        return False
    configuration = tile.get("configuration")
    if tile_type == "external_url":
        return type(configuration) is dict and type(configuration.get("external")) is str
    if tile_type == "text":
        return (type(configuration) is dict and "text" in configuration
                and _object_or_null(configuration["text"]))
    return True


def conforms_to_current(entity: Any) -> bool:
    """The current schema of the entity's type (`schemas.CURRENT_SCHEMAS`)."""
    if not conforms_to_envelope(entity, description_required=True):
        return False
    entity_type = entity["exportEntityType"]
    if entity_type in ("single_process_report", "single_decision_report"):
        return _single_report_data(entity.get("data"))
    if entity_type == "combined_report":
        return _combined_report_data(entity.get("data"))
    return (_list_of(entity.get("tiles"), _tile)
            and _optional(entity, "availableFilters", lambda value: _list_of(value, _is_object)))
