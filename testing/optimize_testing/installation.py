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
from import_svc.config import ImportConfig
from optimize_runtime.identity import issue_token
from optimize_runtime.messaging import RpcServer
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

    def close(self) -> None:
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
