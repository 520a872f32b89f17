"""The importer's rules with a fake catalog and store: what is refused and why, what is written."""

import copy
import json
from datetime import UTC, datetime

import pytest

from contracts.catalog_rpc import ImportCheck
from contracts.errors import ServiceError
from import_svc.domain.importing import Claim, Importer, ImportRefused, ImportRequest
from import_svc.domain.importing.spooled_file import SpooledFile
from optimize_runtime.identity import SYSTEM_USER, Identity
from optimize_testing.pytest_plugin import REAL_OPTIMIZE_EXPORT

FIXTURE = REAL_OPTIMIZE_EXPORT
DEMO = Identity("demo", superuser=True)
REPORT_UUID = "2c9f3a52-7e1b-4d0a-9b6e-5f4d3c2b1a00"
INVOICE_SCOPE = {("process", "invoice"): [None]}


class FakeCatalog:
    """The catalog's check_import semantics, reduced to what these tests need."""

    def __init__(self, definitions=None, forbidden=(), collections=None):
        # (type, key) -> {"versions": [...], "tenants": [...], "xml": str | None, "variables": [...] | None}
        self.definitions = definitions or {}
        self.forbidden = set(forbidden)
        self.collections = collections or {}  # id -> {"name", "role", "scope": {(type, key): [tenants]}}
        self.calls = []

    def check_import(self, user, collection_id, definitions, *, check_authorization, with_variables=False,
                     meanwhile=None):
        params = {"user": user.as_rpc_user(), "collectionId": collection_id,
                  "definitions": [definition.as_message() for definition in definitions],
                  "checkAuthorization": check_authorization, "withVariables": with_variables}
        self.calls.append(copy.deepcopy(params))
        if meanwhile is not None:
            meanwhile()
        return ImportCheck.from_result(self._answer(params))

    def _answer(self, params):
        collection = self.collections.get(params["collectionId"])
        checks = []
        for ref in params["definitions"]:
            known = self.definitions.get((ref["type"], ref["key"]))
            tenants = known["tenants"] if known else []
            missing_tenants = [t for t in ref["tenantIds"] if t not in tenants and None not in tenants]
            versions = known["versions"] if known else []
            missing_versions = [v for v in ref["versions"]
                                if not (v in versions or (v in ("all", "latest") and versions))]
            scope = collection["scope"].get((ref["type"], ref["key"])) if collection else None
            checks.append({
                **ref, "exists": bool(known) and not missing_tenants, "missingTenants": missing_tenants,
                "existingVersions": [v for v in ref["versions"] if v not in missing_versions],
                "missingVersions": missing_versions,
                "authorized": not params["checkAuthorization"] or ref["key"] not in self.forbidden,
                "forbiddenTenants": [],
                "inScope": None if not collection else scope is not None,
                "tenantsOutOfScope": [t for t in ref["tenantIds"] if scope is not None and t not in scope],
                "xml": _latest_xml(known, ref["versions"]),
                # {"name", "type"} dicts, or None: none recorded
                "variables": known.get("variables") if known and params["withVariables"] else None,
            })
        collection_access = None
        if params["collectionId"] is not None:
            collection_access = {"id": params["collectionId"], "exists": collection is not None,
                                 "name": collection and collection["name"],
                                 "role": collection and collection["role"]}
        return {"collection": collection_access, "definitions": checks}


def _latest_xml(known, versions):
    """The XML of the latest listed version the fake knows, else its one XML."""
    if not known:
        return None
    by_version = known.get("xml_by_version", {})
    listed = [version for version in versions if version in by_version]
    return by_version[max(listed, key=int)] if listed else known.get("xml")


class FakeStore:
    def __init__(self):
        self.documents = []
        self.events = []  # recorded with the write (the commit record)
        self.journal = {}

    def recorded_outcome(self, idempotency):
        record = self.journal.get((idempotency.user_id, idempotency.key))
        if record is None:
            return None
        if record[0] != idempotency.digest:
            raise ServiceError("conflictError", "key reused")
        return record[1]

    def claim(self, import_id, owner, idempotency, entity_counts):
        return Claim(import_id, import_id, idempotency)

    def release(self, claim):
        pass

    def write(self, plan, outcome, idempotency, events=None, recheck=None, claim=None):
        if recheck is not None:
            recheck()
        self.documents += plan.documents
        self.events += events or []
        if idempotency is not None:
            self.journal[(idempotency.user_id, idempotency.key)] = (idempotency.digest, outcome)
        return outcome

    def revoke(self, plan, events):
        self.documents = [document for document in self.documents if document not in plan.documents]
        self.events += events

    def storage_problem(self, entity):
        return "too large" if entity.get("name") == "huge" else None


def process_report(report_id="r1", key="invoice", versions=("1",), tenants=(None,), **overrides):
    entity = {
        "id": report_id, "exportEntityType": "single_process_report", "name": f"Report {report_id}",
        "description": None, "sourceIndexVersion": 11, "collectionId": None,
        "data": {"definitions": [{"identifier": "d", "key": key, "versions": list(versions),
                                  "tenantIds": list(tenants)}],
                 "configuration": {"xml": "<old/>"}, "filter": [], "view": None, "groupBy": None,
                 "visualization": "number", "managementReport": False, "instantPreviewReport": False},
    }
    entity.update(overrides)
    return entity


def combined_report(report_id, children):
    return {"id": report_id, "exportEntityType": "combined_report", "name": "Combined", "description": None,
            "sourceIndexVersion": 5, "collectionId": None,
            "data": {"reports": [{"id": child, "color": "#1991c8"} for child in children],
                     "configuration": {}, "visualization": "line"}}


def dashboard(dashboard_id, report_ids):
    tiles = [{"id": report_id, "type": "optimize_report", "position": {"x": 0, "y": 0},
              "dimensions": {"width": 4, "height": 2}, "configuration": None} for report_id in report_ids]
    tiles.append({"id": "", "type": "text", "position": {"x": 0, "y": 0},
                  "dimensions": {"width": 4, "height": 2}, "configuration": {"text": None}})
    return {"id": dashboard_id, "exportEntityType": "dashboard", "name": "Dashboard", "description": None,
            "sourceIndexVersion": 8, "collectionId": None, "tiles": tiles, "availableFilters": [],
            "refreshRateSeconds": None, "managementDashboard": False, "instantPreviewDashboard": False}


class UncountedImports:
    """The importer's metrics port, counting nothing: these tests look at outcomes, not metrics."""

    def __getattr__(self, outcome):
        return lambda *details: None


@pytest.fixture(autouse=True, params=["in-memory", "spooled"])
def import_body(request, monkeypatch):
    """Every test twice: the body in memory, and spooled to a file and read entity by entity (as the API
    hands over a large body)."""
    if request.param == "spooled":
        run = Importer.run

        def run_spooled(self, import_request, body):
            with SpooledFile() as file:
                file.write(body)
                return run(self, import_request, file)

        monkeypatch.setattr(Importer, "run", run_spooled)
    return request.param


def importer(catalog=None, store=None, events=None, **limits):
    catalog = catalog or FakeCatalog({("process", "invoice"): {"versions": ["1", "2"], "tenants": [None]}})
    return Importer(catalog, store or FakeStore(), (events if events is not None else []).append,
                    max_entities=limits.get("max_entities", 100), max_name_length=limits.get("max_name", 100),
                    counts=UncountedImports(), clock=lambda: datetime(2024, 5, 1, 12, 0, tzinfo=UTC))


def body(entities) -> bytes:
    return json.dumps(entities).encode()


def refusal_of(run) -> ImportRefused | ServiceError:
    with pytest.raises(ServiceError) as caught:
        run()
    return caught.value


def test_real_optimize_file_is_upgraded_and_written_with_new_ids_in_file_order():
    catalog = FakeCatalog({("process", "NasaImageProcessing"): {"versions": ["1"], "tenants": [None],
                                                                 "xml": "<target/>"}})
    store, events = FakeStore(), []
    outcome = importer(catalog, store, events).run(ImportRequest(DEMO), FIXTURE.read_bytes())

    source = json.loads(FIXTURE.read_bytes())
    assert [item["sourceId"] for item in outcome] == [entity["id"] for entity in source]
    assert [item["entityType"] for item in outcome] == ["report"] * 6 + ["dashboard"]
    assert [item["upgradedFrom"] for item in outcome] == [9] * 6 + [6]
    assert len(catalog.calls) == 1
    new_ids = [item["id"] for item in outcome]
    assert not set(new_ids) & {entity["id"] for entity in source}
    board = store.documents[-1]
    assert [tile["id"] for tile in board["tiles"]] == [
        new_ids[[e["id"] for e in source].index(report["id"])] for report in source[-1]["reports"]]
    assert all(doc["owner"] == "demo" and doc["collectionId"] is None for doc in store.documents)
    assert store.documents[0]["data"]["configuration"]["xml"] == "<target/>"
    assert events == [], "nothing announced apart from the write"
    assert [event["type"] for event in store.events] == ["entity.imported"], "recorded with the commit"
    assert store.events[0]["entityIds"] == new_ids


def test_combined_report_children_are_rewritten_to_the_new_ids():
    store = FakeStore()
    outcome = importer(store=store).run(
        ImportRequest(DEMO),
        body([process_report("a"), process_report("b"), combined_report("c", ["a", "b"])]))
    combined = store.documents[2]
    assert [child["id"] for child in combined["data"]["reports"]] == [outcome[0]["id"], outcome[1]["id"]]


def test_dashboard_text_tiles_keep_their_empty_id():
    store = FakeStore()
    outcome = importer(store=store).run(ImportRequest(DEMO),
                                        body([process_report(REPORT_UUID), dashboard("d", [REPORT_UUID])]))
    assert [tile["id"] for tile in store.documents[1]["tiles"]] == [outcome[0]["id"], ""]


def test_only_tiles_with_an_optimize_id_are_remapped_others_keep_their_id():
    """DashboardImportService.importDashboardIntoCollection remaps tile ids IdGenerator.isValidId accepts
    and keeps the others (a template's report names, foreign ids) as they are."""
    store = FakeStore()
    outcome = importer(store=store).run(
        ImportRequest(DEMO), body([process_report(REPORT_UUID), dashboard("d", [REPORT_UUID, "kpi-report"])]))
    assert [tile["id"] for tile in store.documents[1]["tiles"]] == [outcome[0]["id"], "kpi-report", ""]


def test_missing_versions_are_dropped_with_a_warning_when_another_exists():
    store = FakeStore()
    outcome = importer(store=store).run(ImportRequest(DEMO), body([process_report(versions=["1", "7", "8"])]))
    assert store.documents[0]["data"]["definitions"][0]["versions"] == ["1"]
    assert "7, 8" in outcome[0]["warnings"][0] and "invoice" in outcome[0]["warnings"][0]


def test_a_report_whose_versions_all_are_missing_names_its_definition():
    error = refusal_of(lambda: importer().run(ImportRequest(DEMO), body([process_report(versions=["9"])])))
    assert error.code == "importDefinitionDoesNotExist" and error.status == 400
    assert error.extra["definitions"] == [{"type": "process", "key": "invoice", "versions": ["9"],
                                           "tenantIds": [None]}]


def test_every_failing_category_is_listed_led_by_the_highest_priority():
    catalog = FakeCatalog(
        {("process", "invoice"): {"versions": ["1"], "tenants": [None]},
         ("process", "secret"): {"versions": ["1"], "tenants": [None]},
         ("process", "elsewhere"): {"versions": ["1"], "tenants": ["t1", "t2"]},
         ("process", "tenanted"): {"versions": ["1"], "tenants": ["t1", "t2"]}},
        forbidden={"secret"},
        collections={"c1": {"name": "Sales", "role": "editor",
                            "scope": {("process", "invoice"): [None], ("process", "secret"): [None],
                                      ("process", "tenanted"): ["t1"]}}})
    store, events = FakeStore(), []
    entities = [
        {"id": "bad", "exportEntityType": "pie_chart", "name": "x", "sourceIndexVersion": 1},
        {**process_report("new"), "sourceIndexVersion": 99},
        process_report("missing", key="nowhere"),
        process_report("forbidden", key="secret"),
        process_report("unscoped", key="elsewhere", tenants=["t1"]),
        process_report("tenant", key="tenanted", tenants=["t2"]),
        process_report("unnamed", name=""),
        process_report("described", description=""),
    ]
    error = refusal_of(lambda: importer(catalog, store, events).run(
        ImportRequest(DEMO, collection_id="c1"), body(entities)))

    assert error.code == "importFileInvalid" and error.status == 400
    assert [problem["errorCode"] for problem in error.extra["errors"]] == [
        "importFileInvalid", "importIndexVersionMismatch", "importDefinitionDoesNotExist",
        "importDefinitionForbidden", "nonDefinitionScopeCompliantConflict", "nonTenantScopeCompliantConflict",
        "importNameInvalid", "importDescriptionInvalid"]
    by_code = {problem["errorCode"]: problem for problem in error.extra["errors"]}
    assert by_code["importFileInvalid"]["validationErrors"][0]["entityId"] == "bad"
    assert by_code["importIndexVersionMismatch"]["mismatchingIndices"] == [
        {"indexName": "optimize-single-process-report_v11", "sourceIndexVersion": 99,
         "targetIndexVersion": 11}]
    assert [d["key"] for d in by_code["importDefinitionDoesNotExist"]["definitions"]] == ["nowhere"]
    assert [d["key"] for d in by_code["importDefinitionForbidden"]["definitions"]] == ["secret"]
    conflict = by_code["nonDefinitionScopeCompliantConflict"]
    assert conflict["conflictedItems"] == [{"id": "c1", "type": "collection", "name": "Sales"}]
    # A definition missing from the target is outside the scope too: both are named, both need fixing.
    assert [d["key"] for d in conflict["definitions"]] == ["nowhere", "elsewhere"]
    assert by_code["nonTenantScopeCompliantConflict"]["definitions"] == [
        {"type": "process", "key": "tenanted", "versions": ["1"], "tenantIds": ["t2"]}]
    assert [e["id"] for e in by_code["importNameInvalid"]["entities"]] == ["unnamed"]
    assert [e["id"] for e in by_code["importDescriptionInvalid"]["entities"]] == ["described"]
    assert store.documents == []
    assert [(event["type"], event["details"]) for event in events] == [
        ("import.rejected", {"errorCode": "importFileInvalid"})]


@pytest.mark.parametrize(("entities", "code", "status"), [
    ([process_report(key="secret")], "importDefinitionForbidden", 403),
    ([process_report(name="x" * 101)], "importNameInvalid", 400),
    ([process_report(description="d" * 401)], "importDescriptionInvalid", 400),
])
def test_a_single_failing_category_gives_its_own_code_and_status(entities, code, status):
    catalog = FakeCatalog({("process", "secret"): {"versions": ["1"], "tenants": [None]},
                           ("process", "invoice"): {"versions": ["1"], "tenants": [None]}},
                          forbidden={"secret"})
    error = refusal_of(lambda: importer(catalog).run(ImportRequest(DEMO), body(entities)))
    assert (error.code, error.status) == (code, status)
    assert [problem["errorCode"] for problem in error.extra["errors"]] == [code]


def test_public_api_does_not_check_definition_authorization():
    catalog = FakeCatalog({("process", "secret"): {"versions": ["1"], "tenants": [None]}},
                          forbidden={"secret"},
                          collections={"c1": {"name": "C", "role": None,
                                              "scope": {("process", "secret"): [None]}}})
    store = FakeStore()
    public = Identity(SYSTEM_USER, public_api=True)
    importer(catalog, store).run(ImportRequest(public, collection_id="c1"),
                                 body([process_report(key="secret")]))
    assert catalog.calls[0]["checkAuthorization"] is False
    assert store.documents[0]["owner"] == SYSTEM_USER and store.documents[0]["collectionId"] == "c1"


@pytest.mark.parametrize("identity", [DEMO, Identity(SYSTEM_USER, public_api=True)], ids=["user", "public"])
def test_a_management_report_is_a_bad_request_on_every_import(identity):
    """EntityImportService.retrieveAllReportsToImport: 400 badRequestError "Cannot import management
    reports", for the import of a user and the public import alike."""
    catalog = FakeCatalog({("process", "invoice"): {"versions": ["1"], "tenants": [None]}},
                          collections={"c1": {"name": "C", "role": "editor", "scope": INVOICE_SCOPE}})
    report = process_report()
    report["data"]["managementReport"] = True
    store = FakeStore()
    error = refusal_of(lambda: importer(catalog, store).run(ImportRequest(identity, collection_id="c1"),
                                                            body([report])))
    assert (error.status, error.code) == (400, "badRequestError")
    assert error.message == "Cannot import management reports"
    assert error.extra["entities"] == [
        {"id": "r1", "name": "Report r1", "exportEntityType": "single_process_report"}]
    assert store.documents == []


def test_instant_preview_entities_import_privately_with_their_flags_kept():
    """EntityImportService.importEntitiesAsUser does not look at the instant-preview flags; the import keeps
    them (DashboardImportService.createDashboardDefinition copies isInstantPreviewDashboard)."""
    report = process_report(REPORT_UUID)
    report["data"]["instantPreviewReport"] = True
    board = {**dashboard("d", [REPORT_UUID]), "instantPreviewDashboard": True}
    store = FakeStore()
    importer(store=store).run(ImportRequest(DEMO), body([report, board]))
    assert store.documents[0]["data"]["instantPreviewReport"] is True
    assert store.documents[1]["instantPreviewDashboard"] is True


@pytest.mark.parametrize("flagged", ["report", "dashboard"])
def test_instant_preview_entities_are_a_bad_request_on_the_public_import(flagged):
    """EntityImportService.importEntities -> validateNoInstantPreviewEntities: 400 badRequestError."""
    catalog = FakeCatalog({("process", "invoice"): {"versions": ["1"], "tenants": [None]}},
                          collections={"c1": {"name": "C", "role": None, "scope": INVOICE_SCOPE}})
    report = process_report(REPORT_UUID)
    board = dashboard("d", [REPORT_UUID])
    if flagged == "report":
        report["data"]["instantPreviewReport"] = True
    else:
        board["instantPreviewDashboard"] = True
    error = refusal_of(lambda: importer(catalog).run(
        ImportRequest(Identity(SYSTEM_USER, public_api=True), collection_id="c1"), body([report, board])))
    assert (error.status, error.code) == (400, "badRequestError")
    assert error.message == "Cannot import Instant preview dashboards and reports."


def test_a_management_dashboard_is_imported_as_an_ordinary_one():
    """DashboardImportService.createDashboardDefinition sets managementDashboard to false: not refused."""
    store = FakeStore()
    board = {**dashboard("d", []), "managementDashboard": True}
    importer(store=store).run(ImportRequest(DEMO), body([board]))
    assert store.documents[0]["managementDashboard"] is False


def test_an_invalid_dashboard_description_is_a_bad_request_a_reports_is_import_description_invalid():
    """DashboardImportService calls DashboardService.validateDashboardDescription (an
    OptimizeValidationException, 400 badRequestError); ReportImportService turns the report's into
    importDescriptionInvalid."""
    board = {**dashboard("d", []), "description": "x" * 401}
    error = refusal_of(lambda: importer().run(ImportRequest(DEMO), body([board])))
    assert (error.status, error.code) == (400, "badRequestError")
    assert error.extra["entities"][0]["id"] == "d"

    error = refusal_of(lambda: importer().run(ImportRequest(DEMO),
                                              body([board, process_report(description="")])))
    assert [problem["errorCode"] for problem in error.extra["errors"]] == [
        "importDescriptionInvalid", "badRequestError"]


def test_a_version_mismatch_names_optimizes_full_index_name():
    """ReportImportService.validateIndexVersionOrFail names the index with prefix and target version."""
    newer = {**process_report(), "sourceIndexVersion": 12}
    error = refusal_of(lambda: importer().run(ImportRequest(DEMO), body([newer])))
    assert error.extra["mismatchingIndices"] == [
        {"indexName": "optimize-single-process-report_v11", "sourceIndexVersion": 12,
         "targetIndexVersion": 11}]


def test_an_entity_the_store_cannot_hold_is_refused_as_invalid():
    error = refusal_of(lambda: importer().run(ImportRequest(DEMO), body([process_report(name="huge")])))
    assert error.code == "importFileInvalid"
    assert error.extra["validationErrors"][0] == {"entityId": "r1", "path": "[0]", "message": "too large"}


def test_unknown_collection_is_not_found_and_viewer_is_forbidden():
    catalog = FakeCatalog({("process", "invoice"): {"versions": ["1"], "tenants": [None]}},
                          collections={"c1": {"name": "C", "role": "viewer", "scope": {}}})
    assert refusal_of(lambda: importer(catalog).run(ImportRequest(DEMO, collection_id="nope"),
                                                    body([process_report()]))).code == "notFoundError"
    assert refusal_of(lambda: importer(catalog).run(ImportRequest(DEMO, collection_id="c1"),
                                                    body([process_report()]))).code == "forbiddenError"


def test_dry_run_answers_as_the_import_would_and_writes_nothing():
    store, events = FakeStore(), []
    outcome = importer(store=store, events=events).run(ImportRequest(DEMO, dry_run=True),
                                                       body([process_report(versions=["1", "5"])]))
    assert outcome == [{"id": None, "entityType": "report", "sourceId": "r1",
                        "warnings": [outcome[0]["warnings"][0]]}]
    assert store.documents == [] and events == []


def test_a_repeated_idempotency_key_gives_the_first_outcome():
    store = FakeStore()
    catalog = FakeCatalog({("process", "invoice"): {"versions": ["1"], "tenants": [None]}})
    request = ImportRequest(DEMO, idempotency_key="k-1")
    first = importer(catalog, store).run(request, body([process_report()]))
    again = importer(catalog, store).run(request, body([process_report()]))
    assert again == first and len(store.documents) == 1 and len(catalog.calls) == 1
    assert refusal_of(lambda: importer(catalog, store).run(
        request, body([process_report(name="other")]))).code == "conflictError"


@pytest.mark.parametrize("raw", [
    b"not json", b"{\"id\": 1}", b"[]", b"[1, 2, 3]", b"", b"   \n ", b"[NaN]", b"\xff\xfe\xfa",
    b"[" * 200_000 + b"]" * 200_000,
    b'[{"id": "deep", "exportEntityType": "dashboard", "name": "n", "sourceIndexVersion": 8, "tiles": '
    + b"[" * 100 + b"]" * 100 + b"}]",
    body([{**process_report(), "exportEntityType": "alert"}]),
    body([process_report(data={**process_report()["data"], "filter": [{"$where": "sleep(1000)"}]})]),
])
def test_files_that_are_not_export_files_are_invalid(raw):
    store = FakeStore()
    error = refusal_of(lambda: importer(store=store).run(ImportRequest(DEMO), raw))
    assert (error.code, error.status) == ("importFileInvalid", 400)
    assert error.extra["validationErrors"] and store.documents == []


def test_more_entities_than_allowed_is_payload_too_large():
    error = refusal_of(lambda: importer(max_entities=2).run(
        ImportRequest(DEMO), body([process_report(f"r{i}") for i in range(3)])))
    assert (error.code, error.status) == ("payloadTooLarge", 413)
    assert (error.extra["limit"], error.extra["actual"]) == (2, 3)


def _nested(depth, inside):
    for _ in range(depth):
        inside = {"deeper": inside}
    return inside


LONG = list(range(10_001))


@pytest.mark.parametrize(("entities", "path"), [
    ([process_report("r1"), process_report("r2", data={"filter": LONG})], "data.filter"),
    # refused for the array before any problem of another entity (or its own) is named
    ([process_report("r1", **{"$where": 1}), process_report("r2", name=LONG)], "name"),
    ([process_report("r1", data={"filter": LONG}, **{"$where": 1})], "data.filter"),
    ([process_report("r1"), LONG], ""),
    ([process_report("r1"), "text", process_report("r2", data=_nested(70, {"values": LONG}))],
     "data" + ".deeper" * 70 + ".values"),
    ([process_report("r1", data={"a": LONG, "b": {"c": LONG}})], "data.b.c"),  # depth first, as it was
])
def test_an_array_longer_than_the_limit_anywhere_refuses_the_file_naming_it(entities, path):
    error = refusal_of(lambda: importer().run(ImportRequest(DEMO), body(entities)))
    assert (error.code, error.status, error.extra["limitName"]) == ("payloadTooLarge", 413, "jsonArrayLength")
    assert (error.extra["actual"], error.extra["path"]) == (10_001, path)


def test_arrays_as_long_as_the_limit_are_read():
    entities = [process_report("r1", data={**process_report()["data"], "filter": [{}] * 10_000})]
    assert [item["sourceId"] for item in importer().run(ImportRequest(DEMO), body(entities))] == ["r1"]


def test_a_report_whose_only_tenant_lacks_the_definition_is_refused_even_if_another_tenant_has_it():
    """Each report is judged on its own tenants, as Optimize does: [t1] passes, [t2] alone is missing."""
    catalog = FakeCatalog({("process", "invoice"): {"versions": ["1"], "tenants": ["t1"]}})
    entities = [process_report("r1", tenants=("t1",)), process_report("r2", tenants=("t2",))]

    error = refusal_of(lambda: importer(catalog).run(ImportRequest(DEMO), body(entities)))

    assert error.code == "importDefinitionDoesNotExist"
    assert error.extra["definitions"] == [
        {"type": "process", "key": "invoice", "versions": ["1"], "tenantIds": ["t2"]}]
    assert [entity["id"] for entity in error.extra["entities"]] == ["r2"]
    assert len(catalog.calls) == 1


def test_each_report_gets_the_xml_of_its_own_latest_version():
    """Optimize reads the XML per report, for the versions that report lists."""
    catalog = FakeCatalog({("process", "invoice"): {"versions": ["1", "2"], "tenants": [None],
                                                    "xml_by_version": {"1": "<v1/>", "2": "<v2/>"}}})
    store = FakeStore()
    importer(catalog, store).run(ImportRequest(DEMO), body(
        [process_report("a", versions=["1"]), process_report("b", versions=["1", "2", "3"]),
         process_report("c", versions=["1"])]))

    assert [document["data"]["configuration"]["xml"] for document in store.documents] == [
        "<v1/>", "<v2/>", "<v1/>"]
    assert len(catalog.calls) == 1
    assert [ref["versions"] for ref in catalog.calls[0]["definitions"]] == [["1"], ["1", "2", "3"]]


def test_report_data_optimize_does_not_read_is_dropped_with_a_warning_and_a_bad_enum_refused():
    """ProcessReportDataDto: Optimize's reader ignores an unknown key and fails on an unknown enum value
    (here: importFileInvalid naming the path); the dropped key is said in the response's warnings."""
    report = process_report()
    report["data"]["colour"] = "red"
    store = FakeStore()
    [outcome] = importer(store=store).run(ImportRequest(DEMO), body([report]))
    assert outcome["warnings"] == ["data.colour is not part of an Optimize report and was dropped."]
    assert "colour" not in store.documents[0]["data"]

    report["data"]["visualization"] = "donut"
    error = refusal_of(lambda: importer().run(ImportRequest(DEMO), body([report])))
    assert error.code == "importFileInvalid"
    assert [e["path"] for e in error.extra["validationErrors"]] == ["[0].data.visualization"]


# --- Dashboard variable filters -----------------------------------------------------------------------------

COMBINED_UUID = "2c9f3a52-7e1b-4d0a-9b6e-5f4d3c2b1a01"


def variable_filter(name, variable_type):
    return {"type": "variable", "data": {"name": name, "type": variable_type, "data": None}}


def filtered_dashboard(report_ids, *filters):
    return {**dashboard("board", report_ids), "availableFilters": list(filters)}


def catalog_with_variables(variables):
    return FakeCatalog({("process", "invoice"): {"versions": ["1", "2"], "tenants": [None],
                                                 "variables": variables}})


def test_a_variable_filter_no_report_of_the_dashboard_has_is_refused_naming_the_dashboard_and_path():
    """Follows optimize/backend/src/main/java/io/camunda/optimize/service/dashboard/DashboardService.java
    (validateVariableFiltersExistInReports): the (name, type) of each variable filter must be among the
    variables that service/variable/ProcessVariableService.java (getVariableNamesForAuthorizedReports) finds
    for the tiles' reports; on import the failure is importFileInvalid."""
    catalog = catalog_with_variables([{"name": "amount", "type": "Double"}])
    entities = [process_report(REPORT_UUID),
                filtered_dashboard([REPORT_UUID], variable_filter("amount", "Double"),
                                   variable_filter("amount", "String"),
                                   variable_filter("customer", "String"))]
    refusal = refusal_of(lambda: importer(catalog).run(ImportRequest(DEMO), body(entities)))

    assert refusal.code == "importFileInvalid"
    assert [(e["entityId"], e["path"]) for e in refusal.extra["validationErrors"]] == [
        ("board", "[1].availableFilters[1].data.name"), ("board", "[1].availableFilters[2].data.name")]
    assert "'customer'" in refusal.extra["validationErrors"][1]["message"]
    assert len(catalog.calls) == 1 and catalog.calls[0]["withVariables"] is True


def test_a_variable_filter_of_a_combined_reports_child_is_accepted_its_type_read_as_optimize_reads_it():
    """VariableType.getTypeForId ignores case; a combined report's reports count
    (ProcessVariableService.getAllAuthorizedReportsRecursively)."""
    store = FakeStore()
    importer(catalog_with_variables([{"name": "amount", "type": "Double"}]), store).run(
        ImportRequest(DEMO), body([process_report("child"), combined_report(COMBINED_UUID, ["child"]),
                                   filtered_dashboard([COMBINED_UUID], variable_filter("amount", "double"))]))
    assert store.documents[-1]["availableFilters"][0]["data"]["name"] == "amount"


def test_variable_filters_are_not_checked_when_a_definition_has_no_variables_recorded():
    """A catalog entry registered without variables is unknown: the file imports as it did before."""
    store = FakeStore()
    importer(catalog_with_variables(None), store).run(
        ImportRequest(DEMO), body([process_report(REPORT_UUID),
                                   filtered_dashboard([REPORT_UUID], variable_filter("anything", "String"))]))
    assert len(store.documents) == 2


def test_without_variable_filters_the_catalog_is_not_asked_for_variables():
    catalog = catalog_with_variables([])
    importer(catalog).run(ImportRequest(DEMO),
                          body([process_report(REPORT_UUID), dashboard("d", [REPORT_UUID])]))
    assert [call["withVariables"] for call in catalog.calls] == [False]


def test_a_variable_filter_on_a_dashboard_without_process_reports_is_refused_whatever_the_catalog_knows():
    """Optimize asks for the variables of no report and finds none: every variable filter is invalid."""
    refusal = refusal_of(lambda: importer(catalog_with_variables(None)).run(
        ImportRequest(DEMO), body([filtered_dashboard([], variable_filter("amount", "Double"))])))
    assert [e["path"] for e in refusal.extra["validationErrors"]] == ["[0].availableFilters[0].data.name"]
