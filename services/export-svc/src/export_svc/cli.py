"""`export-svc serve`."""

import argparse
import sys

from export_svc.config import ExportConfig
from optimize_runtime.observability import configure_logging
from optimize_runtime.observability.multiprocess import prepare_metrics_dir
from optimize_runtime.settings import ConfigurationError


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="export-svc")
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("serve", help="serve the HTTP API with gunicorn")
    parser.parse_args(argv)
    try:
        config = ExportConfig.from_env()
    except ConfigurationError as error:
        print(f"export-svc cannot start: {error}", file=sys.stderr)
        return 2
    common = config.common
    configure_logging(common.service, common.log_level, common.log_format)
    prepare_metrics_dir(common.service, common.metrics_dir)  # before the app imports prometheus_client
    from export_svc.app import create_app
    from optimize_runtime.http.serve import serve

    serve(lambda: create_app(config), bind=config.http.bind, workers=config.http.workers,
          threads=config.http.threads, graceful_timeout=config.http.graceful_timeout_s)
    return 0


if __name__ == "__main__":
    sys.exit(main())
