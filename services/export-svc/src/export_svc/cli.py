"""`export-svc serve`."""

import argparse
import sys

from export_svc.config import ExportConfig
from optimize_runtime.service_command import load_config, serve_http


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="export-svc")
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("serve", help="serve the HTTP API with gunicorn")
    parser.parse_args(argv)
    config = load_config("export-svc", ExportConfig.from_env)
    if config is None:
        return 2
    serve_http(config, "export_svc.app")
    return 0


if __name__ == "__main__":
    sys.exit(main())
