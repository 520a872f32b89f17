"""`catalog-svc serve | rpc`."""

import argparse
import logging
import sys

from catalog_svc.config import CatalogConfig
from optimize_runtime.settings import ConfigurationError


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="catalog-svc")
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("serve", help="serve the HTTP API with gunicorn")
    commands.add_parser("rpc", help="run the RPC worker answering on the catalog queue")
    args = parser.parse_args(argv)
    try:
        config = CatalogConfig.from_env()
    except ConfigurationError as error:
        print(f"catalog-svc cannot start: {error}", file=sys.stderr)
        return 2
    logging.basicConfig(level=config.common.log_level)
    if args.command == "serve":
        from catalog_svc.app import create_app
        from optimize_runtime.http.serve import serve

        serve(lambda: create_app(config), bind=config.http.bind, workers=config.http.workers,
              threads=config.http.threads, graceful_timeout=config.http.graceful_timeout_s)
    elif args.command == "rpc":
        from catalog_svc.rpc_worker import run_worker

        run_worker(config)
    return 0


if __name__ == "__main__":
    sys.exit(main())
