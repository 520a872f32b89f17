"""Dashboard variable filters must name a variable of the dashboard's reports, as Optimize's
DashboardService.validateVariableFiltersExistInReports checks on import: the variables (name and type) of
the process definitions read by the reports the dashboard's tiles show (a combined report's own reports
included), as ProcessVariableService.getVariableNamesForAuthorizedReports collects them.

The variables come from the catalog, with the one `check_import` call. A dashboard is checked only when
the catalog has variables recorded for every definition its reports read: a definition registered without
them is unknown, and an installation that never records variables imports as if there were no such rule."""

from collections.abc import Iterable

from contracts.catalog_rpc import ProcessVariable
from contracts.export_file.json_path import json_path
from contracts.export_file.references import referenced_report_ids
from import_svc.domain.importing.prerequisites import CatalogVerdict, DefinitionUse, definition_uses

Location = tuple[str | int, ...]


def variable_filters(dashboard: dict) -> list[tuple[int, dict]]:
    """The dashboard's variable filters with their positions in `availableFilters`."""
    filters = dashboard.get("availableFilters")
    filters = filters if isinstance(filters, list) else []
    return [(position, item["data"]) for position, item in enumerate(filters)
            if isinstance(item, dict) and item.get("type") == "variable"
            and isinstance(item.get("data"), dict)]


def needs_variables(entities: Iterable[dict]) -> bool:
    """Whether the catalog must answer the definitions' variables: some dashboard has a variable filter."""
    return any(entity.get("exportEntityType") == "dashboard" and variable_filters(entity)
               for entity in entities)


def process_uses_shown(dashboard: dict, reports: dict[str, dict]) -> list[DefinitionUse]:
    """The process definitions read by the reports the dashboard's tiles show (only reports in the file)."""
    shown = [reports[report_id] for report_id in referenced_report_ids(dashboard) if report_id in reports]
    shown += [reports[child] for report in shown
              for child in referenced_report_ids(report) if child in reports]
    unique = list({report["id"]: report for report in shown}.values())
    return [use for use in definition_uses(unique) if use.type == "process"]


def known_variables(uses: list[DefinitionUse], verdict: CatalogVerdict) -> set[tuple[str, str]] | None:
    """(name, lower-case type) of every variable the uses read; None when any use's variables are unknown."""
    variables: set[tuple[str, str]] = set()
    for use in uses:
        recorded: tuple[ProcessVariable, ...] | None = verdict.check(use).variables
        if recorded is None:
            return None
        variables |= {(variable.name, variable.type.lower()) for variable in recorded}
    return variables


def unknown_variable_filter_errors(entities: list[dict], verdict: CatalogVerdict,
                                   at: dict[str, Location]) -> list[dict]:
    """One validation error per variable filter whose (name, type) no report of its dashboard has.

    `at` gives each entity's place in the file (its position), by id, for the error's path."""
    reports = {entity["id"]: entity for entity in entities if entity.get("exportEntityType") != "dashboard"}
    errors = []
    for dashboard in entities:
        if dashboard.get("exportEntityType") != "dashboard":
            continue
        filters = variable_filters(dashboard)
        if not filters:
            continue
        known = known_variables(process_uses_shown(dashboard, reports), verdict)
        if known is None:
            continue
        for position, data in filters:
            name, variable_type = data.get("name"), data.get("type")
            if (name, str(variable_type).lower()) in known:
                continue
            errors.append({
                "entityId": dashboard["id"],
                "path": json_path((*at.get(dashboard["id"], ()), "availableFilters", position, "data",
                                   "name")),
                "message": f"The variable filter names the {variable_type} variable '{name}', which no "
                           f"report of the dashboard has.",
            })
    return errors
