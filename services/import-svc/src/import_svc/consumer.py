"""`import-svc consume`: the catalog's `collection.deleted` events, from a durable queue of import-svc's
own, each deleting the collection's entities (retried, then parked in a dead-letter queue)."""

from contracts.events import COLLECTION_DELETED
from import_svc.bootstrap import wire
from import_svc.config import ImportConfig
from optimize_runtime.messaging.event_consumer import EventConsumer


def collection_events_consumer(config: ImportConfig, wiring) -> EventConsumer:
    common = config.common
    return EventConsumer(common.amqp_url, common.events_exchange, config.collection_events_queue,
                         [COLLECTION_DELETED], wiring.collection_events.handle,
                         max_attempts=config.events_max_attempts, retry_delay_s=config.events_retry_delay_s)


def run_consumer(config: ImportConfig) -> None:
    from optimize_runtime.service_command import run_in_foreground

    wiring = wire(config)
    wiring.outbox.ensure_indexes()
    try:
        run_in_foreground(config, collection_events_consumer(config, wiring), wiring.mongo)
    finally:
        wiring.catalog.close()
        wiring.events.close()
