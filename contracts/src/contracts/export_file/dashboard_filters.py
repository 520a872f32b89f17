"""A dashboard's `availableFilters` as Optimize's DashboardService.validateDashboardFilters checks them
(DashboardImportService turns any failure into importFileInvalid)."""

from collections import defaultdict

from contracts.export_file.structure import Location

# Optimize's DashboardFilterDto subtypes (its JSON `type`).
DASHBOARD_FILTER_TYPES = ("instanceStartDate", "instanceEndDate", "state", "variable", "assignee",
                          "candidateGroup")
_AT_MOST_ONE = ("instanceStartDate", "instanceEndDate", "state")
_IDENTITY = ("assignee", "candidateGroup")
# Variable types whose filter takes no sub-data (VariableType.DATE, VariableType.BOOLEAN).
_WITHOUT_SUBDATA = ("date", "boolean")

Problem = tuple[Location, str]


def dashboard_filter_problems(dashboard: dict, at: Location = ()) -> list[Problem]:
    filters = dashboard.get("availableFilters")
    if not isinstance(filters, list):
        return []
    where = (*at, "availableFilters")
    problems: list[Problem] = []
    by_type: dict[str, list[int]] = defaultdict(list)
    for position, dashboard_filter in enumerate(filters):
        if not isinstance(dashboard_filter, dict):
            continue
        filter_type = dashboard_filter.get("type")
        if filter_type not in DASHBOARD_FILTER_TYPES:
            problems.append(((*where, position, "type"), f"Is {filter_type!r}; a dashboard filter is one of "
                                                         f"{', '.join(DASHBOARD_FILTER_TYPES)}."))
            continue
        by_type[filter_type].append(position)
        data = dashboard_filter.get("data")
        if not isinstance(data, dict):
            problems.append(((*where, position, "data"), "Every dashboard filter needs its filter data."))
        elif filter_type == "variable" and str(data.get("type")).lower() in _WITHOUT_SUBDATA \
                and data.get("data") is not None:
            problems.append(((*where, position, "data", "data"),
                             f"Filter subdata cannot be supplied for {data.get('type')} variable filters."))
    for filter_type in _AT_MOST_ONE:
        for position in by_type[filter_type][1:]:
            problems.append(((*where, position, "type"), f"There can only be one {filter_type} filter."))
    for filter_type in _IDENTITY:
        problems += _duplicate_identity_filters(filters, by_type[filter_type], filter_type, where)
    return problems


def _duplicate_identity_filters(filters: list, positions: list[int], filter_type: str,
                                where: Location) -> list[Problem]:
    """At most one including (`in`) and one excluding (`not in`) filter per identity type."""
    problems: list[Problem] = []
    by_operator: dict[str, list[int]] = defaultdict(list)
    for position in positions:
        data = filters[position].get("data")
        if isinstance(data, dict) and data.get("operator") in ("in", "not in"):
            by_operator[data["operator"]].append(position)
    for operator, kind in (("in", "including"), ("not in", "excluding")):
        for position in by_operator[operator][1:]:
            problems.append(((*where, position, "data", "operator"),
                             f"There can only be one {kind} {filter_type} filter."))
    return problems
