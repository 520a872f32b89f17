"""Wires catalog-svc's adapters to its configuration; the one place that knows them all."""

from dataclasses import dataclass

from pymongo import MongoClient
from pymongo.database import Database

from catalog_svc.config import CatalogConfig
from optimize_runtime.store.mongo import mongo_client, write_gate
from optimize_runtime.store.write_gate import WriteGate


@dataclass
class CatalogWiring:
    config: CatalogConfig
    mongo: MongoClient
    db: Database
    gate: WriteGate


def wire(config: CatalogConfig) -> CatalogWiring:
    client = mongo_client(config.common)
    return CatalogWiring(config, client, client[config.common.catalog_db], write_gate(config.common))
