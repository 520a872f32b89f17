"""`optimize-local run | token USER | gateway`: the local installation behind `make run` and `make token`."""

import argparse
import sys

from optimize_runtime.infra.local_run import run, token


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="optimize-local")
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("run", help="start everything on this machine, in the foreground")
    commands.add_parser("gateway", help="serve the local gateway (one origin for the three services)")
    token_parser = commands.add_parser("token", help="print a development token for a user")
    token_parser.add_argument("user")
    token_parser.add_argument("--groups", default="", help="comma-separated groups")
    args = parser.parse_args(argv)
    if args.command == "run":
        return run()
    if args.command == "gateway":
        from optimize_runtime.infra.gateway import serve_local_gateway

        return serve_local_gateway()
    return token(args.user, [g for g in args.groups.split(",") if g])


if __name__ == "__main__":
    sys.exit(main())
