"""Authoring over HTTP: Optimize's paths for creating, changing and deleting reports and dashboards."""

from import_svc.api.authoring.views import dashboards, reports

blueprints = [reports, dashboards]

__all__ = ["blueprints", "dashboards", "reports"]
