"""The rules of an export file, with a fake store and catalog: order, each entity once, and the
number of questions asked."""

import uuid
from datetime import UTC, datetime

import pytest

from contracts.catalog_rpc import CollectionAccess, ExportCheck, ForbiddenDefinition
from contracts.entities import stored_entity_from_export
from contracts.errors import ServiceError
from export_svc.domain.exporting import Exporter
from optimize_runtime.identity import Identity

DEMO = Identity("demo", superuser=True)
PUBLIC = Identity("System User", public_api=True)
NOW = datetime(2024, 5, 17, tzinfo=UTC)
_NAMES: dict[str, str] = {}


def uid(name: str) -> str:
    """An id in Optimize's form (dashboard tiles point at reports only by such ids), named for the test."""
    value = str(uuid.uuid5(uuid.NAMESPACE_URL, name))
    _NAMES[value] = name
    return value


def named(entities: list[dict]) -> list[str]:
    return [_NAMES.get(entity["id"], entity["id"]) for entity in entities]


def report(report_id: str, key: str = "invoice") -> dict:
    return {"id": uid(report_id), "exportEntityType": "single_process_report", "name": report_id,
            "description": None, "sourceIndexVersion": 11, "collectionId": None,
            "data": {"definitions": [{"key": key, "versions": ["1"], "tenantIds": [None]}]}}


def combined(report_id: str, children: list[str]) -> dict:
    return {"id": uid(report_id), "exportEntityType": "combined_report", "name": report_id,
            "description": None,
            "sourceIndexVersion": 5, "collectionId": None,
            "data": {"reports": [{"id": uid(child), "color": "#000000"} for child in children]}}


def dashboard(dashboard_id: str, report_ids: list[str]) -> dict:
    tiles = [{"id": uid(rid), "type": "optimize_report", "position": {"x": 0, "y": 0},
              "dimensions": {"width": 1, "height": 1}, "configuration": None} for rid in report_ids]
    tiles.append({"id": "", "type": "text", "position": {"x": 0, "y": 0},
                  "dimensions": {"width": 1, "height": 1}, "configuration": {"text": None}})
    return {"id": dashboard_id, "exportEntityType": "dashboard", "name": dashboard_id, "description": None,
            "sourceIndexVersion": 8, "collectionId": None, "tiles": tiles, "availableFilters": []}


class FakeStore:
    def __init__(self, *entities: dict, collection_id: str | None = None) -> None:
        self.documents = {e["id"]: stored_entity_from_export(e, entity_id=e["id"], owner="demo",
                                                             collection_id=collection_id, now=NOW)
                          for e in entities}
        self.queries = 0

    def get_many(self, entity_ids, entity_type=None):
        self.queries += 1
        return {i: d for i in entity_ids if (d := self.documents.get(i)) and d["entityType"] == entity_type}


class FakeCatalog:
    def __init__(self, forbidden_keys: tuple[str, ...] = (),
                 roles: dict[str, str | None] | None = None) -> None:
        self.forbidden_keys = forbidden_keys
        self.roles = roles or {}  # the collections that exist, with the caller's role in each
        self.calls: list[list[dict]] = []
        self.access_calls: list[list[str]] = []

    def check_export(self, user, definitions, collection_ids=None):
        self.calls.append([d.as_message() for d in definitions])
        return ExportCheck((), tuple(ForbiddenDefinition(d.type, d.key, d.tenant_ids)
                                     for d in definitions if d.key in self.forbidden_keys),
                           self.collection_access(user, collection_ids or []))

    def collection_access(self, user, collection_ids):
        self.access_calls.append(collection_ids)
        return {cid: CollectionAccess(cid, cid in self.roles, role=self.roles.get(cid))
                for cid in collection_ids}


def exporter(store: FakeStore, catalog: FakeCatalog | None = None) -> tuple[Exporter, list[dict]]:
    events: list[dict] = []
    return Exporter(store, catalog or FakeCatalog(), events.append), events


def test_reports_in_optimizes_order_then_the_dashboards_each_entity_once():
    """DashboardExportService.getCompleteDashboardExport: the dashboards' reports, then the dashboards;
    ReportExportService: a combined report, then its children."""
    store = FakeStore(report("a"), report("b"), report("c"), combined("ab", ["a", "b"]),
                      dashboard("d1", ["c", "ab", "a", "c"]), dashboard("d2", ["a", "c"]))
    export, events = exporter(store)

    file = export.export(DEMO, "dashboard", ["d1", "d2", "d1"])

    assert named(file) == ["c", "ab", "a", "b", "d1", "d2"]
    assert store.queries == 3  # dashboards, their reports, the combined report's children
    assert events[0]["entityIds"] == [entity["id"] for entity in file]


def test_a_combined_report_comes_before_its_children():
    """ReportExportService.retrieveRelevantReportDefinitionsOrFailIfMissing adds the combined report, then
    its single reports."""
    export, _ = exporter(FakeStore(report("a"), report("b"), combined("ab", ["a", "b"])))

    assert named(export.export(DEMO, "report", [uid("ab"), uid("b")])) == ["ab", "a", "b"]


def test_one_authorization_question_for_every_definition_of_the_file():
    store = FakeStore(report("a"), report("b", key="payroll"), combined("ab", ["a", "b"]))
    catalog = FakeCatalog(forbidden_keys=("payroll",))
    export, events = exporter(store, catalog)

    with pytest.raises(ServiceError) as refused:
        export.export(DEMO, "report", [uid("ab")])

    assert refused.value.status == 403
    assert refused.value.extra["definitions"] == [{"type": "process", "key": "payroll", "tenantIds": [None]}]
    assert [[d["key"] for d in call] for call in catalog.calls] == [["invoice", "payroll"]]
    assert events == []


def test_the_public_api_is_not_asked_about_definitions_but_exports_collection_entities_only():
    """Optimize's PublicApiRestService exports without a definition check (ReportExportService.
    getReportExportDtos); here it never reaches a private entity, and a deleted collection's are gone."""
    catalog = FakeCatalog(forbidden_keys=("invoice",), roles={"c": None})
    export, _ = exporter(FakeStore(report("a"), collection_id="c"), catalog)
    assert named(export.export(PUBLIC, "report", [uid("a")])) == ["a"]
    assert catalog.calls == [] and catalog.access_calls == [["c"]]

    with pytest.raises(ServiceError) as private:
        exporter(FakeStore(report("p")), catalog)[0].export(PUBLIC, "report", [uid("p")])
    assert (private.value.status, private.value.extra["ids"]) == (403, [uid("p")])

    with pytest.raises(ServiceError) as gone:
        exporter(FakeStore(report("g"), collection_id="deleted"), catalog)[0].export(
            PUBLIC, "report", [uid("g")])
    assert (gone.value.status, gone.value.extra["ids"]) == (404, [uid("g")])


@pytest.mark.parametrize(("owner_collection", "roles", "user", "status"), [
    (None, {}, "demo", 200),                     # the owner of a private report
    (None, {}, "bob", 403),                      # another superuser: not his
    ("c", {"c": "viewer"}, "bob", 403),          # a viewer may see, not export (as Optimize)
    ("c", {"c": "editor"}, "bob", 200),
    ("c", {"c": "manager"}, "bob", 200),
    ("c", {"c": None}, "bob", 403),              # no role in the collection
    ("gone", {}, "demo", 404),                   # its collection was deleted
])
def test_exporting_needs_the_entity_and_its_definitions(owner_collection, roles, user, status):
    catalog = FakeCatalog(roles=roles)
    export, events = exporter(FakeStore(report("a"), collection_id=owner_collection), catalog)
    try:
        export.export(Identity(user, superuser=True), "report", [uid("a")])
        answered = 200
    except ServiceError as refusal:
        answered = refusal.status
    assert answered == status
    assert len(catalog.calls) == 1  # roles and definitions in one question
    assert (events != []) == (status == 200)


def test_missing_and_dangling_ids_are_named():
    export, _ = exporter(FakeStore(report("a"), dashboard("d", ["a", "gone"])))

    with pytest.raises(ServiceError) as missing:
        export.export(DEMO, "report", [uid("a"), "nope"])
    assert (missing.value.status, missing.value.extra["ids"]) == (404, ["nope"])

    with pytest.raises(ServiceError) as dangling:
        export.export(DEMO, "dashboard", ["d"])
    assert dangling.value.code == "missingReferencedReports"
    assert dangling.value.extra["missingReportIds"] == [uid("gone")]
