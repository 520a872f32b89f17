"""Wires import-svc's adapters to its configuration; the one place that knows them all."""

from dataclasses import dataclass

from pymongo import MongoClient
from pymongo.database import Database

from contracts.catalog_rpc import register_catalog_rpc
from import_svc.adapters.catalog import ImportCatalog
from import_svc.adapters.collection_events import CollectionEvents
from import_svc.adapters.entity_store import EntityStore
from import_svc.adapters.import_journal import ImportJournal, Sweeper
from import_svc.adapters.journal_events import JournalEvents
from import_svc.adapters.metrics import ImportMetrics
from import_svc.adapters.pause_points import PausePoints
from import_svc.config import ImportConfig
from import_svc.domain.authoring import Authoring
from import_svc.domain.importing import Importer
from optimize_runtime.messaging import EventPublisher, RemoteService, RpcClient
from optimize_runtime.messaging.outbox import Outbox
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
    import_journal: ImportJournal
    sweeper: Sweeper
    pause: PausePoints
    importer: Importer
    authoring: Authoring
    metrics: ImportMetrics
    # Events recorded with the writes they describe, published by `import-svc relay`.
    outbox: Outbox
    collection_events: CollectionEvents
    journal_events: JournalEvents


def wire(config: ImportConfig, mongo: MongoClient | None = None) -> ImportWiring:
    """`mongo`: a client made by the caller (tests pass one with command monitoring)."""
    common = config.common
    register_catalog_rpc()
    client = mongo or mongo_client(common)
    db, gate = client[common.entities_db], write_gate(common)
    catalog = RpcClient(common.amqp_url, common.rpc_queue, timeout_s=common.rpc_timeout_s)
    events = EventPublisher(common.amqp_url, exchange=common.events_exchange)
    outbox = Outbox(db, gate)
    entities = EntityStore(db, gate, outbox=outbox)
    pause = PausePoints(config.pause_at, config.pause_file)
    journal = ImportJournal(db, entities, gate, lease_s=config.import_lease_s,
                            marker_clear_delay_s=config.marker_clear_delay_s, pause=pause)
    import_catalog = ImportCatalog(RemoteService("catalog", catalog))
    metrics = ImportMetrics()
    return ImportWiring(
        config=config,
        mongo=client,
        db=db,
        gate=gate,
        catalog=catalog,
        events=events,
        entities=entities,
        import_journal=journal,
        sweeper=Sweeper(journal, config.sweep_interval_s),
        pause=pause,
        importer=Importer(import_catalog, journal, outbox.record_or_log,
                          max_entities=config.max_import_entities,
                          max_name_length=config.max_entity_name_length, counts=metrics,
                          platform=config.platform),
        authoring=Authoring(store=entities, catalog=import_catalog,
                            max_name_length=config.max_entity_name_length),
        metrics=metrics,
        outbox=outbox,
        collection_events=CollectionEvents(db, gate, outbox, entities),
        journal_events=JournalEvents(db, gate, outbox),
    )
