"""One Optimize installation under test: the three services' apps and a catalog RPC worker, on the
shared servers but with their own database, queue and exchange names. A cross-service test makes two.

Test-only wiring: the services never import each other; this package, which the tests alone use, imports
all three."""

import threading
from dataclasses import dataclass, field

from catalog_svc.api.rpc import rpc_handlers
from catalog_svc.app import create_app as create_catalog_app
from catalog_svc.bootstrap import wire as wire_catalog
from catalog_svc.config import CatalogConfig
from export_svc.app import create_app as create_export_app
from export_svc.config import ExportConfig
from import_svc.app import create_app as create_import_app
from import_svc.bootstrap import wire as wire_import
from import_svc.config import ImportConfig
from import_svc.consumer import collection_events_consumer
from optimize_runtime.identity import issue_token
from optimize_runtime.messaging import EventPublisher, RpcServer
from optimize_runtime.messaging.event_consumer import dead_letter_queue, retry_queue
from optimize_runtime.messaging.outbox import OutboxRelay
from optimize_testing.factories import ok
from optimize_testing.pytest_plugin import TEST_JWT_SECRET, IsolatedNames, service_environ
from optimize_testing.servers import TestServers

_SERVICES = {"catalog": (create_catalog_app, CatalogConfig), "export": (create_export_app, ExportConfig),
             "import": (create_import_app, ImportConfig)}


@dataclass
class Installation:
    names: IsolatedNames
    environ: dict[str, str]
    apps: dict = field(default_factory=dict)
    _worker: object = None
    _worker_thread: threading.Thread | None = None
    _worker_wiring: object = None
    _event_flow: list = field(default_factory=list)  # (runner, thread, closers)
    relays: dict = field(default_factory=dict)  # the running outbox relays, by service

    def app(self, service: str):
        """The Flask app of 'catalog', 'export' or 'import', made on first use."""
        if service not in self.apps:
            create_app, config_class = _SERVICES[service]
            self.apps[service] = create_app(config_class.from_env(self.environ))
        return self.apps[service]

    @property
    def catalog(self):
        return self.app("catalog").test_client()

    @property
    def export(self):
        return self.app("export").test_client()

    @property
    def imports(self):
        return self.app("import").test_client()

    def headers(self, user: str = "demo", groups: list[str] | None = None) -> dict[str, str]:
        return {"Authorization": f"Bearer {issue_token(TEST_JWT_SECRET, user, groups)}"}

    def public_headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.environ['OPTIMIZE_API_ACCESS_TOKEN']}"}

    def seed_invoice(self, users: tuple[str, ...] = ("demo",)) -> None:
        """The process definition `invoice` (version 1, no tenant), which `users` may access: what most
        import tests need in the catalog."""
        catalog, headers = self.catalog, self.headers()
        ok(catalog.post("/api/definition", headers=headers,
                        json=[{"type": "process", "key": "invoice", "name": "Invoice", "version": "1"}]))
        ok(catalog.post("/api/authorization", headers=headers, json=[
            {"identity": {"id": user, "type": "user"}, "definitionType": "process",
             "definitionKey": "invoice", "tenants": [None]} for user in users]))

    def start_catalog_worker(self) -> None:
        config = CatalogConfig.from_env(self.environ)
        self._worker_wiring = wire_catalog(config)
        self._worker = RpcServer(config.common.amqp_url, config.common.rpc_queue,
                                 rpc_handlers(self._worker_wiring), prefetch=config.rpc_prefetch)
        self._worker_thread = threading.Thread(target=self._worker.serve_forever,
                                               name=f"catalog-worker-{self.names.prefix}", daemon=True)
        self._worker_thread.start()
        if not self._worker.wait_until_serving(15):
            raise RuntimeError("the catalog RPC worker did not start consuming within 15 s")

    def fail_catalog_store(self) -> None:
        """Closes the catalog worker's MongoDB client, as if its store were gone: the worker keeps serving,
        and answers every call that reads the catalog with serverError."""
        self._worker_wiring.mongo.close()

    def stop_catalog_worker(self) -> None:
        if self._worker_thread is not None:
            self._worker.stop()
            self._worker_thread.join(timeout=10)
            self._worker_thread = None
            self._worker_wiring.mongo.close()

    def start_event_flow(self, *, relays: bool = True, consumer: bool = True) -> None:
        """What carries events in production, as threads: the outbox relays of the catalog and of
        import-svc (`<service> relay`), and import-svc's consumer of collection events
        (`import-svc consume`)."""
        import_config = ImportConfig.from_env(self.environ)
        common = import_config.common
        if relays:
            catalog_wiring = wire_catalog(CatalogConfig.from_env(self.environ))
            import_wiring = wire_import(import_config)
            for name, wiring in (("catalog-svc", catalog_wiring), ("import-svc", import_wiring)):
                publisher = EventPublisher(common.amqp_url, common.events_exchange,
                                           connection_name=f"{self.names.prefix}-{name}-relay",
                                           transactional=True)
                feeders = [wiring.journal_events.feed] if name == "import-svc" else []
                relay = OutboxRelay(wiring.db, wiring.gate, publisher, name, poll_interval_s=0.1,
                                    feeders=feeders)
                self.relays[name] = relay
                self._run(relay, relay.run, [publisher.close, wiring.mongo.close])
        if consumer:
            wiring = wire_import(import_config)
            events_consumer = collection_events_consumer(import_config, wiring)
            self._run(events_consumer, events_consumer.serve_forever, [wiring.mongo.close])
            if not events_consumer.wait_until_serving(15):
                raise RuntimeError("the collection events consumer did not start within 15 s")

    def _run(self, runner, target, closers) -> None:
        thread = threading.Thread(target=target, name=f"{type(runner).__name__}-{self.names.prefix}",
                                  daemon=True)
        thread.start()
        self._event_flow.append((runner, thread, closers))

    def stop_event_flow(self) -> None:
        self.relays.clear()
        while self._event_flow:
            runner, thread, closers = self._event_flow.pop()
            runner.stop()
            thread.join(timeout=10)
            for close in closers:
                close()

    def delete_event_queues(self) -> None:
        """The durable queues and exchange of this installation outlive it on a shared broker: remove them."""
        import pika

        connection = pika.BlockingConnection(pika.URLParameters(self.environ["OPTIMIZE_AMQP_URL"]))
        try:
            channel = connection.channel()
            queue = self.names.collection_events_queue
            for name in (queue, retry_queue(queue), dead_letter_queue(queue)):
                channel.queue_delete(name)
            channel.exchange_delete(self.names.events_exchange)
        finally:
            connection.close()

    def close(self) -> None:
        self.stop_event_flow()
        self.stop_catalog_worker()
        for app in self.apps.values():
            for wiring in app.extensions.values():
                for attribute in ("catalog", "events"):
                    client = getattr(wiring, attribute, None)
                    if hasattr(client, "close"):
                        client.close()
                mongo = getattr(wiring, "mongo", None)
                if mongo is not None:
                    mongo.close()


def start_installation(servers: TestServers, names: IsolatedNames, **environ_overrides: str) -> Installation:
    installation = Installation(names, service_environ(servers, names, **environ_overrides))
    installation.start_catalog_worker()
    return installation
