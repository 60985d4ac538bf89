"""One spelling of a carrier message id for both sides of the match.

Carriers disagree with themselves: the id in submit_sm_resp may be hex ("1A2B3C") while the
delivery report spells it in decimal ("1715004"), or the other way round, often zero-padded.
Each carrier's configuration says which format each side uses (Kannel's ``msg-id-type`` idea);
``canonical_message_id`` turns either side into the same key, the number in decimal without
leading zeros. Ids that are not numbers in the declared format (UUIDs, opaque strings) are kept
stripped and lower-cased, so case differences between the two sides never break a match.

When a carrier's format is not known, ``message_id_candidates`` lists every key a report id
could stand for; the DLR ingest looks each one up against keys stored with the submit side.
"""

from __future__ import annotations

from enum import StrEnum


class IdFormat(StrEnum):
    OPAQUE = "opaque"
    """Not a number to reinterpret; digit-only ids still lose leading zeros."""
    DECIMAL = "decimal"
    HEX = "hex"


_HEX_DIGITS = frozenset("0123456789abcdefABCDEF")


def canonical_message_id(raw: str, fmt: IdFormat = IdFormat.OPAQUE) -> str:
    text = raw.strip()
    if fmt is IdFormat.HEX and text and _HEX_DIGITS.issuperset(text):
        return str(int(text, 16))
    if text.isascii() and text.isdigit():
        return str(int(text, 10))
    return text.lower()


def message_id_candidates(raw: str) -> tuple[str, ...]:
    """Every canonical key ``raw`` can mean, most likely first (decimal, then hex)."""
    keys = [canonical_message_id(raw, IdFormat.DECIMAL), canonical_message_id(raw, IdFormat.HEX)]
    return tuple(dict.fromkeys(keys))
