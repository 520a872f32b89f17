"""What an accepted import writes: every entity under a new id (or, overwriting, under the id of the
earlier copy it replaces), references rewritten, definitions adjusted to the target, and the documents
of the entity store."""

import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from contracts.entities import IMPORT_DIGEST, SOURCE_ID, content_digest, stored_entity_from_export
from contracts.export_file.references import report_references
from import_svc.domain.importing.overwrite import CREATED, NEW_COPIES, UNCHANGED, UPDATED, Kept
from import_svc.domain.importing.prerequisites import DEFINITION_TYPE_OF, CatalogVerdict, DefinitionUse


@dataclass(frozen=True)
class PlannedEntity:
    source_id: str
    document: dict
    upgraded_from: int | None = None
    warnings: tuple[str, ...] = ()
    action: str = CREATED
    # Overwriting: the version of the earlier copy this one replaces, as it was read.
    replaces: dict | None = None

    @property
    def id(self) -> str:
        return self.document["id"]

    def outcome(self, *, dry_run: bool = False, with_action: bool = False) -> dict:
        """As the response lists it; a dry run names no id for a created entity, since nothing gets one."""
        item = {"id": None if dry_run and self.action == CREATED else self.id,
                "entityType": self.document["entityType"], "sourceId": self.source_id}
        if with_action:
            item["action"] = self.action
        if self.upgraded_from is not None:
            item["upgradedFrom"] = self.upgraded_from
        if self.warnings:
            item["warnings"] = list(self.warnings)
        return item


@dataclass(frozen=True)
class ImportPlan:
    import_id: str
    owner: str
    collection_id: str | None
    entities: list[PlannedEntity] = field(default_factory=list)
    mode: str = NEW_COPIES

    @property
    def documents(self) -> list[dict]:
        """Every document the import writes: created and updated entities (unchanged ones are not written)."""
        return [entity.document for entity in self.entities if entity.action != UNCHANGED]

    @property
    def created(self) -> list[dict]:
        return [entity.document for entity in self.entities if entity.action == CREATED]

    @property
    def overwrites(self) -> list[tuple[dict, dict]]:
        """(new version, the version it replaces as read) of every updated entity."""
        return [(entity.document, entity.replaces) for entity in self.entities if entity.action == UPDATED]

    @property
    def entity_ids(self) -> list[str]:
        return [entity.id for entity in self.entities]

    def ids_of(self, action: str) -> list[str]:
        return [entity.id for entity in self.entities if entity.action == action]

    def outcome(self, *, dry_run: bool = False) -> list[dict]:
        with_action = self.mode != NEW_COPIES
        return [entity.outcome(dry_run=dry_run, with_action=with_action) for entity in self.entities]


def plan_import(entities: list[dict], verdict: CatalogVerdict, *, owner: str, collection_id: str | None,
                now: datetime, upgraded_from: dict[str, int],
                reading_warnings: dict[str, list[str]] | None = None, mode: str = NEW_COPIES,
                kept: dict[str, Kept] | None = None,
                new_id: Callable[[], str] = lambda: str(uuid.uuid4())) -> ImportPlan:
    """The plan for entities that passed every check, at their current versions and in file order.
    The entities are changed in place: they are the import's own upgraded copies. `kept`: overwriting,
    the earlier copy each entity (by its id in the file) replaces; it keeps its id, owner and creation."""
    kept = kept or {}
    new_ids = {entity["id"]: kept[entity["id"]].document["id"] if entity["id"] in kept else new_id()
               for entity in entities}
    plan = ImportPlan(import_id=new_id(), owner=owner, collection_id=collection_id, mode=mode)
    for entity in entities:
        if entity["exportEntityType"] == "dashboard":
            # Not refused but never kept, as Optimize's DashboardImportService.createDashboardDefinition.
            entity["managementDashboard"] = False
        source_id = entity["id"]
        warnings = [*(reading_warnings or {}).get(source_id, []), *_adjust_definitions(entity, verdict)]
        _rewrite_references(entity, new_ids)
        # The entity is the import's own upgraded copy, used for nothing else: no second copy of its content.
        document = stored_entity_from_export(entity, entity_id=new_ids[source_id], owner=owner,
                                             collection_id=collection_id, now=now, import_id=plan.import_id,
                                             copy=False)
        document[SOURCE_ID] = source_id
        document[IMPORT_DIGEST] = content_digest(document)
        planned = PlannedEntity(source_id, document, upgraded_from.get(source_id), tuple(warnings))
        if source_id in kept:
            planned = _replacing(planned, kept[source_id])
        plan.entities.append(planned)
    return plan


def _replacing(planned: PlannedEntity, kept: Kept) -> PlannedEntity:
    """The entity as an update of the earlier copy: unchanged when its content is the same."""
    earlier = kept.document
    warnings = (*planned.warnings, *kept.warnings)
    if content_digest(earlier) == planned.document[IMPORT_DIGEST]:
        return PlannedEntity(planned.source_id, earlier, planned.upgraded_from, warnings, UNCHANGED)
    document = {**planned.document, "owner": earlier["owner"], "created": earlier["created"]}
    return PlannedEntity(planned.source_id, document, planned.upgraded_from, warnings, UPDATED, earlier)


def _rewrite_references(entity: dict, new_ids: dict[str, str]) -> None:
    for location, report_id in report_references(entity):
        *parents, last = location
        holder = entity
        for part in parents:
            holder = holder[part]
        holder[last] = new_ids.get(report_id, report_id)


def _adjust_definitions(entity: dict, verdict: CatalogVerdict) -> list[str]:
    """Drops listed versions the target lacks (the checks made sure one remains) and takes the target's
    XML, as Optimize does; says what was dropped."""
    definition_type = DEFINITION_TYPE_OF.get(entity["exportEntityType"])
    if definition_type is None:
        return []
    definitions = entity["data"]["definitions"]
    # Asked before versions are dropped: the catalog answered for the versions as the file lists them.
    xml = verdict.xml_of(DefinitionUse(entity, definition_type, definitions[0])) if definitions else None
    warnings = []
    for definition in definitions:
        use = DefinitionUse(entity, definition_type, definition)
        kept = verdict.kept_versions(use)
        dropped = [version for version in definition["versions"] if version not in kept]
        if dropped:
            definition["versions"] = kept
            warnings.append(
                f"Version{'s' if len(dropped) > 1 else ''} {', '.join(dropped)} of {definition_type} "
                f"definition '{definition['key']}' do{'es' if len(dropped) == 1 else ''} not exist in this "
                "installation and " + ("were" if len(dropped) > 1 else "was") + " removed from the report."
            )
    configuration = entity["data"].get("configuration")
    if xml is not None and isinstance(configuration, dict):
        configuration["xml"] = xml
    return warnings
