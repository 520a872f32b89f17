"""Upgrade steps of `single_process_report`, versions 5 (Optimize 3.3) to 11."""

from contracts.export_file.migrations.changes import (
    aggregation_types_as_objects,
    column_order_to_table_columns,
    definition_fields_to_definitions,
    describe_when_absent,
    flow_node_execution_state_to_view_filter,
    kpi_target_defaults,
    list_at,
    object_at,
    rename_count_columns,
    rename_date_filters,
    single_measure_to_lists,
    visualization_defaults,
)
from contracts.export_file.migrations.step import upgrade_step
from contracts.export_file.versions import C8_DEFAULT_TENANT


@upgrade_step(to_version=6)
def upgrade_5_to_6(report: dict) -> None:
    data = object_at(report, "data")
    if data is not None:
        flow_node_execution_state_to_view_filter(data)
        single_measure_to_lists(data)
        column_order_to_table_columns(data)


@upgrade_step(to_version=7)
def upgrade_6_to_7(report: dict) -> None:
    definition_fields_to_definitions(report, prefix="process")


@upgrade_step(to_version=8)
def upgrade_7_to_8(report: dict) -> None:
    data = object_at(report, "data")
    if data is not None:
        visualization_defaults(data)
        rename_date_filters(list_at(data, "filter"))
        aggregation_types_as_objects(data)


@upgrade_step(to_version=9)
def upgrade_8_to_9(report: dict) -> None:
    data = object_at(report, "data")
    if data is not None:
        # Version 8 files were written with any of the three aggregation shapes.
        aggregation_types_as_objects(data)
        kpi_target_defaults(data)
        data.setdefault("managementReport", False)


@upgrade_step(to_version=10)
def upgrade_9_to_10(report: dict) -> None:
    data = object_at(report, "data")
    if data is not None:
        data.setdefault("instantPreviewReport", False)


@upgrade_step(to_version=11)
def upgrade_10_to_11(report: dict) -> None:
    describe_when_absent(report)
    data = object_at(report, "data")
    if data is not None:
        rename_count_columns(data)


@upgrade_step(to_version=11)
def upgrade_10_to_11_in_c8(report: dict) -> None:
    """Optimize's Upgrade310To311PlanFactory, in a Camunda 8 installation, also sets every process
    report's definitions to the `<default>` tenant (updateDefaultTenantIdOfProcessReportsInC8)."""
    upgrade_10_to_11.in_place(report)
    for definition in list_at(object_at(report, "data"), "definitions") or []:
        if isinstance(definition, dict):
            definition["tenantIds"] = [C8_DEFAULT_TENANT]


STEPS = {
    5: upgrade_5_to_6,
    6: upgrade_6_to_7,
    7: upgrade_7_to_8,
    8: upgrade_8_to_9,
    9: upgrade_9_to_10,
    10: upgrade_10_to_11,
}

# Steps that differ when the target is a Camunda 8 installation.
C8_STEPS = {10: upgrade_10_to_11_in_c8}
