"""Export files as a superuser downloads them and as other services ask for them: what is in them,
in which order, who may have them, and what it costs."""

import pytest

from contracts.export_file import CURRENT_VERSIONS, read_export_file


def ids(entities: list[dict]) -> list[str]:
    return [entity["id"] for entity in entities]


def assert_valid_current_file(entities: list[dict]) -> None:
    reading = read_export_file(entities)
    assert reading.validation_errors == [] and reading.mismatching_indices == []
    assert reading.upgraded_from == {}
    assert reading.entities == entities
    for entity in entities:
        assert entity["sourceIndexVersion"] == CURRENT_VERSIONS[entity["exportEntityType"]]


def test_entities_made_through_the_api_are_listed_and_exported_as_valid_current_files(
        installation, catalog, author, exported_events):
    invoices = author.process_report("Invoices")
    approvals = author.decision_report("Approvals")
    late = author.process_report("Late invoices")
    combined = author.combined_report([invoices, late])
    dashboard = author.dashboard([author.report_tile(invoices), author.report_tile(combined, x=4),
                                  author.report_tile(approvals, x=8), author.url_tile("https://camunda.com"),
                                  author.text_tile("Read me")])
    headers = installation.headers()

    listed = installation.export.get("/api/entities", headers=headers).json
    assert {(e["id"], e["entityType"], e["reportType"], e["combined"]) for e in listed} == {
        (invoices, "report", "process", False), (late, "report", "process", False),
        (approvals, "report", "decision", False), (combined, "report", "process", True),
        (dashboard, "dashboard", None, False)}

    response = installation.export.get(f"/api/export/report/json/{combined}/both.json", headers=headers)
    assert response.status_code == 200
    assert response.headers["Content-Disposition"] == (
        "attachment; filename=\"both.json\"; filename*=UTF-8''both.json")
    # Optimize's ReportExportService: the combined report, then its children in their order
    assert ids(response.json) == [combined, invoices, late]
    assert_valid_current_file(response.json)
    assert exported_events.next_event()["entityIds"] == [combined, invoices, late]

    response = installation.export.get(f"/api/export/dashboard/json/{dashboard}/overview.json",
                                       headers=headers)
    assert response.status_code == 200
    assert response.headers["Content-Disposition"] == (
        "attachment; filename=\"overview.json\"; filename*=UTF-8''overview.json")
    file = response.json
    # DashboardExportService: the reports (a combined report before its children), then the dashboard
    assert ids(file) == [invoices, combined, late, approvals, dashboard]
    assert_valid_current_file(file)
    assert [tile["type"] for tile in file[-1]["tiles"]] == ["optimize_report"] * 3 + ["external_url", "text"]
    assert file[-1]["tiles"][4]["configuration"] == author.text_tile("Read me")["configuration"]

    event = exported_events.next_event()
    assert (event["type"], event["actor"], event["entityIds"]) == (
        "entity.exported", "demo", [invoices, combined, late, approvals, dashboard])


def test_report_data_is_exported_exactly_as_it_was_written(installation, catalog, author):
    report = author.process_report()
    written = installation.export.get(f"/api/report/{report}", headers=installation.headers()).json["data"]

    file = installation.export.get(f"/api/export/report/json/{report}/r.json",
                                   headers=installation.headers()).json

    assert file[0]["data"] == written
    assert list(file[0]) == ["id", "exportEntityType", "name", "description", "sourceIndexVersion",
                             "collectionId", "data"]


def test_only_superusers_authorized_for_every_definition_may_export(installation, catalog, author):
    invoices = author.process_report()
    payroll = author.process_report("Payroll", key="payroll")
    dashboard = author.dashboard([author.report_tile(invoices), author.report_tile(payroll, x=4)])
    export = installation.export

    response = export.get(f"/api/export/report/json/{invoices}/r.json",
                          headers=installation.headers("kermit"))
    assert (response.status_code, response.json["errorCode"]) == (403, "forbiddenError")

    response = export.get(f"/api/export/dashboard/json/{dashboard}/d.json", headers=installation.headers())
    assert (response.status_code, response.json["errorCode"]) == (403, "forbiddenError")
    assert response.json["definitions"] == [{"type": "process", "key": "payroll", "tenantIds": [None]}]
    assert "payroll" in response.json["errorMessage"]

    response = export.get("/api/export/report/json/no-such-report/r.json", headers=installation.headers())
    assert (response.status_code, response.json["errorCode"]) == (404, "notFoundError")
    assert "no-such-report" in response.json["errorMessage"]

    response = export.get(f"/api/export/report/json/{invoices}/r.json")
    assert (response.status_code, response.json["errorCode"]) == (401, "unauthorizedError")


def test_a_report_that_no_longer_exists_is_named_not_a_server_error(installation, catalog, author):
    invoices, late = author.process_report(), author.process_report("Late")
    combined = author.combined_report([invoices, late])
    dashboard = author.dashboard([author.report_tile(combined), author.report_tile(invoices, x=4)])
    deleted = installation.imports.delete(f"/api/report/{late}", headers=installation.headers())
    assert deleted.status_code == 204

    for path in (f"/api/export/dashboard/json/{dashboard}/d.json",
                 f"/api/export/report/json/{combined}/c.json"):
        response = installation.export.get(path, headers=installation.headers())
        assert (response.status_code, response.json["errorCode"]) == (409, "missingReferencedReports")
        assert response.json["missingReportIds"] == [late]
        assert [entity["id"] for entity in response.json["entities"]] == [combined]


def test_the_public_api_exports_each_entity_once(installation, catalog, author, new_collection):
    finance = new_collection()
    invoices = author.process_report(collection_id=finance)
    late = author.process_report("Late", collection_id=finance)
    approvals = author.decision_report(collection_id=finance)
    combined = author.combined_report([invoices, late], collection_id=finance)
    first = author.dashboard([author.report_tile(approvals), author.report_tile(combined, x=4)],
                             collection_id=finance)
    second = author.dashboard([author.report_tile(approvals), author.report_tile(invoices, x=4)],
                              name="Second", collection_id=finance)
    public = installation.public_headers()

    response = installation.export.post("/api/public/export/report/definition/json",
                                        json=[invoices, combined, invoices], headers=public)
    assert response.status_code == 200
    assert ids(response.json) == [invoices, combined, late]
    assert_valid_current_file(response.json)

    response = installation.export.post("/api/public/export/dashboard/definition/json",
                                        json=[first, second], headers=public)
    assert ids(response.json) == [approvals, combined, invoices, late, first, second]
    assert_valid_current_file(response.json)

    response = installation.export.post("/api/public/export/dashboard/definition/json", json=[first, "gone"],
                                        headers=public)
    assert (response.status_code, response.json["id"]) == (404, "gone")
    response = installation.export.post("/api/public/export/report/definition/json", json={"ids": [invoices]},
                                        headers=public)
    assert (response.status_code, response.json["errorCode"]) == (400, "badRequestError")
    response = installation.export.post("/api/public/export/report/definition/json", json=[invoices])
    assert response.status_code == 401


@pytest.mark.parametrize("reports", [2, 40])
def test_exporting_a_dashboard_costs_the_same_whatever_its_number_of_reports(
        installation, catalog, author, counted_export, reports):
    counter, calls = counted_export
    report_ids = [author.process_report(f"Report {i}") for i in range(reports)]
    combined = author.combined_report([report_ids[0], author.process_report("Only in the combined report")])
    tiles = [author.report_tile(report_id, y=i) for i, report_id in enumerate([*report_ids, combined])]
    dashboard = author.dashboard(tiles)
    counter.clear()

    response = installation.export.get(f"/api/export/dashboard/json/{dashboard}/d.json",
                                       headers=installation.headers())

    assert response.status_code == 200
    assert len(response.json) == reports + 3
    assert calls == ["check_export"]
    # the dashboard, its reports, the children of its combined report
    assert counter.names == ["find", "find", "find"]
