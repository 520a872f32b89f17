"""Upgrading for a Camunda 8 target, as Optimize's Upgrade310To311PlanFactory did there."""

import pytest

from contracts.export_file import read_export_file


def report(entity_type="single_process_report", version=10, tenants=(None,)):
    return {"id": "r", "exportEntityType": entity_type, "name": "R", "description": None,
            "sourceIndexVersion": version, "collectionId": None,
            "data": {"definitions": [{"key": "k", "versions": ["1"], "tenantIds": list(tenants)},
                                     {"key": "other", "versions": ["all"], "tenantIds": ["t1", None]}]}}


@pytest.mark.parametrize("version", [5, 9, 10])
def test_process_reports_from_before_11_are_on_the_default_tenant_in_camunda_8(version):
    """updateDefaultTenantIdOfProcessReportsInC8: `definition.tenantIds = ["<default>"]` for every
    definition of every process report, whatever it held."""
    old = report(version=version)
    if version < 7:  # before `definitions` (6 -> 7 builds them from these fields)
        old["data"] = {"processDefinitionKey": "k", "processDefinitionVersions": ["1"], "tenantIds": [None]}
    [upgraded] = read_export_file([old], platform="c8").entities

    assert {tuple(d["tenantIds"]) for d in upgraded["data"]["definitions"]} == {("<default>",)}


def test_camunda_7_keeps_the_tenants_and_current_files_are_not_touched():
    """Optimize ran the tenant step only where it found Camunda 8 data (isC8Instance), and only once, in
    the 3.11 upgrade: a version-11 report keeps its tenants in Camunda 8 too; decision reports always."""
    [c7] = read_export_file([report()], platform="c7").entities
    [current] = read_export_file([report(version=11)], platform="c8").entities
    [decision] = read_export_file([report("single_decision_report", version=9)], platform="c8").entities

    for entity in (c7, current, decision):
        assert [d["tenantIds"] for d in entity["data"]["definitions"]] == [[None], ["t1", None]]
