"""Two installations side by side on the same servers, each with its own catalog: what one exports,
the other imports (or refuses, saying exactly why)."""

import copy
import json

import pytest
from pymongo import MongoClient

from optimize_testing.installation import start_installation
from optimize_testing.pytest_plugin import REAL_OPTIMIZE_EXPORT, isolated_names

FIXTURE = REAL_OPTIMIZE_EXPORT
NASA = "NasaImageProcessing"


@pytest.fixture
def a_and_b(servers):
    a = start_installation(servers, isolated_names("a"))
    b = start_installation(servers, isolated_names("b"))
    yield a, b
    a.close()
    b.close()


def ok(response, *statuses):
    assert response.status_code in (statuses or (200, 204)), response.get_data(as_text=True)
    return response


def deploy(installation, key, versions=("1",), tenants=(None,), xml=True):
    items = [{"type": "process", "key": key, "name": key, "version": version, "tenantId": tenant,
              **({"xml": f"<definitions id='{key}-{version}-{installation.names.prefix}'/>"} if xml else {})}
             for version in versions for tenant in tenants]
    ok(installation.catalog.post("/api/definition", json=items, headers=installation.headers()))


def authorize(installation, key="*", tenants=(None, "t1", "t2"), user="demo"):
    grant = [{"identity": {"id": user, "type": "user"}, "definitionType": "process", "definitionKey": key,
              "tenants": list(tenants)}]
    ok(installation.catalog.post("/api/authorization", json=grant, headers=installation.headers()))


def collection(installation, name, scope=()):
    collection_id = ok(installation.catalog.post("/api/collection", json={"name": name},
                                                 headers=installation.headers())).json["id"]
    if scope:
        entries = [{"definitionType": "process", "definitionKey": key, "tenants": list(tenants)}
                   for key, tenants in scope]
        ok(installation.catalog.post(f"/api/collection/{collection_id}/scope", json=entries,
                                     headers=installation.headers()))
    return collection_id


def import_file(installation, file, collection_id=None):
    query = f"?collectionId={collection_id}" if collection_id else ""
    body = file if isinstance(file, bytes) else json.dumps(file)
    return installation.imports.post(f"/api/import{query}", data=body, content_type="application/json",
                                     headers=installation.headers())


def export_dashboard(installation, dashboard_id):
    response = ok(installation.export.get(f"/api/export/dashboard/json/{dashboard_id}/board.json",
                                          headers=installation.headers()), 200)
    return json.loads(response.get_data())


def entity_count(installation) -> int:
    with MongoClient(installation.environ["OPTIMIZE_MONGODB_URI"]) as client:
        db = client[installation.names.entities_db]
        return len(list(db.reports.find({}, {"_id": 1}))) + len(list(db.dashboards.find({}, {"_id": 1})))


def nasa_target(installation, name="Mars"):
    deploy(installation, NASA, versions=("1", "2"))
    authorize(installation)
    return collection(installation, name, scope=[(NASA, [None])])


def test_real_optimize_file_lands_in_a_collection_listed_and_exportable_again(a_and_b):
    _, b = a_and_b
    collection_id = nasa_target(b)

    response = import_file(b, FIXTURE.read_bytes(), collection_id)

    assert response.status_code == 200, response.json
    assert len(response.json) == 7
    report_ids = [item["id"] for item in response.json[:6]]
    dashboard_id = response.json[6]["id"]
    listed = ok(b.export.get(f"/api/collection/{collection_id}/entities", headers=b.headers()), 200).json
    assert sorted(entity["id"] for entity in listed) == sorted([*report_ids, dashboard_id])
    exported = export_dashboard(b, dashboard_id)
    assert [entity["id"] for entity in exported[-1:]] == [dashboard_id]
    assert sorted(entity["id"] for entity in exported[:-1]) == sorted(report_ids)
    tiles = exported[-1]["tiles"]
    assert len(tiles) == 6 and {tile["id"] for tile in tiles} == set(report_ids)


def test_real_optimize_file_is_refused_by_a_target_lacking_its_definition(a_and_b):
    _, b = a_and_b
    deploy(b, "invoice")
    authorize(b)
    collection_id = collection(b, "Mars", scope=[("invoice", [None])])

    for target in (None, collection_id):
        response = import_file(b, FIXTURE.read_bytes(), target)
        assert (response.status_code, response.json["errorCode"]) == (400, "importDefinitionDoesNotExist")
        assert NASA in response.json["errorMessage"]
        assert [definition["key"] for definition in response.json["definitions"]] == [NASA]
    assert entity_count(b) == 0


def exported_from_a(a) -> list[dict]:
    """The real file imported privately into A, then exported from A as a user would."""
    deploy(a, NASA)
    authorize(a)
    imported = import_file(a, FIXTURE.read_bytes())
    assert imported.status_code == 200, imported.json
    return export_dashboard(a, imported.json[-1]["id"])


def test_export_from_one_installation_imports_into_another_privately_and_into_a_collection(a_and_b):
    a, b = a_and_b
    file = exported_from_a(a)
    assert [entity["sourceIndexVersion"] for entity in file] == [11] * 6 + [8]
    collection_id = nasa_target(b)

    private = import_file(b, file)
    into_collection = import_file(b, file, collection_id)

    assert private.status_code == into_collection.status_code == 200
    assert all("upgradedFrom" not in item for item in private.json)
    listed = ok(b.export.get(f"/api/collection/{collection_id}/entities", headers=b.headers()), 200).json
    assert sorted(entity["id"] for entity in listed) == sorted(item["id"] for item in into_collection.json)
    mine = ok(b.export.get("/api/entities", headers=b.headers()), 200).json
    private_ids = {item["id"] for item in private.json}
    assert {entity["collectionId"] for entity in mine if entity["id"] in private_ids} == {None}
    assert entity_count(b) == 14


def test_round_trip_gives_the_same_entities_apart_from_ids_owner_collection_and_times(a_and_b):
    a, b = a_and_b
    deploy(a, NASA, xml=False)
    authorize(a)
    first = import_file(a, FIXTURE.read_bytes())
    exported_a = export_dashboard(a, first.json[-1]["id"])
    deploy(b, NASA, xml=False)
    authorize(b)
    collection_id = collection(b, "Copy", scope=[(NASA, [None])])

    second = import_file(b, exported_a, collection_id)
    assert second.status_code == 200, second.json
    exported_b = export_dashboard(b, second.json[-1]["id"])

    assert comparable(exported_b) == comparable(exported_a)
    assert {entity["collectionId"] for entity in exported_b} == {collection_id}


def comparable(file: list[dict]) -> list[dict]:
    """The file with ids replaced by positions, and without what an import rightly changes."""
    position = {entity["id"]: f"#{index}" for index, entity in enumerate(file)}
    entities = []
    for entity in copy.deepcopy(file):
        entity.pop("id")
        entity.pop("collectionId")
        for tile in entity.get("tiles", []):
            tile["id"] = position.get(tile["id"], tile["id"])
        entities.append(entity)
    return sorted(entities, key=lambda entity: json.dumps(entity, sort_keys=True))


def report(report_id, key, tenants=(None,), **overrides):
    entity = {"id": report_id, "exportEntityType": "single_process_report", "name": f"Report {report_id}",
              "description": None, "sourceIndexVersion": 11, "collectionId": None,
              "data": {"definitions": [{"key": key, "versions": ["1"], "tenantIds": list(tenants)}],
                       "configuration": {}, "filter": [], "view": None, "groupBy": None,
                       "visualization": "number"}}
    entity.update(overrides)
    return entity


@pytest.fixture
def b_with_prerequisites(a_and_b):
    """B: 'invoice' everywhere; 'secret' deployed but not authorized; 'outside' deployed but not in the
    collection's scope; 'tenanted' in scope for tenant t1 only; 'missing' authorized and in scope, not
    deployed."""
    _, b = a_and_b
    deploy(b, "invoice")
    deploy(b, "secret")
    deploy(b, "outside")
    deploy(b, "tenanted", tenants=("t1", "t2"))
    for key in ("invoice", "outside", "tenanted", "missing"):
        authorize(b, key)
    collection_id = collection(b, "Finance", scope=[("invoice", [None]), ("secret", [None]),
                                                    ("tenanted", ["t1"]), ("missing", [None])])
    return b, collection_id


@pytest.mark.parametrize(("entity", "status", "code", "named"), [
    (report("r", "missing"), 400, "importDefinitionDoesNotExist", "missing"),
    (report("r", "secret"), 403, "importDefinitionForbidden", "secret"),
    (report("r", "outside"), 409, "nonDefinitionScopeCompliantConflict", "outside"),
    (report("r", "tenanted", tenants=["t2"]), 409, "nonTenantScopeCompliantConflict", "tenanted"),
    (report("r", "invoice", sourceIndexVersion=12), 400, "importIndexVersionMismatch", None),
])
def test_each_prerequisite_failing_alone_is_named_and_writes_nothing(b_with_prerequisites, entity, status,
                                                                     code, named):
    b, collection_id = b_with_prerequisites
    response = import_file(b, [report("fine", "invoice"), entity], collection_id)

    assert (response.status_code, response.json["errorCode"]) == (status, code)
    assert [problem["errorCode"] for problem in response.json["errors"]] == [code]
    if named:
        assert [definition["key"] for definition in response.json["definitions"]] == [named]
    else:
        assert response.json["mismatchingIndices"] == [
            {"indexName": "optimize-single-process-report_v11", "sourceIndexVersion": 12,
             "targetIndexVersion": 11}]
    if code.startswith("non"):
        assert response.json["conflictedItems"] == [
            {"id": collection_id, "type": "collection", "name": "Finance"}]
    assert entity_count(b) == 0


def test_every_prerequisite_failing_at_once_is_listed(b_with_prerequisites):
    b, collection_id = b_with_prerequisites
    file = [report("missing", "missing"), report("secret", "secret"), report("outside", "outside"),
            report("tenant", "tenanted", tenants=["t2"]), report("new", "invoice", sourceIndexVersion=12)]

    response = import_file(b, file, collection_id)

    assert (response.status_code, response.json["errorCode"]) == (400, "importIndexVersionMismatch")
    assert [problem["errorCode"] for problem in response.json["errors"]] == [
        "importIndexVersionMismatch", "importDefinitionDoesNotExist", "importDefinitionForbidden",
        "nonDefinitionScopeCompliantConflict", "nonTenantScopeCompliantConflict"]
    keys = {problem["errorCode"]: [d["key"] for d in problem.get("definitions", [])]
            for problem in response.json["errors"]}
    assert keys["importDefinitionDoesNotExist"] == ["missing"]
    assert keys["importDefinitionForbidden"] == ["secret"]
    assert keys["nonDefinitionScopeCompliantConflict"] == ["outside"]
    assert keys["nonTenantScopeCompliantConflict"] == ["tenanted"]
    assert entity_count(b) == 0
