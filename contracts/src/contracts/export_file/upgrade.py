"""Bringing one entity from the version it was exported at to the current one, step by step."""

from contracts.export_file.migrations import MIGRATIONS, PLATFORM_MIGRATIONS
from contracts.export_file.structure import json_copy
from contracts.export_file.versions import CURRENT_VERSIONS, OLDEST_VERSIONS, entity_type_of


class VersionNotUpgradable(ValueError):
    """The entity's version is newer than ours or older than the oldest we can upgrade."""


def upgradable(entity_type: str, version: int) -> bool:
    return OLDEST_VERSIONS[entity_type] <= version <= CURRENT_VERSIONS[entity_type]


def upgrade_entity(entity: dict, platform: str = "c7", *, copy: bool = True) -> tuple[dict, int | None]:
    """A copy of the entity at the current version, and the version it had if it was older. `platform`:
    the target's (`c7`, `c8`), for the steps Optimize's upgrades ran differently on Camunda 8. `copy=False`:
    the entity itself is upgraded, for a caller that owns it and reads it no more."""
    entity_type = entity_type_of(entity)
    version = entity.get("sourceIndexVersion")
    if entity_type is None or type(version) is not int:
        raise VersionNotUpgradable(f"Cannot upgrade a {entity_type!r} entity at version {version!r}.")
    if not upgradable(entity_type, version):
        raise VersionNotUpgradable(
            f"A {entity_type} at version {version} cannot be upgraded: we read versions "
            f"{OLDEST_VERSIONS[entity_type]} to {CURRENT_VERSIONS[entity_type]}."
        )
    upgraded = json_copy(entity) if copy else entity
    for from_version in range(version, CURRENT_VERSIONS[entity_type]):
        step = (PLATFORM_MIGRATIONS.get((platform, entity_type, from_version))
                or MIGRATIONS[(entity_type, from_version)])
        step.in_place(upgraded)
    return upgraded, (version if version < CURRENT_VERSIONS[entity_type] else None)
