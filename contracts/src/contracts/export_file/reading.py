"""Reading an export file: every problem collected, older entities upgraded, file order kept."""

from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from contracts import json_limits  # a module: json_limits imports this package (json_path)
from contracts.export_file.references import report_references
from contracts.export_file.report_data import drop_unknown_data_keys, unknown_data_keys
from contracts.export_file.structure import Location
from contracts.export_file.upgrade import upgradable, upgrade_entity
from contracts.export_file.validation import (
    Problem,
    as_validation_error,
    current_content_problems,
    entity_id_of,
    envelope_problems,
    structure_problems,
)
from contracts.export_file.versions import CURRENT_VERSIONS, INDEX_NAMES, entity_type_of


@dataclass
class ExportFileReading:
    """What an export file holds, and everything that keeps it from being imported.

    `entities` are those that could be read and upgraded without a problem of their own, at the
    current versions and in file order (or what `keep` kept of each), at `positions` in the file; only a
    reading that is `ok` has all of them. An entity that reading did not change (at the current version,
    nothing dropped) is the file's own object, not a copy.
    """

    entities: list[dict] = field(default_factory=list)
    positions: list[int] = field(default_factory=list)
    validation_errors: list[dict] = field(default_factory=list)
    mismatching_indices: list[dict] = field(default_factory=list)
    upgraded_from: dict[str, int] = field(default_factory=dict)
    # What reading changed in an entity beyond its upgrade (keys Optimize does not read, dropped), by id.
    warnings: dict[str, list[str]] = field(default_factory=dict)

    # Where the entities are read again from, complete (`upgraded_entities`), and for which platform.
    source: Sequence = ()
    platform: str = "c7"

    @property
    def ok(self) -> bool:
        return not self.validation_errors and not self.mismatching_indices

    def upgraded_entities(self, indexes: Iterable[int] | None = None) -> Iterator[dict]:
        """Each of `entities` (or those at `indexes`), complete and upgraded, read again from the file one
        at a time: a reading that kept only an outline of each holds no large file whole. The file's own
        entities are upgraded where they are, not copied again: read each of them once."""
        for index in range(len(self.positions)) if indexes is None else indexes:
            upgraded, _ = upgrade_entity(self.source[self.positions[index]], self.platform, copy=False)
            drop_unknown_data_keys(upgraded)
            yield upgraded


@dataclass
class _ReadEntity:
    position: int
    entity_id: str | None
    entity_type: str | None
    upgraded: dict | None = None
    original_version: int | None = None
    warnings: list[str] = field(default_factory=list)
    mismatch: dict | None = None
    problems: list[Problem] = field(default_factory=list)


def read_export_file(data: Any, platform: str = "c7", *, keep: Callable[[dict], dict] | None = None,
                     max_array_length: int | None = None) -> ExportFileReading:
    """Reads a file as Optimize's EntityImportService does: one object is a file of one entity, and an
    entity repeated identically counts once (Optimize reads the file into a set). Older entities are
    upgraded as Optimize's upgrades did on the target's `platform` (`c7`, `c8`).

    `data` is the file's JSON value, or a sequence of its entities that parses each one when asked (a
    large file, read entity by entity); `keep(upgraded entity)` is what the reading keeps of each
    entity, asked right after it is read (by default all of it): what references other entities must
    stay in it, and whatever the caller will check. `max_array_length`: an entity holding a longer array
    refuses the file (`contracts.json_limits.check_array_lengths`), found by the walk that checks its
    structure."""
    if isinstance(data, dict):
        data = [data]
    reading = ExportFileReading(source=data, platform=platform)
    if isinstance(data, str) or not isinstance(data, Sequence):
        reading.validation_errors.append(
            as_validation_error(None, (), "An export file is a JSON array of entities (or one entity).")
        )
        return reading
    if not data:
        reading.validation_errors.append(
            as_validation_error(None, (), "The export file contains no entities.")
        )
        return reading

    read = [_kept(_read_entity(position, entity, platform, max_array_length), keep)
            for position, entity in _without_repetitions(data)]
    _check_ids_are_unique(read)
    _check_referenced_reports_are_in_file(read)

    for entity in read:
        if entity.mismatch is not None and entity.mismatch not in reading.mismatching_indices:
            reading.mismatching_indices.append(entity.mismatch)
        reading.validation_errors.extend(
            as_validation_error(entity.entity_id, location, message)
            for location, message in dict.fromkeys(entity.problems)
        )
        if entity.upgraded is not None and not entity.problems:
            reading.entities.append(entity.upgraded)
            reading.positions.append(entity.position)
            if entity.original_version is not None:
                reading.upgraded_from[entity.entity_id] = entity.original_version
            if entity.warnings:
                reading.warnings[entity.entity_id] = entity.warnings
    return reading


def _without_repetitions(data: Sequence) -> Iterator[tuple[int, Any]]:
    """(position, entity) in file order, leaving out an entity equal to one before it with the same id
    (two different entities with one id stay, and are refused). An earlier entity is read again from
    `data` to be compared, only when its id comes again."""
    seen: dict[str, list[int]] = {}
    for position in range(len(data)):
        entity = data[position]
        entity_id = entity_id_of(entity)
        if entity_id is not None:
            try:
                if any(_identical(entity, data[earlier]) for earlier in seen.get(entity_id, ())):
                    continue
            except RecursionError:  # too deep to compare: read both, the depth check refuses them
                pass
            seen.setdefault(entity_id, []).append(position)
        yield position, entity


def _kept(read: _ReadEntity, keep: Callable[[dict], dict] | None) -> _ReadEntity:
    if keep is not None and read.upgraded is not None:
        read.upgraded = keep(read.upgraded)
    return read


def _identical(one: Any, other: Any) -> bool:
    # Python's == takes 1 for 1.0 and True; JSON types must match too.
    if type(one) is not type(other):
        return False
    if isinstance(one, dict):
        return one.keys() == other.keys() and all(_identical(one[key], other[key]) for key in one)
    if isinstance(one, list):
        return len(one) == len(other) and all(map(_identical, one, other))
    return one == other


def _read_entity(position: int, entity: Any, platform: str, max_array_length: int | None) -> _ReadEntity:
    at: Location = (position,)
    if not isinstance(entity, dict):
        if max_array_length is not None:
            json_limits.check_array_lengths(entity, max_array_length)
        return _ReadEntity(position, None, None, problems=[(at, "An entity must be a JSON object.")])
    read = _ReadEntity(position, entity_id_of(entity), entity_type_of(entity))

    read.problems, too_deep = structure_problems(entity, at, max_array_length=max_array_length)
    if too_deep:
        return read
    read.problems += envelope_problems(entity, at)

    version = entity.get("sourceIndexVersion")
    if read.entity_type is None or type(version) is not int:
        return read
    if not upgradable(read.entity_type, version):
        read.mismatch = {
            "indexName": INDEX_NAMES[read.entity_type],
            "sourceIndexVersion": version,
            "targetIndexVersion": CURRENT_VERSIONS[read.entity_type],
        }
        return read

    # Reading changes nothing of an entity at the current version without data keys to drop: it is read
    # where it is, not copied (what `keep` keeps of it shares the file's objects).
    unchanged = version == CURRENT_VERSIONS[read.entity_type] and not unknown_data_keys(entity)
    read.upgraded, read.original_version = upgrade_entity(entity, platform, copy=not unchanged)
    read.warnings = [] if unchanged else drop_unknown_data_keys(read.upgraded)
    read.problems += [
        (_as_in_file(location, read), message)
        for location, message in current_content_problems(read.upgraded, at)
    ]
    return read


def _as_in_file(location: Location, read: _ReadEntity) -> Location:
    """A dashboard exported before version 7 has `reports` where the upgraded one has `tiles`."""
    renamed = read.entity_type == "dashboard" and (read.original_version or 7) < 7
    if renamed and location[1:2] == ("tiles",):
        return (location[0], "reports", *location[2:])
    return location


def _check_ids_are_unique(read: list[_ReadEntity]) -> None:
    first_position: dict[str, int] = {}
    for entity in read:
        if entity.entity_id is None:
            continue
        if entity.entity_id in first_position:
            entity.problems.append(
                (
                    (entity.position, "id"),
                    f"Duplicate id: the entity at [{first_position[entity.entity_id]}] has the same id.",
                )
            )
        else:
            first_position[entity.entity_id] = entity.position


def _check_referenced_reports_are_in_file(read: list[_ReadEntity]) -> None:
    types_by_id: dict[str, str | None] = {}
    for entity in read:
        if entity.entity_id is not None:
            types_by_id.setdefault(entity.entity_id, entity.entity_type)
    for entity in read:
        for location, report_id in report_references(entity.upgraded) if entity.upgraded else []:
            problem = _reference_problem(entity.entity_type, report_id, types_by_id)
            if problem:
                entity.problems.append((_as_in_file((entity.position, *location), entity), problem))


def _reference_problem(referring_type: str | None, report_id: str, types_by_id: dict) -> str | None:
    if report_id not in types_by_id:
        return f"Report {report_id} is referenced but not in the file."
    referenced_type = types_by_id[report_id]
    if referenced_type == "dashboard":
        return f"{report_id} is a dashboard, not a report."
    if referring_type == "combined_report" and referenced_type == "combined_report":
        return f"{report_id} is a combined report; a combined report holds single reports only."
    return None
