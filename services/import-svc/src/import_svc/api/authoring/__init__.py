"""Authoring over HTTP: Optimize's paths for creating, changing and deleting reports and dashboards."""

from import_svc.api.authoring.views import dashboard_blueprint, public_blueprint, report_blueprint

blueprints = [report_blueprint, dashboard_blueprint, public_blueprint]

__all__ = ["blueprints", "dashboard_blueprint", "public_blueprint", "report_blueprint"]
