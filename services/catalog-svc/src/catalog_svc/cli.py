"""`catalog-svc serve | rpc | relay | seed (FILE.json | --demo)`."""

import argparse
import sys
from pathlib import Path

from catalog_svc.config import CatalogConfig
from optimize_runtime.service_command import load_config, serve_http


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="catalog-svc")
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("serve", help="serve the HTTP API with gunicorn")
    commands.add_parser("rpc", help="run the RPC worker answering on the catalog queue")
    commands.add_parser("relay", help="publish the events the catalog recorded (its outbox)")
    seed = commands.add_parser("seed", help="load definitions, collections and authorizations (idempotent)")
    source = seed.add_mutually_exclusive_group(required=True)
    source.add_argument("file", nargs="?", type=Path, help="a seed file (format: catalog_svc.seeding)")
    source.add_argument("--demo", action="store_true", help="the demo set that `make run` loads")
    args = parser.parse_args(argv)
    config = load_config("catalog-svc", CatalogConfig.from_env)
    if config is None:
        return 2
    common = config.common
    if args.command == "serve":
        serve_http(config, "catalog_svc.app")
    elif args.command == "rpc":
        from catalog_svc.bootstrap import wire
        from catalog_svc.rpc_worker import run_worker
        from optimize_runtime.http.readiness import mongodb_check, rabbitmq_check
        from optimize_runtime.observability.operations_server import serve_operations

        wiring = wire(config)  # one MongoClient for the process: the handlers' and the readiness probe's
        serve_operations(config.http.host, common.operations_port,
                         [mongodb_check(wiring.mongo), rabbitmq_check(common.amqp_url)])
        run_worker(config, wiring)
    elif args.command == "relay":
        from catalog_svc.bootstrap import wire
        from optimize_runtime.service_command import run_outbox_relay

        wiring = wire(config)
        run_outbox_relay(config, wiring.mongo, wiring.db, wiring.gate, "catalog-svc")
    elif args.command == "seed":
        return _seed(config, None if args.demo else args.file)
    return 0


def _seed(config: CatalogConfig, path: Path | None) -> int:
    from catalog_svc.bootstrap import wire
    from catalog_svc.seeding import SeedInvalid, seed_file

    wiring = wire(config)
    try:
        print(seed_file(wiring, path))
    except (OSError, SeedInvalid) as error:
        print(f"catalog-svc seed: {path or 'demo seed'} cannot be loaded: {error}", file=sys.stderr)
        return 1
    finally:
        wiring.mongo.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
