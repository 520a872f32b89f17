"""catalog-svc HTTP: definitions, collections (scope, roles) and definition authorizations."""

from flask import Flask

from catalog_svc.api import authorizations, collections, definitions
from catalog_svc.bootstrap import wire
from catalog_svc.config import CatalogConfig
from optimize_runtime.http import create_service_app
from optimize_runtime.http.readiness import mongodb_check, rabbitmq_check


def create_app(config: CatalogConfig | None = None) -> Flask:
    config = config or CatalogConfig.from_env()
    wiring = wire(config)
    app = create_service_app(
        config.common,
        title="Optimize catalog",
        blueprints=[definitions.blueprint, collections.blueprint, authorizations.blueprint],
        readiness=[mongodb_check(wiring.mongo), rabbitmq_check(config.common.amqp_url)],
    )
    app.extensions["catalog"] = wiring
    return app
