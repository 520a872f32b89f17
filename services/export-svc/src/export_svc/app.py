"""export-svc HTTP."""

from flask import Flask

from export_svc.bootstrap import wire
from export_svc.config import ExportConfig
from optimize_runtime.http import create_service_app
from optimize_runtime.http.readiness import catalog_check, mongodb_check


def create_app(config: ExportConfig | None = None) -> Flask:
    config = config or ExportConfig.from_env()
    wiring = wire(config)
    app = create_service_app(
        config.common,
        title="Optimize export",
        blueprints=[],
        readiness=[mongodb_check(wiring.mongo), catalog_check(wiring.catalog)],
    )
    app.extensions["export"] = wiring
    return app
