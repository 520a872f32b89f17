"""Validation of one entity, as problems located by path."""

from collections.abc import Iterator
from typing import Any

from contracts import json_limits  # a module: json_limits imports this package (json_path)
from contracts.export_file.conformance import conforms_to_current, conforms_to_envelope
from contracts.export_file.dashboard_filters import dashboard_filter_problems
from contracts.export_file.json_path import json_path
from contracts.export_file.report_data import report_data_problems
from contracts.export_file.schemas import CURRENT_SCHEMAS, EntityEnvelopeSchema
from contracts.export_file.structure import (
    Location,
    structurally_sound,
    too_deep_at,
    unsafe_keys,
    unstorable_values,
)
from contracts.export_file.versions import CURRENT_VERSIONS, MAX_NESTING_DEPTH, entity_type_of

Problem = tuple[Location, str]

# Made once: making a schema (and its nested ones) costs several times more than validating with it.
_ENVELOPE_SCHEMA = EntityEnvelopeSchema()
_CURRENT_SCHEMAS = {entity_type: schema() for entity_type, schema in CURRENT_SCHEMAS.items()}


def _flattened(messages: Any, location: Location = ()) -> Iterator[Problem]:
    if isinstance(messages, dict):
        for key, nested in messages.items():
            yield from _flattened(nested, location if key == "_schema" else (*location, key))
    elif isinstance(messages, list):
        for message in messages:
            yield from _flattened(message, location)
    else:
        yield location, str(messages)


def structure_problems(entity: Any, at: Location = (), *,
                       max_array_length: int | None = None) -> tuple[list[Problem], bool]:
    """Unsafe keys, values that cannot be stored, or excessive nesting; the flag says the entity is too
    deep to be looked at further. Given `max_array_length`, an array longer than it refuses the whole file
    first (`check_array_lengths`, checked in the same walk)."""
    if structurally_sound(entity, max_array_length):
        return [], False
    if max_array_length is not None:
        json_limits.check_array_lengths(entity, max_array_length)
    too_deep = too_deep_at(entity, at)
    if too_deep is not None:
        return [(too_deep, f"Nested deeper than {MAX_NESTING_DEPTH} levels.")], True
    problems = [
        (location, "Keys must be strings that neither start with '$' nor contain a NUL character.")
        for location in unsafe_keys(entity, at)
    ]
    return problems + unstorable_values(entity, at), False


def envelope_problems(entity: dict, at: Location = ()) -> list[Problem]:
    if conforms_to_envelope(entity):
        return []  # what the schema would say; it is asked only where something may be wrong
    return [
        ((*at, *location), message)
        for location, message in _flattened(_ENVELOPE_SCHEMA.validate(entity))
    ]


def current_content_problems(entity: dict, at: Location = ()) -> list[Problem]:
    """What is wrong with an entity that should be at the current version of its type."""
    entity_type = entity_type_of(entity)
    schema = _CURRENT_SCHEMAS.get(entity_type, _ENVELOPE_SCHEMA)
    problems = [] if conforms_to_current(entity) else [
        ((*at, *location), message) for location, message in _flattened(schema.validate(entity))]
    if entity_type == "dashboard":
        problems += dashboard_filter_problems(entity, at)
    else:
        problems += report_data_problems(entity, at)
    expected = CURRENT_VERSIONS.get(entity_type)
    version = entity.get("sourceIndexVersion")
    if expected is not None and type(version) is int and version != expected:
        problems.append(
            ((*at, "sourceIndexVersion"), f"Is {version}, expected the current version {expected}.")
        )
    return problems


def entity_id_of(entity: Any) -> str | None:
    entity_id = entity.get("id") if isinstance(entity, dict) else None
    return entity_id if isinstance(entity_id, str) and entity_id else None


def as_validation_error(entity_id: str | None, location: Location, message: str) -> dict:
    return {"entityId": entity_id, "path": json_path(location), "message": message}


def validate_current_entity(entity: dict) -> list[dict]:
    """Every problem of one entity at the current version, with paths from the entity (`data.definitions`)."""
    if not isinstance(entity, dict):
        return [as_validation_error(None, (), "An entity must be a JSON object.")]
    problems, too_deep = structure_problems(entity)
    if not too_deep:
        problems += current_content_problems(entity)
    entity_id = entity_id_of(entity)
    return [as_validation_error(entity_id, location, message) for location, message in problems]
