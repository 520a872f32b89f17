"""A single report's `data` typed as Optimize's reader types it: the values of its enums checked, the keys
it does not know dropped (Optimize's reader ignores them; we would otherwise store and export them again).

The enums are Optimize's (ReportConstants, ProcessFilterDto and DecisionFilterDto subtypes, AggregationType),
joined by the values Optimize's own current templates write (instant_preview_dashboards/template4.json:
the agent views, groupings and filter)."""

from contracts.export_file.structure import Location

PROCESS_VIEW_ENTITIES = ("flowNode", "userTask", "processInstance", "variable", "incident", "agentInstance")
VIEW_PROPERTIES = ("frequency", "duration", "percentage", "rawData",
                   "totalTokens", "inputTokens", "outputTokens", "toolCalls")
PROCESS_GROUP_BY_TYPES = ("flowNodes", "userTasks", "none", "startDate", "endDate", "runningDate", "variable",
                          "assignee", "candidateGroup", "duration", "processDefinitionVersion",
                          "processDefinitionKey")
DECISION_GROUP_BY_TYPES = ("none", "evaluationDateTime", "inputVariable", "outputVariable", "matchedRule")
DISTRIBUTED_BY_TYPES = ("none", "userTask", "flowNode", "assignee", "candidateGroup", "variable", "startDate",
                        "endDate", "process")
VISUALIZATIONS = ("table", "heat", "number", "bar", "line", "badge", "pie", "barLine")
AGGREGATION_TYPES = ("avg", "min", "max", "sum", "percentile")
PROCESS_FILTER_TYPES = (
    "instanceStartDate", "flowNodeStartDate", "flowNodeEndDate", "instanceEndDate", "processInstanceDuration",
    "variable", "multipleVariable", "executedFlowNodes", "executingFlowNodes", "canceledFlowNodes",
    "runningInstancesOnly", "completedInstancesOnly", "canceledInstancesOnly", "nonCanceledInstancesOnly",
    "suspendedInstancesOnly", "nonSuspendedInstancesOnly", "flowNodeDuration", "assignee", "candidateGroup",
    "includesOpenIncident", "includesClosedIncident", "includesResolvedIncident", "doesNotIncludeIncident",
    "runningFlowNodesOnly", "completedFlowNodesOnly", "canceledFlowNodesOnly",
    "completedOrCanceledFlowNodesOnly", "hasAgentInstances")
DECISION_FILTER_TYPES = ("evaluationDateTime", "inputVariable", "outputVariable")

# What Optimize's ProcessReportDataDto / DecisionReportDataDto (with SingleReportDataDto) read.
KNOWN_DATA_KEYS = ("definitions", "configuration", "filter", "view", "groupBy", "distributedBy",
                   "visualization", "managementReport", "instantPreviewReport")
# Written by Optimize from other fields (a getter without a setter), never read back: dropped silently.
DERIVED_DATA_KEYS = ("userTaskReport",)

_ENUMS = {
    "single_process_report": {"view": PROCESS_VIEW_ENTITIES, "groupBy": PROCESS_GROUP_BY_TYPES,
                              "filter": PROCESS_FILTER_TYPES},
    "single_decision_report": {"view": None, "groupBy": DECISION_GROUP_BY_TYPES,
                               "filter": DECISION_FILTER_TYPES},
}

Problem = tuple[Location, str]


def _one_of(value: object, allowed: tuple[str, ...], where: Location) -> list[Problem]:
    if value is None or (isinstance(value, str) and value in allowed):
        return []
    shown = repr(value) if len(repr(value)) <= 60 else f"{repr(value)[:57]}..."
    return [(where, f"Is {shown}; Optimize knows {', '.join(allowed)}.")]


def report_data_problems(entity: dict, at: Location = ()) -> list[Problem]:
    """Enum values of a single report's data that Optimize would not read."""
    enums = _ENUMS.get(entity.get("exportEntityType"))
    data = entity.get("data")
    if enums is None or not isinstance(data, dict):
        return []
    where = (*at, "data")
    problems: list[Problem] = []
    view = data.get("view")
    if isinstance(view, dict):
        if enums["view"] is not None:
            problems += _one_of(view.get("entity"), enums["view"], (*where, "view", "entity"))
        for position, view_property in enumerate(view.get("properties") or []):
            if not isinstance(view_property, dict):  # a variable view names its variable in an object
                problems += _one_of(view_property, VIEW_PROPERTIES, (*where, "view", "properties", position))
    for key, allowed in (("groupBy", enums["groupBy"]), ("distributedBy", DISTRIBUTED_BY_TYPES)):
        if isinstance(data.get(key), dict):
            problems += _one_of(data[key].get("type"), allowed, (*where, key, "type"))
    problems += _one_of(data.get("visualization"), VISUALIZATIONS, (*where, "visualization"))
    configuration = data.get("configuration")
    aggregations = configuration.get("aggregationTypes") if isinstance(configuration, dict) else None
    for position, aggregation in enumerate(aggregations if isinstance(aggregations, list) else []):
        if isinstance(aggregation, dict):
            problems += _one_of(aggregation.get("type"), AGGREGATION_TYPES,
                                (*where, "configuration", "aggregationTypes", position, "type"))
    filters = data.get("filter")
    for position, report_filter in enumerate(filters if isinstance(filters, list) else []):
        if isinstance(report_filter, dict):
            problems += _one_of(report_filter.get("type"), enums["filter"],
                                (*where, "filter", position, "type"))
    return problems


_KNOWN_DATA_KEYS = frozenset(KNOWN_DATA_KEYS)


def unknown_data_keys(entity: dict) -> list[str]:
    """The keys of a single report's data that Optimize does not read, in their order."""
    data = entity.get("data")
    if entity.get("exportEntityType") not in _ENUMS or not isinstance(data, dict):
        return []
    return [key for key in data if key not in _KNOWN_DATA_KEYS]


def drop_unknown_data_keys(entity: dict) -> list[str]:
    """Removes the keys of a single report's data that Optimize does not read; says which, unless Optimize
    derives them itself."""
    unknown = unknown_data_keys(entity)
    data = entity.get("data")
    for key in unknown:
        del data[key]
    reported = [key for key in unknown if key not in DERIVED_DATA_KEYS]
    return [f"data.{key} is not part of an Optimize report and was dropped." for key in reported]
