"""What Optimize refuses to import whatever the target holds: management and instant-preview entities,
and names or descriptions it would not let a user type."""

from contracts.errors import ErrorCode
from contracts.export_file.json_path import json_path
from import_svc.domain.importing.refusal import ImportProblem

DESCRIPTION_MAX_LENGTH = 400

# (where the flag is, what to call the entity): Optimize creates these itself, so they are never imported.
_GENERATED_FLAGS = {
    "single_process_report": ((("data", "managementReport"), "a management report"),
                              (("data", "instantPreviewReport"), "an instant preview report")),
    "single_decision_report": ((("data", "managementReport"), "a management report"),
                               (("data", "instantPreviewReport"), "an instant preview report")),
    "dashboard": ((("managementDashboard",), "a management dashboard"),
                  (("instantPreviewDashboard",), "an instant preview dashboard")),
}


def generated_entity_errors(position: int, entity: dict) -> list[dict]:
    """Validation errors for an entity Optimize generated itself and so cannot import."""
    errors = []
    for location, kind in _GENERATED_FLAGS.get(entity.get("exportEntityType"), ()):
        value = entity
        for key in location:
            value = value.get(key) if isinstance(value, dict) else None
        if value is True:
            errors.append({"entityId": entity.get("id"), "path": json_path((position, *location)),
                           "message": f"The entity is {kind}, which cannot be imported."})
    return errors


def _summary(entity: dict) -> dict:
    return {"id": entity.get("id"), "name": entity.get("name"),
            "exportEntityType": entity.get("exportEntityType")}


def name_problem(entities: list[dict], max_length: int) -> ImportProblem | None:
    invalid = [entity for entity in entities
               if not isinstance(entity.get("name"), str) or not entity["name"].strip()
               or len(entity["name"]) > max_length]
    if not invalid:
        return None
    return ImportProblem(
        ErrorCode.IMPORT_NAME_INVALID,
        f"Entity names must not be empty or longer than {max_length} characters: "
        f"{', '.join(str(entity.get('id')) for entity in invalid)}.",
        {"entities": [_summary(entity) for entity in invalid], "maxLength": max_length},
    )


def description_problem(entities: list[dict]) -> ImportProblem | None:
    invalid = [entity for entity in entities
               if isinstance(entity.get("description"), str)
               and (not entity["description"] or len(entity["description"]) > DESCRIPTION_MAX_LENGTH)]
    if not invalid:
        return None
    return ImportProblem(
        ErrorCode.IMPORT_DESCRIPTION_INVALID,
        f"Descriptions must be null or between 1 and {DESCRIPTION_MAX_LENGTH} characters long: "
        f"{', '.join(str(entity.get('id')) for entity in invalid)}.",
        {"entities": [_summary(entity) for entity in invalid], "maxLength": DESCRIPTION_MAX_LENGTH},
    )
