"""``kontor preview``: the preview endpoint's answer on the command line, without any server.

Uses the shipped price list and destination rules (or the files given), the default tariff
unless ``--tariff`` names one, and prints the same JSON document as
``POST /v1/messages/preview``. Exit status 0 when the preview was made (recipients may still
be refused: see their ``error``), 2 when the request itself is refused (template, sender,
tariff), with a JSON object carrying ``error`` and ``error_code``.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any


def add_parser(sub: Any) -> None:
    """Register ``preview`` on the ``kontor`` subcommand parser."""
    parser: argparse.ArgumentParser = sub.add_parser(
        "preview", help="preview a message: encoding, parts and price per recipient (JSON)"
    )
    parser.add_argument("--text", required=True, help="message text, may use {field|default}")
    parser.add_argument(
        "--to", action="append", required=True, metavar="NUMBER", help="recipient (repeatable)"
    )
    parser.add_argument("--sender", help="sender ID: 1-11 letters/digits or up to 16 digits")
    parser.add_argument("--tariff", help="economy, quality or high-quality (default: quality)")
    parser.add_argument("--normalize", action="store_true", help="replace smart characters")
    parser.add_argument(
        "--field",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="a field value for every recipient (repeatable)",
    )
    parser.add_argument("--month-volume", type=int, default=0, help="parts sent this month")
    parser.add_argument("--price-list", type=Path, help="price list TOML (default: shipped)")
    parser.add_argument("--destinations", type=Path, help="destination rules TOML")


def run(args: argparse.Namespace) -> int:
    from datetime import UTC, datetime

    import msgspec

    from adapters.pricelist import load_preview_rules
    from api.preview import to_response
    from domain.phone.exceptions import PhoneError
    from domain.pricing.exceptions import PricingError
    from domain.pricing.preview import Recipient, preview_messages
    from domain.tariff import DEFAULT_TARIFF, Tariff
    from domain.text.exceptions import TextError

    def refuse(message: str, code: str) -> int:
        sys.stdout.write(msgspec.json.encode({"error": message, "error_code": code}).decode())
        sys.stdout.write("\n")
        return 2

    try:
        tariff = Tariff(args.tariff) if args.tariff else DEFAULT_TARIFF
    except ValueError:
        names = ", ".join(t.value for t in Tariff)
        return refuse(f"unknown tariff {args.tariff!r}; one of: {names}", "unknown-tariff")
    fields = dict(item.partition("=")[::2] for item in args.field)
    try:
        preview = preview_messages(
            args.text,
            [Recipient(number, fields) for number in args.to],
            rules=load_preview_rules(args.price_list, args.destinations),
            tariff=tariff,
            month_volume=args.month_volume,
            now=datetime.now(UTC),
            sender=args.sender,
            normalize_text=args.normalize,
        )
    except (TextError, PhoneError, PricingError) as exc:
        return refuse(str(exc), getattr(exc, "code", "error"))
    document = msgspec.json.encode(to_response(preview, list(args.to)))
    sys.stdout.write(msgspec.json.format(document, indent=2).decode())
    sys.stdout.write("\n")
    return 0
