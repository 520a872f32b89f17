"""export-svc HTTP."""

from flask import Flask
from pymongo import MongoClient

from export_svc.api import console, entities, export_files
from export_svc.bootstrap import wire
from export_svc.config import ExportConfig
from optimize_runtime.http import create_service_app
from optimize_runtime.http.readiness import catalog_check, mongodb_check


def create_app(config: ExportConfig | None = None, *, mongo: MongoClient | None = None) -> Flask:
    config = config or ExportConfig.from_env()
    wiring = wire(config, mongo)
    app = create_service_app(
        config.common,
        title="Optimize export",
        blueprints=[entities.blueprint, entities.public_blueprint, export_files.blueprint],
        readiness=[mongodb_check(wiring.mongo), catalog_check(wiring.catalog)],
    )
    app.register_blueprint(console.blueprint)
    app.extensions["export"] = wiring
    return app
