"""Optimize's authoring paths: create reports and dashboards, change and delete them."""

from flask import current_app

from import_svc.api.authoring.schemas import (
    DashboardBodySchema,
    DashboardChangesSchema,
    IdSchema,
    ReportBodySchema,
    ReportChangesSchema,
)
from import_svc.domain.authoring import Authoring
from optimize_runtime.http import Blueprint, current_identity, request_id

report_blueprint = Blueprint("authoring_reports", __name__, url_prefix="/api/report",
                    description="Create, change and delete reports")
dashboard_blueprint = Blueprint("authoring_dashboards", __name__, url_prefix="/api/dashboard",
                       description="Create, change and delete dashboards")


def _authoring() -> Authoring:
    return current_app.extensions["import"].authoring


def _written(entity_type: str, operation: str) -> None:
    current_app.extensions["import"].metrics.written(entity_type, operation)


def _create(export_type: str, body: dict) -> dict:
    entity_id = _authoring().create(current_identity(), export_type, body, request_id())
    _written("dashboard" if export_type == "dashboard" else "report", "created")
    return {"id": entity_id}


@report_blueprint.post("/process/single")
@report_blueprint.arguments(ReportBodySchema)
@report_blueprint.response(200, IdSchema)
def create_process_report(body: dict):
    return _create("single_process_report", body)


@report_blueprint.post("/decision/single")
@report_blueprint.arguments(ReportBodySchema)
@report_blueprint.response(200, IdSchema)
def create_decision_report(body: dict):
    return _create("single_decision_report", body)


@report_blueprint.post("/process/combined")
@report_blueprint.arguments(ReportBodySchema)
@report_blueprint.response(200, IdSchema)
def create_combined_report(body: dict):
    return _create("combined_report", body)


@report_blueprint.put("/<report_id>")
@report_blueprint.arguments(ReportChangesSchema)
@report_blueprint.response(204)
def update_report(changes: dict, report_id: str):
    _authoring().update(current_identity(), "report", report_id, changes)
    _written("report", "updated")


@report_blueprint.delete("/<report_id>")
@report_blueprint.response(204)
def delete_report(report_id: str):
    _authoring().delete(current_identity(), "report", report_id, request_id())
    _written("report", "deleted")


@dashboard_blueprint.post("")
@dashboard_blueprint.arguments(DashboardBodySchema, required=False)  # no body: an empty "New Dashboard"
@dashboard_blueprint.response(200, IdSchema)
def create_dashboard(body: dict):
    return _create("dashboard", body)


@dashboard_blueprint.put("/<dashboard_id>")
@dashboard_blueprint.arguments(DashboardChangesSchema)
@dashboard_blueprint.response(204)
def update_dashboard(changes: dict, dashboard_id: str):
    _authoring().update(current_identity(), "dashboard", dashboard_id, changes)
    _written("dashboard", "updated")


@dashboard_blueprint.delete("/<dashboard_id>")
@dashboard_blueprint.response(204)
def delete_dashboard(dashboard_id: str):
    _authoring().delete(current_identity(), "dashboard", dashboard_id, request_id())
    _written("dashboard", "deleted")


public_blueprint = Blueprint("public_authoring", __name__, url_prefix="/api/public",
                             description="Delete reports and dashboards of collections, for other services")


@public_blueprint.delete("/report/<report_id>")
@public_blueprint.response(204)
def public_delete_report(report_id: str):
    """Delete a report of a collection (public API token), as Optimize's public API does."""
    _authoring().delete(current_identity(), "report", report_id, request_id())
    _written("report", "deleted")


@public_blueprint.delete("/dashboard/<dashboard_id>")
@public_blueprint.response(204)
def public_delete_dashboard(dashboard_id: str):
    """Delete a dashboard of a collection (public API token)."""
    _authoring().delete(current_identity(), "dashboard", dashboard_id, request_id())
    _written("dashboard", "deleted")
