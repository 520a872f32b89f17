"""A Camunda 8 installation (OPTIMIZE_PLATFORM=c8) reads files from before version 11 as Optimize's
3.10 -> 3.11 upgrade left its data there: process reports on the `<default>` tenant."""

import json

import pytest
from pymongo import MongoClient

from optimize_testing.installation import start_installation
from optimize_testing.pytest_plugin import isolated_names

KEY = "orderProcess"


@pytest.fixture
def c8(servers):
    installation = start_installation(servers, isolated_names("c8"), OPTIMIZE_PLATFORM="c8")
    yield installation
    installation.close()


def ok(response, *statuses):
    assert response.status_code in (statuses or (200, 204)), response.get_data(as_text=True)
    return response


def report_at_version_9(tenants):
    return {"id": "9a3f1d2e-0b4c-4d5e-8f60-718293a4b5c6", "exportEntityType": "single_process_report",
            "name": "Orders", "sourceIndexVersion": 9, "collectionId": None,
            "data": {"definitions": [{"identifier": "d", "key": KEY, "name": KEY, "displayName": None,
                                      "versions": ["1"], "tenantIds": tenants}],
                     "filter": [], "configuration": {"tableColumns": {
                         "columnOrder": [], "includedColumns": [], "excludedColumns": []}},
                     "view": {"entity": "processInstance", "properties": ["frequency"]},
                     "groupBy": {"type": "none", "value": None}, "visualization": "number",
                     "managementReport": False}}


def test_a_version_9_report_without_tenant_imports_into_camunda_8_on_the_default_tenant(c8):
    """Upgrade310To311PlanFactory.updateDefaultTenantIdOfProcessReportsInC8 set every process report's
    tenantIds to ["<default>"] in Camunda 8; the file's [null] would name a tenant that does not exist."""
    headers = c8.headers()
    ok(c8.catalog.post("/api/definition", headers=headers, json=[
        {"type": "process", "key": KEY, "name": KEY, "version": "1", "tenantId": "<default>",
         "xml": "<definitions id='order'/>"}]))
    ok(c8.catalog.post("/api/authorization", headers=headers, json=[
        {"identity": {"id": "demo", "type": "user"}, "definitionType": "process", "definitionKey": KEY,
         "tenants": ["<default>"]}]))

    response = ok(c8.imports.post("/api/import", data=json.dumps([report_at_version_9([None])]),
                                  content_type="application/json", headers=headers))

    [imported] = response.json
    assert imported["upgradedFrom"] == 9
    db = MongoClient(c8.environ["OPTIMIZE_MONGODB_URI"])[c8.names.entities_db]
    stored = db.reports.find_one({"_id": imported["id"]})
    assert stored["data"]["definitions"][0]["tenantIds"] == ["<default>"]
    assert stored["data"]["configuration"]["xml"] == "<definitions id='order'/>"


def test_the_same_file_is_refused_by_a_camunda_7_target_without_that_tenant(installation):
    """In Camunda 7 the 3.11 upgrade left tenants alone: [null] stays, and a definition that exists only
    under another tenant is missing for it (ReportImportService.removeMissingVersionsOrFailIfNoneExist)."""
    headers = installation.headers()
    ok(installation.catalog.post("/api/definition", headers=headers, json=[
        {"type": "process", "key": KEY, "name": KEY, "version": "1", "tenantId": "<default>"}]))

    response = installation.imports.post("/api/import", data=json.dumps([report_at_version_9([None])]),
                                         content_type="application/json", headers=headers)

    assert response.status_code == 400
    assert response.json["errorCode"] == "importDefinitionDoesNotExist"
    assert response.json["definitions"][0]["tenantIds"] == [None]
