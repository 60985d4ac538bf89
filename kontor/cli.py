"""The ``kontor`` command line: the composition root's entry points.

This module reads the process environment once (``load_settings(os.environ)``) and hands the
settings down; nothing below it looks at environment variables.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence

from kontor import preview_cli
from kontor.logs import configure_logging
from kontor.settings import Settings, SettingsError, load_settings, settings_table


def _settings() -> Settings:
    try:
        return load_settings(os.environ)
    except SettingsError as exc:
        print(f"kontor: {exc}", file=sys.stderr)
        raise SystemExit(2) from exc


def cmd_up(_: argparse.Namespace) -> int:
    from kontor.up import run_up

    settings = _settings()
    configure_logging(settings.log_level, json=settings.log_json, process="supervisor")
    return run_up(settings, os.environ)


def cmd_api(_: argparse.Namespace) -> int:
    import uvicorn

    from api.app import create_app

    settings = _settings()
    configure_logging(settings.log_level, json=settings.log_json, process="api")
    app = create_app(settings)
    uvicorn.run(
        app,
        host=settings.http_host,
        port=settings.http_port,
        log_config=None,
        access_log=False,
        lifespan="on",
    )
    return 0


def cmd_settings(_: argparse.Namespace) -> int:
    print(settings_table())
    return 0


def cmd_bench(args: argparse.Namespace) -> int:
    """Run ``benchmarks/<name>.py``'s ``main(argv, settings)``; it prints JSON."""
    import importlib

    from benchmarks import BENCHMARKS

    if args.name not in BENCHMARKS:
        print(f"kontor bench: unknown benchmark {args.name!r}; one of: {', '.join(BENCHMARKS)}")
        return 2
    module = importlib.import_module(f"benchmarks.{args.name}")
    result: int = module.main(list(args.args), _settings())
    return result


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="kontor", description="Kontor bulk-SMS platform")
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("up", help="start the whole platform (embedded servers unless configured)")
    sub.add_parser("api", help="serve the HTTP API (started by `kontor up`)")
    sub.add_parser("settings", help="print every KONTOR_* variable with its default and meaning")
    bench = sub.add_parser("bench", help="run a benchmark and print JSON (`kontor bench NAME -h`)")
    bench.add_argument("name", help="benchmark name")
    bench.add_argument("args", nargs=argparse.REMAINDER, help="the benchmark's own arguments")
    preview_cli.add_parser(sub)
    return parser


COMMANDS = {"up": cmd_up, "api": cmd_api, "settings": cmd_settings, "bench": cmd_bench}
COMMANDS["preview"] = preview_cli.run


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return COMMANDS[args.command](args)


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
