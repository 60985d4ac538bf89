"""The ``kontor`` command line: the composition root's entry points.

This module reads the process environment once (``load_settings(os.environ)``) and hands the
settings down; nothing below it looks at environment variables.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from typing import Any

from adapters.gcpolicy import settle
from adapters.postgres.priority import lead_session_group
from kontor import keys_cli, mail_cli, preview_cli, projections_cli, staff_cli
from kontor.logs import configure_logging
from settings import Settings, SettingsError, load_settings, settings_table


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
    from concurrent.futures import ThreadPoolExecutor

    import uvicorn
    from litestar.concurrency import set_asyncio_executor

    from api.app import create_app

    settings = _settings()
    configure_logging(settings.log_level, json=settings.log_json, process="api")
    lead_session_group()
    app = create_app(settings)
    set_asyncio_executor(ThreadPoolExecutor(settings.api_threads, thread_name_prefix="handler"))
    uvicorn.run(app, **uvicorn_options(settings))
    return 0


def uvicorn_options(settings: Settings) -> dict[str, Any]:
    """How the API's uvicorn serves. Forwarded headers are believed only from the proxies
    ``KONTOR_FORWARDED_ALLOW_IPS`` names: uvicorn's own default trusts them from loopback
    (and ``FORWARDED_ALLOW_IPS``), which let any local client pick its address."""
    proxies = settings.trusted_proxies
    return {
        "host": settings.http_host,
        "port": settings.http_port,
        "log_config": None,
        "access_log": False,
        "lifespan": "on",
        "proxy_headers": bool(proxies),
        "forwarded_allow_ips": proxies,
    }


def cmd_worker(args: argparse.Namespace) -> int:
    from kontor.processes import WORKERS, worker_main
    from workers.heartbeat import Heartbeat

    if args.name not in WORKERS:
        print(f"kontor worker: unknown worker {args.name!r}; one of: {', '.join(WORKERS)}")
        return 2
    settings = _settings()
    configure_logging(settings.log_level, json=settings.log_json, process=f"worker-{args.name}")
    lead_session_group()
    run = worker_main(args.name)
    settle()  # the imported modules live as long as the process (adapters/gcpolicy.py)
    # Its row in worker_processes: `kontor up` and /ready learn from it when it is ready.
    heartbeat = (
        None if settings.database_url is None else Heartbeat(settings.database_url, args.name)
    )
    if heartbeat is not None:
        heartbeat.start()
    try:
        return run(settings)
    finally:
        if heartbeat is not None:
            heartbeat.stop()


def cmd_projections(args: argparse.Namespace) -> int:
    return projections_cli.run(args, _settings())


def cmd_settings(args: argparse.Namespace) -> int:
    if args.update_readme:
        from pathlib import Path

        path = Path(args.update_readme)
        text = path.read_text()
        start, end = "<!-- settings:start -->\n", "<!-- settings:end -->"
        head, _, rest = text.partition(start)
        _, _, tail = rest.partition(end)
        path.write_text(head + start + settings_table() + "\n" + end + tail)
        return 0
    print(settings_table())
    return 0


def cmd_bench(args: argparse.Namespace) -> int:
    """Run ``python -m benchmarks NAME ARGS`` in this process's place: the benchmarks drive the
    whole platform from above the composition root, so they are a program of their own."""
    _settings()  # refuse bad settings here, with the CLI's message
    argv = [sys.executable, "-m", "benchmarks", *args.args]
    os.execv(sys.executable, argv)  # noqa: S606 - our own interpreter and module


def cmd_smsc_sim(args: argparse.Namespace) -> int:
    from kontor.smsc_sim import main as run_simulator

    lead_session_group()
    return run_simulator(list(args.args), _settings())


def cmd_smtp_sink(args: argparse.Namespace) -> int:
    return mail_cli.run_sink(args, _settings())


def cmd_mail(args: argparse.Namespace) -> int:
    return mail_cli.run_list(args, _settings())


def cmd_staff(args: argparse.Namespace) -> int:
    return staff_cli.run(args, _settings())


def cmd_keys(args: argparse.Namespace) -> int:
    return keys_cli.run(args, _settings())


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="kontor", description="Kontor bulk-SMS platform")
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("up", help="start the whole platform (embedded servers unless configured)")
    sub.add_parser("api", help="serve the HTTP API (started by `kontor up`)")
    settings = sub.add_parser("settings", help="print every KONTOR_* variable and its meaning")
    settings.add_argument("--update-readme", metavar="FILE", help="rewrite FILE's settings table")
    worker = sub.add_parser("worker", help="run one worker (started by `kontor up`)")
    worker.add_argument("name", help="worker name")
    bench = sub.add_parser(
        "bench",
        help="run a benchmark and print JSON (`kontor bench --help` lists them)",
        add_help=False,  # --help goes to the benchmarks, which list themselves
    )
    bench.add_argument("args", nargs=argparse.REMAINDER, help="NAME and the benchmark's arguments")
    # No prefix chars of its own: every option, -h too, goes to the simulator's parser.
    sim = sub.add_parser(
        "smsc-sim", help="run the SMSC simulator", prefix_chars="\0", add_help=False
    )
    sim.add_argument("args", nargs=argparse.REMAINDER, help="the simulator's own options")
    preview_cli.add_parser(sub)
    projections_cli.add_parser(sub)
    mail_cli.add_parsers(sub)
    staff_cli.add_parser(sub)
    keys_cli.add_parser(sub)
    return parser


COMMANDS = {
    "up": cmd_up,
    "api": cmd_api,
    "worker": cmd_worker,
    "settings": cmd_settings,
    "bench": cmd_bench,
    "smsc-sim": cmd_smsc_sim,
    "preview": preview_cli.run,
    "projections": cmd_projections,
    "smtp-sink": cmd_smtp_sink,
    "mail": cmd_mail,
    "staff": cmd_staff,
    "keys": cmd_keys,
}


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv[:1] == ["bench"]:  # everything after it is the benchmarks' own (--help included)
        return cmd_bench(argparse.Namespace(command="bench", args=argv[1:]))
    args = build_parser().parse_args(argv)
    return COMMANDS[args.command](args)


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
