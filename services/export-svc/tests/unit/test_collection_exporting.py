"""The rules of a collection's export file, with a fake store and catalog: what is shown comes first, each
entity once, the collections named when missing or without a role, and the questions asked."""

import uuid
from datetime import UTC, datetime, timedelta

import pytest

from contracts.catalog_rpc import CollectionAccess, ExportCheck
from contracts.entities import stored_entity_from_export
from contracts.errors import ErrorCode, ServiceError
from export_svc.domain.exporting import Exporter
from optimize_runtime.identity import Identity

DEMO = Identity("demo", superuser=True)
PUBLIC = Identity("System User", public_api=True)
START = datetime(2024, 5, 17, tzinfo=UTC)
_NAMES: dict[str, str] = {}


def uid(name: str) -> str:
    """A report id in Optimize's form (dashboard tiles point at reports only by such ids)."""
    value = str(uuid.uuid5(uuid.NAMESPACE_URL, name))
    _NAMES[value] = name
    return value


def named(entities: list[dict]) -> list[str]:
    return [_NAMES.get(entity["id"], entity["id"]) for entity in entities]


def report(report_id: str, export_type: str = "single_process_report") -> dict:
    return {"id": uid(report_id), "exportEntityType": export_type, "name": report_id, "description": None,
            "sourceIndexVersion": 11 if export_type == "single_process_report" else 10,
            "collectionId": None,
            "data": {"definitions": [{"key": "invoice", "versions": ["1"], "tenantIds": [None]}]}}


def combined(report_id: str, children: list[str]) -> dict:
    return {"id": uid(report_id), "exportEntityType": "combined_report", "name": report_id,
            "description": None,
            "sourceIndexVersion": 5, "collectionId": None,
            "data": {"reports": [{"id": uid(child), "color": "#000000"} for child in children]}}


def dashboard(dashboard_id: str, report_ids: list[str]) -> dict:
    tiles = [{"id": uid(rid), "type": "optimize_report", "position": {"x": 0, "y": 0},
              "dimensions": {"width": 1, "height": 1}, "configuration": None} for rid in report_ids]
    return {"id": dashboard_id, "exportEntityType": "dashboard", "name": dashboard_id, "description": None,
            "sourceIndexVersion": 8, "collectionId": None, "tiles": tiles, "availableFilters": []}


class FakeStore:
    """Entities created one minute apart, in the order given, each in its collection (None: private)."""

    def __init__(self, *placed: tuple[str | None, dict]) -> None:
        self.documents = {
            entity["id"]: stored_entity_from_export(entity, entity_id=entity["id"], owner="demo",
                                                    collection_id=collection_id,
                                                    now=START + timedelta(minutes=minute))
            for minute, (collection_id, entity) in enumerate(placed)}
        self.queries = 0

    def get_many(self, entity_ids, entity_type=None):
        self.queries += 1
        return {i: d for i in entity_ids if (d := self.documents.get(i)) and d["entityType"] == entity_type}

    def in_collections(self, collection_ids):
        self.queries += 1
        return [d for d in self.documents.values() if d["collectionId"] in collection_ids]


class FakeCatalog:
    def __init__(self, roles: dict[str, str | None]) -> None:
        self.roles = roles  # the collections that exist, with demo's role in each
        self.calls: list[str] = []

    def collection_access(self, user, collection_ids):
        self.calls.append("collection_access")
        return self._access(collection_ids)

    def check_export(self, user, definitions, collection_ids=None):
        self.calls.append("check_export")
        return ExportCheck((), (), self._access(collection_ids or []))

    def _access(self, collection_ids):
        return {cid: CollectionAccess(cid, cid in self.roles, role=self.roles.get(cid))
                for cid in collection_ids}


def test_single_reports_then_combined_reports_then_dashboards_each_once():
    store = FakeStore(("c", dashboard("board", ["both", "approvals", "outside"])),
                      ("c", combined("both", ["invoices", "late"])),
                      ("c", report("late")), ("c", report("approvals", "single_decision_report")),
                      ("c", report("invoices")), (None, report("outside")), ("other", report("elsewhere")))
    catalog = FakeCatalog({"c": "editor", "other": "manager"})
    events: list[dict] = []

    file = Exporter(store, catalog, events.append).export_collections(DEMO, ["c"])

    # oldest first within a kind; a report from outside the collection just before what shows it
    assert named(file) == ["late", "approvals", "invoices", "both", "outside", "board"]
    assert catalog.calls == ["collection_access", "check_export"]
    assert store.queries == 2  # the collection's entities, the report from outside
    assert (events[0]["collectionId"], events[0]["entityIds"]) == ("c", [entity["id"] for entity in file])


def test_several_collections_in_one_file_kind_by_kind_in_the_order_asked():
    store = FakeStore(("c1", report("r1")), ("c2", report("r2")), ("c2", dashboard("d2", ["r2"])),
                      ("c1", dashboard("d1", ["r1"])))
    export = Exporter(store, FakeCatalog({"c1": None, "c2": None}), lambda event: None)

    file = export.export_collections(PUBLIC, ["c2", "c1", "c2"])

    assert named(file) == ["r2", "r1", "d2", "d1"]


@pytest.mark.parametrize(("roles", "asked", "code", "named"), [
    ({"c": "viewer"}, ["c", "gone", "lost"], ErrorCode.NOT_FOUND, ["gone", "lost"]),
    ({"c": "viewer", "d": None, "e": None}, ["c", "d", "e"], ErrorCode.FORBIDDEN, ["d", "e"]),
])
def test_missing_collections_and_collections_without_a_role_are_named(roles, asked, code, named):
    store = FakeStore(("c", report("r")))
    events: list[dict] = []

    with pytest.raises(ServiceError) as refused:
        Exporter(store, FakeCatalog(roles), events.append).export_collections(DEMO, asked)

    assert (refused.value.code, refused.value.extra["ids"]) == (code, named)
    assert store.queries == 0 and events == []


def test_an_empty_collection_is_an_empty_file_without_asking_about_definitions():
    catalog = FakeCatalog({"c": "manager"})

    assert Exporter(FakeStore(), catalog, lambda event: None).export_collections(DEMO, ["c"]) == []
    assert catalog.calls == ["collection_access"]
