"""``kontor bench NAME``: each benchmark is a module here with ``main(argv, settings) -> int``.

Benchmarks print one JSON object to stdout. They are not tests: targets are checked by reading
their figures, never by a timed assertion.
"""

from __future__ import annotations

BENCHMARKS: tuple[str, ...] = (
    "smpp",
    "preview",
    "ledger",
    "import",
    "pipeline",
    "singles",
    "signin",
    "pages",
    "chaos",
    "replies",
)
"""Names; a name that is a Python keyword lives in a module with a trailing underscore."""
