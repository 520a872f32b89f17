"""Export files: the requested entities (or every entity of some collections) with every report they
need, each once.

The store is asked once per level of references (requested entities, their reports, the children of
combined reports among those), never once per entity; the catalog once per question (which collections,
which definitions)."""

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Protocol

from contracts.catalog_rpc import CollectionAccess
from contracts.entities import ENTITY_NAMES, EXPORT, export_entity_from_stored
from contracts.errors import ErrorCode, ServiceError
from contracts.events import ENTITY_EXPORTED, new_event
from contracts.export_file import definitions_of, referenced_report_ids
from export_svc.domain.access import AccessQuestions, EntityAccess
from optimize_runtime.identity import Identity

# The report ids each entity shows, in order.
References = dict[str, list[str]]

# A collection's file lists what others show first: single reports, combined reports, dashboards.
_COLLECTION_FILE_RANK = {"single_process_report": 0, "single_decision_report": 0, "combined_report": 1,
                         "dashboard": 2}


class ExportableEntities(Protocol):
    def get_many(self, entity_ids: Iterable[str], entity_type: str | None = None) -> dict[str, dict]: ...
    def in_collections(self, collection_ids: Iterable[str]) -> list[dict]: ...


@dataclass
class Exporter:
    entities: ExportableEntities
    catalog: AccessQuestions
    publish: Callable[[dict], None]
    access: EntityAccess = field(init=False)

    def __post_init__(self) -> None:
        self.access = EntityAccess(self.catalog)

    def export(self, user: Identity, entity_type: str, entity_ids: list[str], *,
               request_id: str | None = None) -> list[dict]:
        """The export file of these reports or dashboards, in Optimize's order: each report followed by a
        combined report's children; for dashboards, the reports they show, then the dashboards (all in
        request order, each entity once). Every entity in it must be the caller's to export
        (`EntityAccess`): a user also needs every definition read, the public API is trusted with
        definitions (as in Optimize) but reads collection entities only."""
        requested = list(dict.fromkeys(entity_ids))
        roots = self.entities.get_many(requested, entity_type)
        missing = [entity_id for entity_id in requested if entity_id not in roots]
        if missing:
            raise ServiceError(ErrorCode.NOT_FOUND,
                               f"{ENTITY_NAMES[entity_type]} '{missing[0]}' does not exist",
                               f"These {entity_type}s do not exist: {', '.join(missing)}",
                               id=missing[0], ids=missing)

        return self._file(user, requested, roots, request_id=request_id,
                          details={"requested": requested, "entityType": entity_type},
                          order=_in_optimizes_order)

    def export_collections(self, user: Identity, collection_ids: list[str], *,
                           request_id: str | None = None) -> list[dict]:
        """One file with every report and dashboard of these collections, each once: single reports,
        then combined reports, then dashboards (a report they show from elsewhere just before them).
        A user needs a role in every collection (the public API none), then each entity is checked."""
        requested = list(dict.fromkeys(collection_ids))
        access = self.catalog.collection_access(user, requested)
        _refuse_inaccessible_collections(user, requested, access, require_role=not user.public_api)

        position = {collection_id: index for index, collection_id in enumerate(requested)}
        documents = sorted(self.entities.in_collections(requested), key=lambda document: (
            _COLLECTION_FILE_RANK[document["exportEntityType"]], position[document["collectionId"]],
            document["created"], document["id"]))
        roots = {document["id"]: document for document in documents}
        return self._file(user, list(roots), roots, request_id=request_id,
                          details={"collectionIds": requested},
                          collection_id=requested[0] if len(requested) == 1 else None)

    def _file(self, user: Identity, requested: list[str], roots: dict[str, dict], *,
              request_id: str | None, details: dict, collection_id: str | None = None,
              order: Callable | None = None) -> list[dict]:
        """The file of these entities (`requested`: their order) and every report they show."""
        documents, references = self._with_referenced_reports(roots)
        if documents:  # before anything else is said about them
            found = list(documents.values())
            self.access.require(user, EXPORT, found, definitions_of(found))
        _refuse_dangling_references(documents, references)
        ordered = (order or _in_dependency_order)(requested, references, documents)
        # The documents were read for this export alone: their content goes into the file as read.
        entities = [export_entity_from_stored(documents[entity_id], copy=False) for entity_id in ordered]

        self.publish(new_event(ENTITY_EXPORTED, user.user_id, ordered, collection_id=collection_id,
                               request_id=request_id, details=details))
        return entities

    def _with_referenced_reports(self, roots: dict[str, dict]) -> tuple[dict[str, dict], References]:
        """Every document reachable from the roots, and the report ids each one shows, in order."""
        documents, references = dict(roots), {}
        level = list(roots.values())
        while level:
            for document in level:
                references[document["id"]] = referenced_report_ids(document)
            wanted = [report_id for document in level for report_id in references[document["id"]]
                      if report_id not in documents]
            found = self.entities.get_many(wanted, "report") if wanted else {}
            documents.update(found)
            level = list(found.values())
        return documents, references


def _refuse_inaccessible_collections(user: Identity, requested: list[str],
                                     access: dict[str, CollectionAccess], require_role: bool) -> None:
    unknown = [cid for cid in requested if cid not in access or not access[cid].exists]
    if unknown:
        raise ServiceError(ErrorCode.NOT_FOUND, f"Collection '{unknown[0]}' does not exist",
                           f"These collections do not exist: {', '.join(unknown)}",
                           id=unknown[0], ids=unknown)
    without_role = [cid for cid in requested if access[cid].role is None]
    if require_role and without_role:
        raise ServiceError(ErrorCode.FORBIDDEN,
                           f"User '{user.user_id}' has no role in collection '{without_role[0]}'",
                           "Exporting a collection needs a role in it", collectionId=without_role[0],
                           ids=without_role)


def _refuse_dangling_references(documents: dict[str, dict], references: References) -> None:
    """Optimize answers a 500 when a report a dashboard or combined report shows is gone; we say which."""
    dangling = []
    for entity_id, report_ids in references.items():
        missing = [report_id for report_id in report_ids if report_id not in documents]
        if missing:
            dangling.append({"id": entity_id, "entityType": documents[entity_id]["entityType"],
                             "missingReportIds": missing})
    if dangling:
        missing_ids = list(dict.fromkeys(
            report_id for entity in dangling for report_id in entity["missingReportIds"]))
        raise ServiceError(
            ErrorCode.MISSING_REFERENCED_REPORTS,
            f"Referenced reports do not exist any more: {', '.join(missing_ids)}",
            "Remove them from these entities, or delete the entities, before exporting: "
            + ", ".join(entity["id"] for entity in dangling),
            missingReportIds=missing_ids, entities=dangling)


def _in_optimizes_order(requested: list[str], references: References,
                        documents: dict[str, dict]) -> list[str]:
    """As Optimize's ReportExportService and DashboardExportService write a file: a report, then (for a
    combined report) its children; the reports of dashboards first, then the dashboards. Each id once."""
    ordered: dict[str, None] = {}

    def add_report(report_id: str) -> None:
        if report_id not in ordered:
            ordered[report_id] = None
            for child_id in references.get(report_id, []):
                add_report(child_id)

    dashboards = [entity_id for entity_id in requested if documents[entity_id]["entityType"] == "dashboard"]
    for entity_id in requested:
        for report_id in references.get(entity_id, []) if entity_id in dashboards else [entity_id]:
            add_report(report_id)
    ordered.update(dict.fromkeys(dashboards))
    return list(ordered)


def _in_dependency_order(requested: list[str], references: References,
                         documents: dict[str, dict]) -> list[str]:
    """A collection's file (ours, not Optimize's): depth first, what an entity shows comes before it; each
    id once, where it first appears."""
    ordered: dict[str, None] = {}
    visiting: set[str] = set()

    def add(entity_id: str) -> None:
        if entity_id in ordered or entity_id in visiting:
            return
        visiting.add(entity_id)
        for report_id in references.get(entity_id, []):
            add(report_id)
        ordered[entity_id] = None

    for entity_id in requested:
        add(entity_id)
    return list(ordered)
