"""What an entity points at: the reports it shows and the definitions it reads."""

import re
from collections.abc import Iterable

from contracts.export_file.migrations.changes import list_at, object_at
from contracts.export_file.structure import Location
from contracts.export_file.versions import entity_type_of

# Optimize's `IdGenerator.isValidId`: the lower-case UUID form of the ids it gives entities.
_OPTIMIZE_ID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


def is_optimize_id(value: object) -> bool:
    """Whether a dashboard tile's id names an Optimize entity (else it is a URL, text, or a foreign id)."""
    return isinstance(value, str) and _OPTIMIZE_ID.fullmatch(value) is not None


_DEFINITION_TYPES = {"single_process_report": "process", "single_decision_report": "decision"}


def report_references(entity: dict) -> list[tuple[Location, str]]:
    """Where a combined report or a dashboard (at the current version) names a report, and which one.

    A combined report names every report it lists; a dashboard only those tiles whose id is an Optimize
    id (as Optimize's DashboardDefinitionExportDto.getTileIds): other tile ids are kept as they are."""
    if entity.get("exportEntityType") == "combined_report":
        items, location = list_at(object_at(entity, "data"), "reports"), ("data", "reports")
    elif entity.get("exportEntityType") == "dashboard":
        items, location = list_at(entity, "tiles"), ("tiles",)
    else:
        return []
    references = []
    for position, item in enumerate(items or []):
        if not isinstance(item, dict) or not isinstance(item.get("id"), str) or not item["id"]:
            continue
        if location == ("tiles",) and not is_optimize_id(item["id"]):
            continue
        references.append(((*location, position, "id"), item["id"]))
    return references


def referenced_report_ids(entity: dict) -> list[str]:
    """Ids of the reports a combined report or dashboard shows, each once, in order."""
    return list(dict.fromkeys(report_id for _, report_id in report_references(entity)))


def definitions_of(entities: Iterable[dict]) -> list[dict]:
    """The definitions single reports read, merged per (type, key), in the order first met."""
    merged: dict[tuple[str, str], dict] = {}
    for entity in entities:
        definition_type = _DEFINITION_TYPES.get(entity_type_of(entity))
        if definition_type is None:
            continue
        for definition in list_at(object_at(entity, "data"), "definitions") or []:
            if not isinstance(definition, dict) or not isinstance(definition.get("key"), str):
                continue
            ref = merged.setdefault(
                (definition_type, definition["key"]),
                {"type": definition_type, "key": definition["key"], "versions": [], "tenantIds": []},
            )
            _add_new(ref["versions"], definition.get("versions"))
            _add_new(ref["tenantIds"], definition.get("tenantIds"))
    return list(merged.values())


def _add_new(known: list, more: object) -> None:
    for value in more if isinstance(more, list) else []:
        if value not in known:
            known.append(value)
