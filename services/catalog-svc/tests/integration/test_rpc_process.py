"""`catalog-svc rpc` as its command wires it: one MongoClient for the process, shared by the RPC handlers
and the operations server's readiness probe."""

import optimize_runtime.store.mongo as store_mongo
from catalog_svc import bootstrap, cli, rpc_worker
from optimize_runtime.observability import operations_server


def test_the_rpc_worker_process_opens_one_mongo_client_for_handlers_and_readiness(environ, monkeypatch):
    made, make_client = [], store_mongo.mongo_client

    def counted(settings):
        made.append(make_client(settings))
        return made[-1]

    for name, value in environ.items():
        monkeypatch.setenv(name, value)
    # Wherever the process makes a client: the wiring, or the store module as the command once did.
    monkeypatch.setattr(bootstrap, "mongo_client", counted)
    monkeypatch.setattr(store_mongo, "mongo_client", counted)
    monkeypatch.setattr(cli, "load_config", lambda service, read: read())  # no logging set-up here
    probes, served = [], []
    monkeypatch.setattr(operations_server, "serve_operations",
                        lambda host, port, checks: probes.extend(checks))
    # The worker as it wires itself, without serving: with the command's wiring, else its own.
    monkeypatch.setattr(rpc_worker, "run_worker",
                        lambda config, wiring=None: served.append(wiring or bootstrap.wire(config)))
    try:
        assert cli.main(["rpc"]) == 0
        [wiring] = served
        assert [probe.name for probe in probes] == ["mongodb", "rabbitmq"]
        probes[0].probe()  # answers, over the process's one client
        assert made == [wiring.mongo]
    finally:
        for client in made:
            client.close()
