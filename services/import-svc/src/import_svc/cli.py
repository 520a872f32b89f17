"""`import-svc serve | relay | consume`."""

import argparse
import sys

from import_svc.config import ImportConfig
from optimize_runtime.service_command import load_config, serve_http


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="import-svc")
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("serve", help="serve the HTTP API with gunicorn")
    commands.add_parser("relay", help="publish the events import-svc recorded (its outbox)")
    commands.add_parser("consume", help="consume collection.deleted and delete the collection's entities")
    args = parser.parse_args(argv)
    config = load_config("import-svc", ImportConfig.from_env)
    if config is None:
        return 2
    if args.command == "serve":
        serve_http(config, "import_svc.app")
    elif args.command == "relay":
        from import_svc.bootstrap import wire
        from optimize_runtime.service_command import run_outbox_relay

        wiring = wire(config)
        wiring.outbox.ensure_indexes()
        wiring.journal_events.ensure_indexes()
        run_outbox_relay(config, wiring.mongo, wiring.db, wiring.gate, "import-svc",
                         feeders=[wiring.journal_events.feed])
    elif args.command == "consume":
        from import_svc.consumer import run_consumer

        run_consumer(config)
    return 0


if __name__ == "__main__":
    sys.exit(main())
