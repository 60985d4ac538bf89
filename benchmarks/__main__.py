"""``python -m benchmarks NAME [ARGS]`` (what ``kontor bench NAME`` runs): one benchmark, its
JSON on stdout.

The benchmarks sit above the composition root (they drive the whole platform through
``kontor.stack``), so ``kontor bench`` starts this module as a process of its own instead of
importing it; this is then the entry point that reads the ``KONTOR_*`` settings.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Sequence

from settings import Settings, SettingsError, load_settings

Main = Callable[[list[str], Settings], int]


def benchmark(name: str) -> Main | None:  # noqa: PLR0911 - a return per benchmark
    """The benchmark's ``main`` (each module imported only when it is the one asked for)."""
    if name == "smpp":
        from benchmarks import smpp

        return smpp.main
    if name == "preview":
        from benchmarks import preview

        return preview.main
    if name == "ledger":
        from benchmarks import ledger

        return ledger.main
    if name == "import":
        from benchmarks import import_

        return import_.main
    if name == "pipeline":
        from benchmarks import pipeline

        return pipeline.main
    if name == "singles":
        from benchmarks import singles

        return singles.main
    if name == "signin":
        from benchmarks import signin

        return signin.main
    if name == "pages":
        from benchmarks import pages

        return pages.main
    if name == "chaos":
        from benchmarks import chaos

        return chaos.main
    if name == "replies":
        from benchmarks import replies

        return replies.main
    return None


def main(argv: Sequence[str]) -> int:
    from benchmarks import BENCHMARKS

    if not argv or argv[0] in ("-h", "--help"):
        print(f"usage: kontor bench NAME [ARGS]; NAME is one of: {', '.join(BENCHMARKS)}")
        return 0 if argv else 2
    run = benchmark(argv[0])
    if run is None:
        print(f"kontor bench: unknown benchmark {argv[0]!r}; one of: {', '.join(BENCHMARKS)}")
        return 2
    try:
        settings = load_settings(os.environ)
    except SettingsError as exc:
        print(f"kontor bench: {exc}", file=sys.stderr)
        return 2
    return run(list(argv[1:]), settings)


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
