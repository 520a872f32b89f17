"""import-svc HTTP."""

from flask import Flask

from import_svc.bootstrap import wire
from import_svc.config import ImportConfig
from optimize_runtime.http import create_service_app
from optimize_runtime.http.readiness import catalog_check, mongodb_check


def create_app(config: ImportConfig | None = None) -> Flask:
    config = config or ImportConfig.from_env()
    wiring = wire(config)
    wiring.entities.ensure_indexes()
    app = create_service_app(
        config.common,
        title="Optimize import",
        blueprints=[],
        readiness=[mongodb_check(wiring.mongo), catalog_check(wiring.catalog)],
    )
    app.extensions["import"] = wiring
    return app
