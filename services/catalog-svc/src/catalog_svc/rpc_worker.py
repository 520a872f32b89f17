"""The catalog's RPC worker: its own process (`catalog-svc rpc`), scaled apart from the HTTP process,
serving the RPC API of `catalog_svc.api.rpc` on the catalog queue."""

import logging
import signal

from catalog_svc.api.rpc import rpc_handlers
from catalog_svc.bootstrap import CatalogWiring, wire
from catalog_svc.config import CatalogConfig
from optimize_runtime.messaging import RpcServer

log = logging.getLogger(__name__)


def run_worker(config: CatalogConfig | None = None, wiring: CatalogWiring | None = None) -> None:
    """Serves until SIGTERM or SIGINT. `wiring`: the process's one wiring (and MongoClient), when the
    caller made it already (for its readiness probe)."""
    config = config or CatalogConfig.from_env()
    wiring = wiring or wire(config)
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
