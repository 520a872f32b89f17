"""Wires import-svc's adapters to its configuration; the one place that knows them all."""

from dataclasses import dataclass

from pymongo import MongoClient
from pymongo.database import Database

from import_svc.adapters.entity_store import EntityStore
from import_svc.config import ImportConfig
from optimize_runtime.messaging import EventPublisher, RpcClient
from optimize_runtime.store.mongo import mongo_client, write_gate
from optimize_runtime.store.write_gate import WriteGate


@dataclass
class ImportWiring:
    config: ImportConfig
    mongo: MongoClient
    db: Database
    gate: WriteGate
    catalog: RpcClient
    events: EventPublisher
    entities: EntityStore


def wire(config: ImportConfig) -> ImportWiring:
    common = config.common
    client = mongo_client(common)
    db, gate = client[common.entities_db], write_gate(common)
    return ImportWiring(
        config=config,
        mongo=client,
        db=db,
        gate=gate,
        catalog=RpcClient(common.amqp_url, common.rpc_queue, timeout_s=common.rpc_timeout_s),
        events=EventPublisher(common.amqp_url, exchange=common.events_exchange),
        entities=EntityStore(db, gate),
    )
