"""Upgrade steps of `single_decision_report`, versions 5 (Optimize 3.3) to 10."""

from contracts.export_file.migrations.changes import (
    aggregation_types_as_objects,
    column_order_to_table_columns,
    definition_fields_to_definitions,
    describe_when_absent,
    kpi_target_defaults,
    list_at,
    object_at,
    rename_date_filters,
    single_measure_to_lists,
    visualization_defaults,
)
from contracts.export_file.migrations.step import upgrade_step


@upgrade_step(to_version=6)
def upgrade_5_to_6(report: dict) -> None:
    data = object_at(report, "data")
    if data is not None:
        single_measure_to_lists(data)
        column_order_to_table_columns(data)


@upgrade_step(to_version=7)
def upgrade_6_to_7(report: dict) -> None:
    definition_fields_to_definitions(report, prefix="decision")


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


@upgrade_step(to_version=10)
def upgrade_9_to_10(report: dict) -> None:
    describe_when_absent(report)


STEPS = {
    5: upgrade_5_to_6,
    6: upgrade_6_to_7,
    7: upgrade_7_to_8,
    8: upgrade_8_to_9,
    9: upgrade_9_to_10,
}
