"""Wires catalog-svc's adapters to its configuration; the one place that knows them all."""

from dataclasses import dataclass

from pymongo import MongoClient
from pymongo.database import Database

from catalog_svc.adapters.mongo_catalog import (
    AuthorizationStore,
    CatalogVersion,
    CollectionStore,
    DefinitionStore,
    ensure_indexes,
)
from catalog_svc.config import CatalogConfig
from catalog_svc.domain.collection_admin import CollectionAdmin
from contracts.catalog_rpc import register_catalog_rpc
from optimize_runtime.messaging.outbox import Outbox
from optimize_runtime.store.mongo import mongo_client, write_gate
from optimize_runtime.store.write_gate import WriteGate


@dataclass
class CatalogWiring:
    config: CatalogConfig
    mongo: MongoClient
    db: Database
    gate: WriteGate
    # Replaced by every catalog write with its change: what the RPC worker remembers is checked against it.
    version: CatalogVersion
    definitions: DefinitionStore
    collections: CollectionStore
    authorizations: AuthorizationStore
    collection_admin: CollectionAdmin
    # Events recorded with the writes they describe (collection.deleted), published by `catalog-svc relay`.
    outbox: Outbox


def wire(config: CatalogConfig, mongo: MongoClient | None = None) -> CatalogWiring:
    """Connects to the catalog database and creates its indexes; `mongo` lets a test count commands.
    Registers the catalog's RPC methods, which the RPC API serves."""
    register_catalog_rpc()
    client = mongo or mongo_client(config.common)
    db = client[config.common.catalog_db]
    gate = write_gate(config.common)
    ensure_indexes(db)
    version = CatalogVersion(db, gate)
    version.ensure()
    outbox = Outbox(db, gate)
    outbox.ensure_indexes()
    collections = CollectionStore(db, version, outbox)
    return CatalogWiring(config, client, db, gate, version, DefinitionStore(db, version), collections,
                         AuthorizationStore(db, version), CollectionAdmin(collections), outbox)
