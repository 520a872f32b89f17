"""import-svc HTTP."""

from flask import Flask
from pymongo import MongoClient

from import_svc.api import authoring, imports
from import_svc.bootstrap import wire
from import_svc.config import ImportConfig
from import_svc.domain.importing.spooled_file import remove_leftover_spools
from optimize_runtime.http import create_service_app
from optimize_runtime.http.readiness import catalog_check, mongodb_check

MONGODB_DOCUMENT_BYTES = 16 * 1024 * 1024


def create_app(config: ImportConfig | None = None, *, mongo: MongoClient | None = None) -> Flask:
    config = config or ImportConfig.from_env()
    wiring = wire(config, mongo)
    wiring.entities.ensure_indexes()
    wiring.import_journal.ensure_indexes()
    if config.sweep_interval_s > 0:
        wiring.import_journal.sweep()  # at start: what imports of a dead process left
        wiring.sweeper.start()
    remove_leftover_spools()  # at start: what a process killed while spooling a body could leave
    wiring.outbox.ensure_indexes()
    wiring.journal_events.ensure_indexes()
    app = create_service_app(
        config.common,
        title="Optimize import",
        blueprints=[imports.blueprint, *authoring.blueprints],
        readiness=[mongodb_check(wiring.mongo), catalog_check(wiring.catalog)],
        largest_body_bytes=config.max_import_bytes,
        # an import checks its own size (and announces the refusal); an entity is at most one MongoDB document
        body_limits={imports.blueprint.name: None, **{blueprint.name: MONGODB_DOCUMENT_BYTES
                                                for blueprint in authoring.blueprints}},
    )
    app.extensions["import"] = wiring
    return app
