"""What an import would make of a file, told offline: which entities are upgraded from which version and
what the upgrade drops or renames, which definitions the target needs, and every problem of the file."""

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from contracts.export_file import (
    CURRENT_VERSIONS,
    VersionNotUpgradable,
    definitions_of,
    read_export_file,
    upgrade_entity,
)


@dataclass
class EntityOutlook:
    id: Any
    export_entity_type: Any
    name: Any
    version: Any
    current_version: int | None
    dropped: list[str] = field(default_factory=list)  # paths the upgrade removes (or renames)

    @property
    def upgraded(self) -> bool:
        return isinstance(self.version, int) and self.current_version is not None \
            and self.version < self.current_version

    def as_json(self) -> dict:
        return {"id": self.id, "exportEntityType": self.export_entity_type, "name": self.name,
                "sourceIndexVersion": self.version, "currentVersion": self.current_version,
                "upgraded": self.upgraded, "dropped": self.dropped}


@dataclass
class FileCheck:
    entities: list[EntityOutlook]
    definitions: list[dict]
    validation_errors: list[dict]
    mismatching_indices: list[dict]

    @property
    def ok(self) -> bool:
        return not self.validation_errors and not self.mismatching_indices

    def as_json(self) -> dict:
        return {"ok": self.ok, "entities": [entity.as_json() for entity in self.entities],
                "definitions": self.definitions, "validationErrors": self.validation_errors,
                "mismatchingIndices": self.mismatching_indices}


def check_file(path: Path) -> FileCheck:
    try:
        data = json.loads(path.read_bytes())
    except ValueError as error:
        problem = {"entityId": None, "path": "", "message": f"The file is not JSON: {error}"}
        return FileCheck([], [], [problem], [])
    reading = read_export_file(data)
    outlooks = [_outlook(entity) for entity in data] if isinstance(data, list) else []
    return FileCheck(outlooks, definitions_of(reading.entities), reading.validation_errors,
                     reading.mismatching_indices)


def _outlook(entity: Any) -> EntityOutlook:
    if not isinstance(entity, dict):
        return EntityOutlook(None, None, None, None, None)
    entity_type = entity.get("exportEntityType")
    current = CURRENT_VERSIONS.get(entity_type) if isinstance(entity_type, str) else None
    outlook = EntityOutlook(entity.get("id"), entity_type, entity.get("name"),
                            entity.get("sourceIndexVersion"), current)
    if outlook.upgraded:
        try:
            upgraded, _ = upgrade_entity(entity)
        except VersionNotUpgradable:
            return outlook
        outlook.dropped = _dropped_paths(entity, upgraded)
    return outlook


def _dropped_paths(before: dict, after: dict) -> list[str]:
    """Paths present before the upgrade and gone after it, the outermost of each dropped subtree only."""
    gone = _paths(before) - _paths(after)
    return sorted(path for path in gone if not any(_inside(path, other) for other in gone))


def _inside(path: str, other: str) -> bool:
    return len(other) < len(path) and path.startswith(other) and path[len(other)] in ".["


def _paths(value: Any, prefix: str = "") -> set[str]:
    paths = set()
    if isinstance(value, dict):
        for key, child in value.items():
            path = f"{prefix}.{key}" if prefix else str(key)
            paths |= {path} | _paths(child, path)
    elif isinstance(value, list):
        for index, child in enumerate(value):
            path = f"{prefix}[{index}]"
            paths |= {path} | _paths(child, path)
    return paths
