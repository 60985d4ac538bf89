"""``kontor bench preview``: render, segment and price personalised recipients on one core.

The numbers are already normalised to E.164 (as they are after a list import), so the figure
measures the engine a campaign send runs per recipient: number classification, rendering,
encoding and part count, destination rules and graduated pricing. Prints one JSON object.
"""

from __future__ import annotations

import argparse
import json
import random
import time
from datetime import UTC, datetime

from adapters.pricelist import load_preview_rules
from benchmarks.support import german_mobile
from domain.pricing.preview import Recipient, preview_messages
from domain.tariff import DEFAULT_TARIFF, Tariff
from settings import Settings

TEMPLATE = (
    "Hallo {anrede|} {nachname|Kundin, lieber Kunde}, Ihr Termin am {datum} um {uhrzeit} Uhr "
    "bei {firma|uns} ist bestätigt. Absagen bitte bis 24 Std. vorher. Antworten Sie STOP, um "
    "keine Erinnerungen mehr zu erhalten."
)
SURNAMES = (
    "Müller",
    "Schmidt",
    "Schneider",
    "Fischer",
    "Weiß",
    "Öztürk",
    "Nowak",
    "Łukasiewicz",
    "Jäger",
    "Bergmann-Schönfeld",
    "",
)
SALUTATIONS = ("Frau", "Herr", "")


def make_recipients(count: int, seed: int) -> list[Recipient]:
    """Personalised recipients with valid German mobile numbers in E.164 form."""
    rng = random.Random(seed)
    recipients = []
    for _ in range(count):
        prefix, rest = german_mobile(rng)
        number = f"+49{prefix}{rest}"
        fields = {
            "Anrede": rng.choice(SALUTATIONS),
            "Nachname": rng.choice(SURNAMES),
            "Datum": f"{rng.randint(1, 28)}.{rng.randint(1, 12)}.",
            "Uhrzeit": f"{rng.randint(8, 18)}:{rng.choice(('00', '15', '30', '45'))}",
        }
        recipients.append(Recipient(number, fields))
    return recipients


def main(argv: list[str], settings: Settings) -> int:
    parser = argparse.ArgumentParser(prog="kontor bench preview", description=__doc__)
    parser.add_argument("--recipients", type=int, default=100_000)
    parser.add_argument("--tariff", type=Tariff, default=DEFAULT_TARIFF)
    parser.add_argument("--month-volume", type=int, default=9_000, help="parts sent this month")
    parser.add_argument("--seed", type=int, default=4)
    parser.add_argument("--json", action="store_true", help="JSON output (the only format)")
    args = parser.parse_args(argv)
    del settings  # no database or server involved

    rules = load_preview_rules()
    recipients = make_recipients(args.recipients, args.seed)
    now = datetime.now(UTC)
    started, cpu_started = time.perf_counter(), time.process_time()
    preview = preview_messages(
        TEMPLATE,
        recipients,
        rules=rules,
        tariff=args.tariff,
        month_volume=args.month_volume,
        now=now,
        sender="Kontor",
    )
    seconds = time.perf_counter() - started
    cpu_seconds = time.process_time() - cpu_started
    encodings: dict[str, int] = {}
    for row in preview.recipients:
        key = str(row.encoding)
        encodings[key] = encodings.get(key, 0) + 1
    result = {
        "benchmark": "preview",
        "recipients": len(preview.recipients),
        "seconds": round(seconds, 4),
        "recipients_per_s": round(len(preview.recipients) / seconds),
        "cpu_seconds": round(cpu_seconds, 4),
        "recipients_per_cpu_s": round(len(preview.recipients) / cpu_seconds),
        "recipients_ok": preview.recipients_ok,
        "recipients_failed": preview.recipients_failed,
        "segments": preview.totals.parts,
        "encodings": encodings,
        "total_price_net": preview.totals.net,
        "price_list_version": preview.price_list_version,
        "tariff": str(args.tariff),
    }
    print(json.dumps(result))
    return 0
