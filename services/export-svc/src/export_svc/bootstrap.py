"""Wires export-svc's adapters to its configuration; the one place that knows them all."""

from dataclasses import dataclass

from pymongo import MongoClient
from pymongo.database import Database

from contracts.catalog_rpc import register_catalog_rpc
from export_svc.adapters.catalog import ExportCatalog
from export_svc.adapters.entity_store import ReadOnlyEntityStore
from export_svc.adapters.metrics import ExportMetrics
from export_svc.config import ExportConfig
from export_svc.domain.exporting import Exporter
from export_svc.domain.reading import VisibleEntities
from optimize_runtime.messaging import EventPublisher, RemoteService, RpcClient
from optimize_runtime.store.mongo import mongo_client


@dataclass
class ExportWiring:
    config: ExportConfig
    mongo: MongoClient
    db: Database  # read only: import-svc is the one writer of the entity store
    catalog: RpcClient
    events: EventPublisher
    entities: ReadOnlyEntityStore
    reading: VisibleEntities
    exporter: Exporter
    metrics: ExportMetrics


def wire(config: ExportConfig, mongo: MongoClient | None = None) -> ExportWiring:
    """`mongo`: a client made by the caller (tests pass one with command monitoring)."""
    common = config.common
    register_catalog_rpc()
    client = mongo or mongo_client(common)
    db = client[common.entities_db]
    catalog = RpcClient(common.amqp_url, common.rpc_queue, timeout_s=common.rpc_timeout_s)
    events = EventPublisher(common.amqp_url, exchange=common.events_exchange)
    entities = ReadOnlyEntityStore(db)
    export_catalog = ExportCatalog(RemoteService("catalog", catalog))

    return ExportWiring(
        config=config,
        mongo=client,
        db=db,
        catalog=catalog,
        events=events,
        entities=entities,
        reading=VisibleEntities(entities, export_catalog),
        # The file is made already: a lost event is logged, not turned into a failed download.
        exporter=Exporter(entities, export_catalog, events.publish_or_log),
        metrics=ExportMetrics(),
    )
