"""Whole collections as export files: every report and dashboard once, what is shown before what shows it,
who may have them, what it costs, and that import-svc takes the file unchanged into another collection."""

import pytest

from contracts.export_file import read_export_file

ADMIN_WITHOUT_ROLE = ("alice", ["optimize-admins"])  # a superuser through her group, in no collection


def ids(entities: list[dict]) -> list[str]:
    return [entity["id"] for entity in entities]


def kinds(entities: list[dict]) -> list[str]:
    return [entity["exportEntityType"] for entity in entities]


def assert_each_reference_comes_first(entities: list[dict]) -> None:
    seen: set[str] = set()
    for entity in entities:
        shown = [report["id"] for report in entity.get("data", {}).get("reports", [])]
        shown += [tile["id"] for tile in entity.get("tiles", []) if tile["type"] == "optimize_report"]
        assert set(shown) <= seen, f"{entity['id']} shows reports not before it"
        seen.add(entity["id"])


def export_collection(installation, collection_id: str, user: str = "demo", groups=None):
    return installation.export.get(f"/api/export/collection/json/{collection_id}/finance.json",
                                   headers=installation.headers(user, groups))


def test_a_collection_is_exported_whole_and_imports_unchanged_into_another(
        installation, catalog, author, new_collection, exported_events):
    finance, other = new_collection(), new_collection("Elsewhere")
    board = author.dashboard([], name="Board", collection_id=finance)  # made first, listed last
    invoices = author.process_report("Invoices", collection_id=finance)
    approvals = author.decision_report("Approvals", collection_id=finance)
    late = author.process_report("Late invoices", collection_id=finance)
    both = author.combined_report([invoices, late], collection_id=finance)
    overview = author.dashboard([author.report_tile(both), author.report_tile(approvals, x=4),
                                 author.report_tile(invoices, x=8), author.url_tile("https://camunda.com"),
                                 author.text_tile("Read me")], collection_id=finance)
    author.process_report("Private")
    author.process_report("Not in finance", collection_id=other)

    response = export_collection(installation, finance)

    assert response.status_code == 200, response.json
    assert response.headers["Content-Disposition"] == (
        "attachment; filename=\"finance.json\"; filename*=UTF-8''finance.json")
    file = response.json
    assert sorted(ids(file)) == sorted([invoices, approvals, late, both, board, overview])
    assert kinds(file)[:3].count("single_decision_report") == 1 and kinds(file)[3:] == [
        "combined_report", "dashboard", "dashboard"]
    assert_each_reference_comes_first(file)
    reading = read_export_file(file)
    assert (reading.validation_errors, reading.mismatching_indices, reading.upgraded_from) == ([], [], {})
    assert {entity["collectionId"] for entity in file} == {finance}

    event = exported_events.next_event()
    assert (event["type"], event["actor"], event["collectionId"]) == ("entity.exported", "demo", finance)
    assert event["entityIds"] == ids(file)

    imported = installation.imports.post(f"/api/import?collectionId={other}", json=file,
                                         headers=installation.headers())
    assert imported.status_code == 200, imported.json
    new_id = {item["sourceId"]: item["id"] for item in imported.json}
    copy = export_collection(installation, other).json
    copied = {entity["name"]: entity for entity in copy}
    assert copied["Both"]["data"]["reports"] == [{"id": new_id[invoices], "color": "#1991c8"},
                                                 {"id": new_id[late], "color": "#e01e5a"}]
    assert [tile["id"] for tile in copied["Overview"]["tiles"]] == [
        new_id[both], new_id[approvals], new_id[invoices], "", ""]
    assert sorted(entity["name"] for entity in copy) == sorted(
        ["Invoices", "Approvals", "Late invoices", "Both", "Board", "Overview", "Not in finance"])


def test_a_report_shown_from_outside_the_collection_comes_along(installation, catalog, author,
                                                                new_collection):
    finance = new_collection()
    private = author.process_report("Private")
    board = author.dashboard([author.report_tile(private)], collection_id=finance)

    file = export_collection(installation, finance).json

    assert ids(file) == [private, board]


def test_who_may_export_a_collection(installation, catalog, author, new_collection):
    finance, empty = new_collection(), new_collection("Empty")
    author.process_report(collection_id=finance)
    author.process_report("Payroll", key="payroll", collection_id=finance)
    roles = [{"identity": {"id": "kermit", "type": "user"}, "role": "manager"}]
    assert installation.catalog.post(f"/api/collection/{finance}/role", json=roles,
                                     headers=installation.headers()).status_code == 204

    response = export_collection(installation, finance)
    assert (response.status_code, response.json["errorCode"]) == (403, "forbiddenError")
    assert response.json["definitions"] == [{"type": "process", "key": "payroll", "tenantIds": [None]}]

    response = export_collection(installation, finance, *ADMIN_WITHOUT_ROLE)
    assert (response.status_code, response.json["errorCode"]) == (403, "forbiddenError")
    assert response.json["collectionId"] == finance and finance in response.json["errorMessage"]

    response = export_collection(installation, finance, "kermit")  # a manager, but no superuser
    assert (response.status_code, response.json["errorCode"]) == (403, "forbiddenError")

    response = export_collection(installation, "no-such-collection")
    assert (response.status_code, response.json["errorCode"]) == (404, "notFoundError")
    assert "no-such-collection" in response.json["errorMessage"]

    response = installation.export.get(f"/api/export/collection/json/{finance}/f.json")
    assert (response.status_code, response.json["errorCode"]) == (401, "unauthorizedError")

    response = export_collection(installation, empty)
    assert (response.status_code, response.json) == (200, [])


def test_the_public_api_exports_collections_for_no_user(installation, catalog, author, new_collection):
    finance, other = new_collection(), new_collection("Other")
    invoices = author.process_report(collection_id=finance)
    payroll = author.process_report("Payroll", key="payroll", collection_id=other)
    board = author.dashboard([author.report_tile(invoices), author.report_tile(payroll)], collection_id=other)
    public = installation.public_headers()
    path = "/api/public/export/collection/definition/json"

    response = installation.export.post(path, json=[finance, other, finance], headers=public)
    assert response.status_code == 200, response.json
    assert ids(response.json) == [invoices, payroll, board]

    response = installation.export.post(path, json=[finance, "gone", "lost"], headers=public)
    assert (response.status_code, response.json["errorCode"]) == (404, "notFoundError")
    assert (response.json["id"], response.json["ids"]) == ("gone", ["gone", "lost"])
    response = installation.export.post(path, json=[], headers=public)
    assert (response.status_code, response.json["errorCode"]) == (400, "badRequestError")
    assert installation.export.post(path, json=[finance]).status_code == 401


@pytest.mark.parametrize("reports", [2, 40])
def test_exporting_a_collection_costs_the_same_whatever_its_number_of_entities(
        installation, catalog, author, new_collection, counted_export, reports):
    counter, calls = counted_export
    finance = new_collection()
    report_ids = [author.process_report(f"Report {i}", collection_id=finance) for i in range(reports)]
    combined = author.combined_report(report_ids[:2], collection_id=finance)
    for i in range(reports // 2):
        author.dashboard([author.report_tile(report_ids[i]), author.report_tile(combined, x=4)],
                         name=f"Board {i}", collection_id=finance)
    counter.clear()

    response = export_collection(installation, finance)

    assert response.status_code == 200
    assert len(response.json) == reports + 1 + reports // 2
    assert calls == ["collection_access", "check_export"]
    assert counter.names == ["find", "find"]  # the reports, the dashboards
