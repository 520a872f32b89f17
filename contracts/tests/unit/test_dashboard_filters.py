"""Dashboard filters as Optimize's DashboardService.validateDashboardFilters checks them on import
(DashboardImportService.validateDashboardFiltersOrFail: any failure is importFileInvalid)."""

import pytest

from contracts.export_file import read_export_file

DATE = {"type": "rolling", "start": {"value": 30, "unit": "days"}, "end": None}


def dashboard(*filters):
    return {"id": "board", "exportEntityType": "dashboard", "name": "Board", "description": None,
            "sourceIndexVersion": 8, "collectionId": None, "tiles": [], "availableFilters": list(filters)}


def errors(*filters):
    reading = read_export_file([dashboard(*filters)])
    return [(error["path"], error["message"]) for error in reading.validation_errors]


def test_filters_of_every_kind_with_their_data_are_accepted():
    assert errors({"type": "instanceStartDate", "data": DATE}, {"type": "instanceEndDate", "data": DATE},
                  {"type": "state", "data": {}},
                  {"type": "variable",
                   "data": {"name": "amount", "type": "Double", "data": {"operator": ">"}}},
                  {"type": "variable", "data": {"name": "late", "type": "Boolean", "data": None}},
                  {"type": "assignee", "data": {"operator": "in", "values": ["demo"]}},
                  {"type": "assignee", "data": {"operator": "not in", "values": ["john"]}}) == []


def test_a_filter_without_data_is_refused():
    """validateFiltersHaveData: "All filters need to supply Filter data"."""
    assert errors({"type": "state", "data": None}, {"type": "assignee"}) == [
        ("[0].availableFilters[0].data", "Every dashboard filter needs its filter data."),
        ("[0].availableFilters[1].data", "Every dashboard filter needs its filter data.")]


@pytest.mark.parametrize("filter_type", ["instanceStartDate", "instanceEndDate", "state"])
def test_a_date_or_state_filter_may_appear_once(filter_type):
    """validateDateAndStateFilters: "There can only be one ..." start-date, end-date or state filter."""
    data = {} if filter_type == "state" else DATE
    assert errors({"type": filter_type, "data": data}, {"type": filter_type, "data": data}) == [
        ("[0].availableFilters[1].type", f"There can only be one {filter_type} filter.")]


def test_identity_filters_include_once_and_exclude_once():
    """validateIdentityFilters: one including and one excluding filter per assignee / candidate group."""
    including = {"type": "candidateGroup", "data": {"operator": "in", "values": ["sales"]}}
    assert errors(including, including) == [
        ("[0].availableFilters[1].data.operator", "There can only be one including candidateGroup filter.")]


def test_date_and_boolean_variable_filters_take_no_subdata():
    """validateVariableFilters: "Filter subdata cannot be supplied for DATE/BOOLEAN variable filters"."""
    assert errors({"type": "variable", "data": {"name": "due", "type": "Date", "data": {"x": 1}}}) == [
        ("[0].availableFilters[0].data.data", "Filter subdata cannot be supplied for Date variable filters.")]


def test_an_unknown_filter_type_is_refused():
    """DashboardFilterDto's subtypes are the only types Optimize's reader knows."""
    assert [path for path, _ in errors({"type": "duration", "data": {}})] == ["[0].availableFilters[0].type"]
