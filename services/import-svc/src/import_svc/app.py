"""import-svc HTTP."""

from flask import Flask
from pymongo import MongoClient

from import_svc.api import authoring, imports
from import_svc.bootstrap import wire
from import_svc.config import ImportConfig
from optimize_runtime.http import create_service_app
from optimize_runtime.http.readiness import catalog_check, mongodb_check


def create_app(config: ImportConfig | None = None, *, mongo: MongoClient | None = None) -> Flask:
    config = config or ImportConfig.from_env()
    wiring = wire(config, mongo)
    wiring.entities.ensure_indexes()
    wiring.import_journal.ensure_indexes()
    if config.sweep_interval_s > 0:
        wiring.import_journal.sweep()  # at start: what imports of a dead process left
        wiring.sweeper.start()
    wiring.outbox.ensure_indexes()
    wiring.journal_events.ensure_indexes()
    app = create_service_app(
        config.common,
        title="Optimize import",
        blueprints=[imports.blueprint, *authoring.blueprints],
        readiness=[mongodb_check(wiring.mongo), catalog_check(wiring.catalog)],
    )
    app.extensions["import"] = wiring
    return app
