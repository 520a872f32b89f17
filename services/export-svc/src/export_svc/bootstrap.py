"""Wires export-svc's adapters to its configuration; the one place that knows them all."""

from dataclasses import dataclass

from pymongo import MongoClient
from pymongo.database import Database

from export_svc.config import ExportConfig
from optimize_runtime.messaging import EventPublisher, RpcClient
from optimize_runtime.store.mongo import mongo_client, write_gate
from optimize_runtime.store.write_gate import WriteGate


@dataclass
class ExportWiring:
    config: ExportConfig
    mongo: MongoClient
    db: Database
    gate: WriteGate
    catalog: RpcClient
    events: EventPublisher


def wire(config: ExportConfig) -> ExportWiring:
    common = config.common
    client = mongo_client(common)
    return ExportWiring(
        config=config,
        mongo=client,
        db=client[common.entities_db],
        gate=write_gate(common),
        catalog=RpcClient(common.amqp_url, common.rpc_queue, timeout_s=common.rpc_timeout_s),
        events=EventPublisher(common.amqp_url, exchange=common.events_exchange),
    )
