"""What Optimize refuses to import whatever the target holds: management reports, instant-preview
entities on the public API, and names or descriptions it would not let a user type."""

from contracts.entities import DESCRIPTION_MAX_LENGTH
from contracts.errors import ErrorCode
from import_svc.domain.importing.refusal import ImportProblem


def _flag(entity: dict, *location: str) -> bool:
    value = entity
    for key in location:
        value = value.get(key) if isinstance(value, dict) else None
    return value is True


def management_report_problem(entities: list[dict]) -> ImportProblem | None:
    """Optimize's EntityImportService refuses a file with a management report, on every import path."""
    invalid = [entity for entity in entities if entity["exportEntityType"] == "single_process_report"
               and _flag(entity, "data", "managementReport")]
    if not invalid:
        return None
    return ImportProblem(ErrorCode.BAD_REQUEST, "Cannot import management reports",
                         {"entities": [_summary(entity) for entity in invalid]},
                         ranked_as=ErrorCode.IMPORT_FILE_INVALID)


def instant_preview_problem(entities: list[dict]) -> ImportProblem | None:
    """Optimize's public import (EntityImportService.importEntities) refuses instant-preview reports and
    dashboards; the import of a user keeps them with their flags."""
    invalid = [entity for entity in entities
               if (entity["exportEntityType"] == "dashboard" and _flag(entity, "instantPreviewDashboard"))
               or (entity["exportEntityType"] == "single_process_report"
                   and _flag(entity, "data", "instantPreviewReport"))]
    if not invalid:
        return None
    return ImportProblem(ErrorCode.BAD_REQUEST, "Cannot import Instant preview dashboards and reports.",
                         {"entities": [_summary(entity) for entity in invalid]},
                         ranked_as=ErrorCode.IMPORT_FILE_INVALID)


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


def _description_invalid(entity: dict) -> bool:
    description = entity.get("description")
    return isinstance(description, str) and (not description or len(description) > DESCRIPTION_MAX_LENGTH)


def description_problems(entities: list[dict]) -> list[ImportProblem]:
    """A report's invalid description is `importDescriptionInvalid` (ReportImportService); a dashboard's is
    `badRequestError` (DashboardService.validateDashboardDescription, called by DashboardImportService)."""
    reports = [entity for entity in entities
               if entity["exportEntityType"] != "dashboard" and _description_invalid(entity)]
    dashboards = [entity for entity in entities
                  if entity["exportEntityType"] == "dashboard" and _description_invalid(entity)]
    problems = []
    if reports:
        problems.append(ImportProblem(
            ErrorCode.IMPORT_DESCRIPTION_INVALID,
            f"Descriptions must be null or between 1 and {DESCRIPTION_MAX_LENGTH} characters long: "
            f"{', '.join(str(entity.get('id')) for entity in reports)}.",
            {"entities": [_summary(entity) for entity in reports], "maxLength": DESCRIPTION_MAX_LENGTH}))
    if dashboards:
        problems.append(ImportProblem(
            ErrorCode.BAD_REQUEST,
            f"Dashboard descriptions cannot be empty or greater than {DESCRIPTION_MAX_LENGTH} characters: "
            f"{', '.join(str(entity.get('id')) for entity in dashboards)}.",
            {"entities": [_summary(entity) for entity in dashboards], "maxLength": DESCRIPTION_MAX_LENGTH},
            ranked_as=ErrorCode.IMPORT_DESCRIPTION_INVALID))
    return problems
