"""The catalog's RPC worker: its own process (`catalog-svc rpc`), scaled apart from the HTTP process."""

import logging
import signal
from datetime import UTC, datetime

from catalog_svc.bootstrap import CatalogWiring, wire
from catalog_svc.config import CatalogConfig
from optimize_runtime.messaging import RpcServer

log = logging.getLogger(__name__)


def rpc_handlers(wiring: CatalogWiring) -> dict:
    def ping(params: dict, context) -> dict:
        return {"service": "catalog-svc", "time": datetime.now(UTC).isoformat()}

    return {"ping": ping}


def run_worker(config: CatalogConfig | None = None) -> None:
    config = config or CatalogConfig.from_env()
    wiring = wire(config)
    server = RpcServer(config.common.amqp_url, config.common.rpc_queue, rpc_handlers(wiring),
                       prefetch=config.rpc_prefetch)

    def stop(signum, frame):
        log.info("signal %s: finishing the message in hand and stopping", signum)
        server.stop()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    log.info("catalog RPC worker consuming %s", config.common.rpc_queue)
    server.serve_forever()
    wiring.mongo.close()
