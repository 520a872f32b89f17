"""Changes that several entity kinds went through in the same Optimize release.

Each works in place on an entity the calling step has already copied, and each looks at the content
before changing it, so that applying it twice changes nothing. They tolerate malformed input (a
`data` that is not an object, a filter that is a string): validation after the upgrade reports that.
"""

import uuid
from typing import Any

_DATE_FILTER_RENAMES = {"startDate": "instanceStartDate", "endDate": "instanceEndDate"}
_FLOW_NODE_EXECUTION_STATE_FILTERS = {
    "completed": "completedOrCanceledFlowNodesOnly",
    "running": "runningFlowNodesOnly",
    "canceled": "canceledFlowNodesOnly",
}
_TABLE_COLUMN_RENAMES = {
    "numberOfUserTasks": "count:userTasks",
    "numberOfIncidents": "count:incidents",
    "numberOfOpenIncidents": "count:openIncidents",
}
# Stable namespace for definition identifiers, so that a step stays a pure function of its input.
_DEFINITION_IDENTIFIERS = uuid.UUID("1f0c6a52-2f4e-4c1e-9a53-6f7d0e2b8c11")


def object_at(container: Any, key: str) -> dict | None:
    value = container.get(key) if isinstance(container, dict) else None
    return value if isinstance(value, dict) else None


def list_at(container: Any, key: str) -> list | None:
    value = container.get(key) if isinstance(container, dict) else None
    return value if isinstance(value, list) else None


def describe_when_absent(entity: dict) -> None:
    entity.setdefault("description", None)


def rename_date_filters(filters: list | None) -> None:
    for date_filter in filters or []:
        filter_type = date_filter.get("type") if isinstance(date_filter, dict) else None
        if isinstance(filter_type, str) and filter_type in _DATE_FILTER_RENAMES:
            date_filter["type"] = _DATE_FILTER_RENAMES[filter_type]


def flow_node_execution_state_to_view_filter(data: dict) -> None:
    """Optimize 3.4 turned the configuration's flow-node state into a view-level filter."""
    configuration = object_at(data, "configuration")
    if configuration is None or "flowNodeExecutionState" not in configuration:
        return
    state = configuration.pop("flowNodeExecutionState")
    view_entity = (object_at(data, "view") or {}).get("entity")
    filter_type = _FLOW_NODE_EXECUTION_STATE_FILTERS.get(state) if isinstance(state, str) else None
    # As in Optimize's own upgrade: only flow-node and user-task views knew this setting.
    if filter_type is None or view_entity not in ("flowNode", "userTask"):
        return
    if not isinstance(data.get("filter"), list):
        data["filter"] = []
    data["filter"].append({"type": filter_type, "filterLevel": "view", "data": None})


def single_measure_to_lists(data: dict) -> None:
    """`aggregationType`, `userTaskDurationTime` and `view.property` became lists (multi-measure reports)."""
    configuration = object_at(data, "configuration")
    if configuration is not None:
        if "aggregationType" in configuration:
            aggregation = configuration.pop("aggregationType")
            configuration.setdefault(
                "aggregationTypes", [aggregation] if aggregation is not None else ["avg"]
            )
        if "userTaskDurationTime" in configuration:
            duration_time = configuration.pop("userTaskDurationTime")
            configuration.setdefault(
                "userTaskDurationTimes", [duration_time] if duration_time is not None else ["total"]
            )
    view = object_at(data, "view")
    if view is not None and "property" in view:
        view_property = view.pop("property")
        view.setdefault("properties", [view_property] if view_property is not None else [])


def column_order_to_table_columns(data: dict) -> None:
    """`columnOrder: {instanceProps, variables, ...}` became the flat `tableColumns.columnOrder`."""
    configuration = object_at(data, "configuration")
    if configuration is None or "tableColumns" in configuration:
        return
    column_order = configuration.pop("columnOrder", None)
    groups = column_order.values() if isinstance(column_order, dict) else [column_order or []]
    configuration["tableColumns"] = {
        "includeNewVariables": configuration.pop("includeNewVariables", True),
        "excludedColumns": configuration.pop("excludedColumns", []),
        "includedColumns": configuration.pop("includedColumns", []),
        "columnOrder": [column for group in groups if isinstance(group, list) for column in group],
    }


def definition_fields_to_definitions(report: dict, prefix: str) -> None:
    """`<prefix>DefinitionKey/Name/Versions` and `tenantIds` became `data.definitions`.

    Every filter then says which definitions it applies to.
    """
    data = object_at(report, "data")
    if data is None:
        return
    key = data.pop(f"{prefix}DefinitionKey", None)
    name = data.pop(f"{prefix}DefinitionName", None)
    versions = data.pop(f"{prefix}DefinitionVersions", None)
    single_version = data.pop(f"{prefix}DefinitionVersion", None)
    tenant_ids = data.pop("tenantIds", None)
    if "definitions" not in data:
        if versions is None:
            versions = [single_version] if single_version is not None else []
        data["definitions"] = (
            []
            if key is None
            else [
                {
                    "identifier": str(uuid.uuid5(_DEFINITION_IDENTIFIERS, f"{report.get('id')}/{key}")),
                    "key": key,
                    "name": name,
                    "displayName": None,
                    "versions": versions,
                    "tenantIds": tenant_ids if tenant_ids is not None else [None],
                }
            ]
        )
    definitions = list_at(data, "definitions") or []
    identifiers = [
        definition["identifier"]
        for definition in definitions
        if isinstance(definition, dict) and definition.get("identifier")
    ]
    for report_filter in list_at(data, "filter") or []:
        if isinstance(report_filter, dict) and "appliedTo" not in report_filter:
            report_filter["appliedTo"] = identifiers or ["all"]


def visualization_defaults(data: dict) -> None:
    configuration = object_at(data, "configuration")
    if configuration is None:
        return
    configuration.setdefault("measureVisualizations", {"frequency": "bar", "duration": "line"})
    configuration.setdefault("stackedBar", False)
    configuration.setdefault("logScale", False)


def aggregation_types_as_objects(data: dict) -> None:
    """`["avg", "median"]` became `[{type: "avg", value: null}, {type: "percentile", value: 50.0}]`.

    Files at version 8 come with plain strings, with "median" strings or with objects already. The
    percentile is a number, as Optimize's AggregationDto (a Double) writes it; a numeric string a
    migration of ours wrote earlier is read as that number.
    """
    configuration = object_at(data, "configuration")
    aggregations = list_at(configuration, "aggregationTypes")
    if aggregations is None:
        return
    configuration["aggregationTypes"] = [_aggregation_object(aggregation) for aggregation in aggregations]


def _aggregation_object(aggregation: Any) -> Any:
    if isinstance(aggregation, str):
        aggregation = {"type": aggregation, "value": None}
    if isinstance(aggregation, dict) and aggregation.get("type") == "median":
        return {**aggregation, "type": "percentile", "value": 50.0}
    if isinstance(aggregation, dict) and aggregation.get("type") == "percentile" \
            and aggregation.get("value") == "50.0":
        return {**aggregation, "value": 50.0}
    return aggregation


def kpi_target_defaults(data: dict) -> None:
    target_value = object_at(object_at(data, "configuration"), "targetValue")
    if target_value is None:
        return
    target_value.setdefault("isKpi", False)
    duration_target = object_at(object_at(target_value, "durationProgress"), "target")
    if duration_target is not None:
        duration_target.setdefault("isBelow", False)
    count_progress = object_at(target_value, "countProgress")
    if count_progress is not None:
        count_progress.setdefault("isBelow", False)


def rename_count_columns(data: dict) -> None:
    table_columns = object_at(object_at(data, "configuration"), "tableColumns")
    for columns_key in ("includedColumns", "excludedColumns", "columnOrder"):
        columns = list_at(table_columns, columns_key)
        if columns is not None:
            table_columns[columns_key] = [
                _TABLE_COLUMN_RENAMES.get(column, column) if isinstance(column, str) else column
                for column in columns
            ]
