"""What an accepted import writes: every entity under a new id (or, overwriting, under the id of the
earlier copy it replaces), references rewritten, definitions adjusted to the target, and the documents
of the entity store."""

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime

from contracts.entities import (
    ENTITY_TYPE_OF,
    IMPORT_DIGEST,
    SOURCE_ID,
    collection_of,
    content_digest,
    stored_entity_from_export,
    stored_time,
)
from contracts.entity_ids import new_entity_id
from contracts.export_file.references import report_references
from import_svc.domain.importing.overwrite import CREATED, NEW_COPIES, UNCHANGED, UPDATED, Kept
from import_svc.domain.importing.prerequisites import DEFINITION_TYPE_OF, CatalogVerdict, DefinitionUse


@dataclass(frozen=True)
class PlannedEntity:
    source_id: str
    id: str
    entity_type: str
    # The entity as the checks read it (`entity_outline`), under its id here, definitions as adjusted.
    outline: dict
    upgraded_from: int | None = None
    warnings: tuple[str, ...] = ()
    action: str = CREATED
    # Overwriting: the earlier copy this one replaces, as it was read (`overwrite.COPY_FIELDS`: the write
    # reads its content again, and replaces it only if it is still the version read).
    replaces: dict | None = None

    def outcome(self, *, dry_run: bool = False, with_action: bool = False) -> dict:
        """As the response lists it; a dry run names no id for a created entity, since nothing gets one."""
        item = {"id": None if dry_run and self.action == CREATED else self.id,
                "entityType": self.entity_type, "sourceId": self.source_id}
        if with_action:
            item["action"] = self.action
        if self.upgraded_from is not None:
            item["upgradedFrom"] = self.upgraded_from
        if self.warnings:
            item["warnings"] = list(self.warnings)
        return item


def _nothing_to_build(indexes: list[int]) -> Iterator[dict]:
    return iter(())


@dataclass(frozen=True)
class ImportPlan:
    import_id: str
    owner: str
    collection_id: str | None
    entities: list[PlannedEntity] = field(default_factory=list)
    mode: str = NEW_COPIES
    # The documents of the entities at these indexes, built from the file one at a time when they are
    # written: a large import is never held whole as documents.
    build: Callable[[list[int]], Iterator[dict]] = _nothing_to_build

    def _built(self, action: str | None = None) -> Iterator[tuple[PlannedEntity, dict]]:
        """The entities with this action (None: every one written) and their documents."""
        chosen = [index for index, entity in enumerate(self.entities)
                  if entity.action == action or (action is None and entity.action != UNCHANGED)]
        return zip([self.entities[index] for index in chosen], self.build(chosen), strict=True)

    @property
    def documents(self) -> Iterator[dict]:
        """Every document the import writes: created and updated entities (unchanged ones are not written)."""
        return (document for _, document in self._built())

    @property
    def created(self) -> Iterator[dict]:
        return (document for _, document in self._built(CREATED))

    @property
    def overwrites(self) -> Iterator[tuple[dict, dict]]:
        """(new version, the version it replaces as read) of every updated entity."""
        return ((document, entity.replaces) for entity, document in self._built(UPDATED))

    @property
    def entity_ids(self) -> list[str]:
        return [entity.id for entity in self.entities]

    def ids_of(self, action: str) -> list[str]:
        return [entity.id for entity in self.entities if entity.action == action]

    def written_counts(self) -> dict[str, int]:
        """How many documents the import writes, by entityType."""
        counts: dict[str, int] = {}
        for entity in self.entities:
            if entity.action != UNCHANGED:
                counts[entity.entity_type] = counts.get(entity.entity_type, 0) + 1
        return counts

    def updated_ids_by_collection(self) -> dict[str, list[str]]:
        ids: dict[str, list[str]] = {}
        for entity in self.entities:
            if entity.action == UPDATED:
                ids.setdefault(collection_of(entity.entity_type), []).append(entity.id)
        return ids

    def outcome(self, *, dry_run: bool = False) -> list[dict]:
        with_action = self.mode != NEW_COPIES
        return [entity.outcome(dry_run=dry_run, with_action=with_action) for entity in self.entities]


def plan_import(outlines: list[dict], upgraded: Callable[[list[int]], Iterable[dict]],
                verdict: CatalogVerdict, *,
                owner: str, collection_id: str | None, now: datetime, upgraded_from: dict[str, int],
                reading_warnings: dict[str, list[str]] | None = None, mode: str = NEW_COPIES,
                kept: dict[str, Kept] | None = None, hold_documents: bool = True,
                import_id: str | None = None, new_id: Callable[[], str] = new_entity_id) -> ImportPlan:
    """The plan for entities that passed every check, at their current versions and in file order:
    `outlines` as the checks read them, `upgraded(indexes)` those of them complete, read again (the plan
    changes them in place, as many times as it reads them: the same document each time). `kept`:
    overwriting, the earlier copy each entity (by its id in the file) replaces; it keeps its id, owner and
    creation. `hold_documents`: the documents built to learn whether an overwritten entity changed are
    kept until written (a file in memory, whose entities they share), else built again then (a spooled
    file, never held whole)."""
    kept = kept or {}
    now = stored_time(now)  # once: every document stores this time
    new_ids = {entity["id"]: kept[entity["id"]].document["id"] if entity["id"] in kept else new_id()
               for entity in outlines}
    import_id = import_id or new_id()
    # Definitions are adjusted to the target on the outlines, once; the documents take them from there.
    outline_of = {outline["id"]: outline for outline in outlines}
    adjusted = {outline["id"]: _adjust_definitions(outline, verdict) for outline in outlines}

    def document_of(entity: dict) -> dict:
        """The stored document of a complete upgraded entity (the import's own copy, changed in place)."""
        if entity["exportEntityType"] == "dashboard":
            # Not refused but never kept, as Optimize's DashboardImportService.createDashboardDefinition.
            entity["managementDashboard"] = False
        source_id = entity["id"]
        _take_definitions(entity, outline_of[source_id], adjusted[source_id][1])
        _rewrite_references(entity, new_ids)
        document = stored_entity_from_export(entity, entity_id=new_ids[source_id], owner=owner,
                                             collection_id=collection_id, now=now, import_id=import_id,
                                             copy=False)
        document[SOURCE_ID] = source_id
        document[IMPORT_DIGEST] = content_digest(document)
        if source_id in kept:
            earlier = kept[source_id].document
            document = {**document, "owner": earlier["owner"], "created": earlier["created"]}
        return document

    # Overwriting: whether an entity changed is known from its document's digest, so the documents of the
    # entities that replace earlier copies are built here, for their digests.
    replacing = [index for index, outline in enumerate(outlines) if outline["id"] in kept]
    built: dict[int, dict] = {}
    digests = {}
    for index, document in zip(replacing, map(document_of, upgraded(replacing)), strict=True):
        digests[document[SOURCE_ID]] = document[IMPORT_DIGEST]
        if hold_documents:
            built[index] = document
    entities = []
    for outline in outlines:
        source_id = outline["id"]
        warnings = [*(reading_warnings or {}).get(source_id, []), *adjusted[source_id][0]]
        checked = {**outline, "id": new_ids[source_id]}
        entity_type = ENTITY_TYPE_OF[outline["exportEntityType"]]
        planned = PlannedEntity(source_id, new_ids[source_id], entity_type, checked,
                                upgraded_from.get(source_id), tuple(warnings))
        if source_id in kept:
            planned = _replacing(planned, kept[source_id], digests[source_id])
        entities.append(planned)

    def build(indexes: list[int]) -> Iterator[dict]:
        fresh = iter(upgraded([index for index in indexes if index not in built]))
        return (built[index] if index in built else document_of(next(fresh)) for index in indexes)

    return ImportPlan(import_id=import_id, owner=owner, collection_id=collection_id, entities=entities,
                      mode=mode, build=build)


def _replacing(planned: PlannedEntity, kept: Kept, digest: str) -> PlannedEntity:
    """The entity as an update of the earlier copy: unchanged when its content is the same."""
    warnings = (*planned.warnings, *kept.warnings)
    action, replaces = (UNCHANGED, None) if kept.copy.digest == digest else (UPDATED, kept.document)
    return PlannedEntity(planned.source_id, planned.id, planned.entity_type, planned.outline,
                         planned.upgraded_from, warnings, action, replaces)


def _rewrite_references(entity: dict, new_ids: dict[str, str]) -> None:
    for location, report_id in report_references(entity):
        *parents, last = location
        holder = entity
        for part in parents:
            holder = holder[part]
        holder[last] = new_ids.get(report_id, report_id)


def _adjust_definitions(entity: dict, verdict: CatalogVerdict) -> tuple[list[str], str | None]:
    """Drops listed versions the target lacks (the checks made sure one remains); says what was dropped,
    and gives the target's XML."""
    definition_type = DEFINITION_TYPE_OF.get(entity["exportEntityType"])
    if definition_type is None:
        return [], None
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
    return warnings, xml


def _take_definitions(entity: dict, outline: dict, xml: str | None) -> None:
    """The definitions as adjusted on the entity's outline, and the target's XML, as Optimize takes it."""
    if DEFINITION_TYPE_OF.get(entity["exportEntityType"]) is None:
        return
    entity["data"]["definitions"] = outline["data"]["definitions"]
    configuration = entity["data"].get("configuration")
    if xml is not None and isinstance(configuration, dict):
        configuration["xml"] = xml
