"""Delivery receipts (DLRs) out of a deliver_sm, from TLVs or from the text form.

The TLVs ``receipted_message_id`` and ``message_state`` win when present: they are typed and
unambiguous. Otherwise (and for what the TLVs lack: dates, the ``err`` code) the text form of
SMPP 3.4 appendix B is read::

    id:IIIIIIIIII sub:SSS dlvrd:DDD submit date:YYMMDDhhmm done date:YYMMDDhhmm stat:DDDDDDD
    err:E text:...

tolerantly, because real carriers bend it: any key order and case, missing or extra fields,
10-, 12- or 14-digit dates, ids in hex or decimal (see ``adapters.smpp.message_id``), ``text:``
swallowing the rest. ``parse_receipt`` returns a ``Receipt`` or raises ``ReceiptParseError``;
no other exception escapes it, whatever the bytes. The raw status and error code are kept as
received, because the architecture keeps a carrier's evidence with every report.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum

from adapters.smpp.constants import (
    ESM_CLASS_DELIVERY_RECEIPT,
    ESM_CLASS_INTERMEDIATE_NOTIFICATION,
    ESM_CLASS_TYPE_MASK,
    Tag,
)
from adapters.smpp.errors import SmppError
from adapters.smpp.pdu import DeliverSm
from adapters.smpp.tlv import find, read_cstring, read_int, read_network_error


class DeliveryState(StrEnum):
    ENROUTE = "enroute"
    DELIVERED = "delivered"
    EXPIRED = "expired"
    DELETED = "deleted"
    UNDELIVERABLE = "undeliverable"
    ACCEPTED = "accepted"
    UNKNOWN = "unknown"
    REJECTED = "rejected"
    SKIPPED = "skipped"

    @property
    def final(self) -> bool:
        return self in _FINAL


_FINAL = frozenset(
    {
        DeliveryState.DELIVERED,
        DeliveryState.EXPIRED,
        DeliveryState.DELETED,
        DeliveryState.UNDELIVERABLE,
        DeliveryState.REJECTED,
        DeliveryState.SKIPPED,
    }
)

# message_state values of SMPP 3.4 section 5.2.28 (SKIPPED is SMPP 5.0's 9).
STATE_BY_NUMBER = dict(enumerate(DeliveryState, start=1))
NUMBER_BY_STATE = {state: number for number, state in STATE_BY_NUMBER.items()}

STATE_BY_TEXT = {
    "DELIVRD": DeliveryState.DELIVERED,
    "DELIVERED": DeliveryState.DELIVERED,
    "EXPIRED": DeliveryState.EXPIRED,
    "DELETED": DeliveryState.DELETED,
    "UNDELIV": DeliveryState.UNDELIVERABLE,
    "UNDELIVERABLE": DeliveryState.UNDELIVERABLE,
    "FAILED": DeliveryState.UNDELIVERABLE,
    "ACCEPTD": DeliveryState.ACCEPTED,
    "ACCEPTED": DeliveryState.ACCEPTED,
    "UNKNOWN": DeliveryState.UNKNOWN,
    "REJECTD": DeliveryState.REJECTED,
    "REJECTED": DeliveryState.REJECTED,
    "ENROUTE": DeliveryState.ENROUTE,
    "BUFFRED": DeliveryState.ENROUTE,
    "BUFFERED": DeliveryState.ENROUTE,
    "SKIPPED": DeliveryState.SKIPPED,
}
TEXT_BY_STATE = {
    DeliveryState.DELIVERED: "DELIVRD",
    DeliveryState.EXPIRED: "EXPIRED",
    DeliveryState.DELETED: "DELETED",
    DeliveryState.UNDELIVERABLE: "UNDELIV",
    DeliveryState.ACCEPTED: "ACCEPTD",
    DeliveryState.UNKNOWN: "UNKNOWN",
    DeliveryState.REJECTED: "REJECTD",
    DeliveryState.ENROUTE: "ENROUTE",
    DeliveryState.SKIPPED: "SKIPPED",
}


class ReceiptParseError(SmppError):
    """A deliver_sm that should be a receipt names no message id or no state we can read."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True, slots=True)
class Receipt:
    message_id: str
    """As the carrier wrote it; match it with ``canonical_message_id``."""
    state: DeliveryState
    status_text: str | None = None
    """The ``stat:`` word as received (odd casing kept), if the text form had one."""
    message_state: int | None = None
    """The ``message_state`` TLV as received, if present."""
    error_code: str | None = None
    """The ``err:`` field as received (often three digits)."""
    network_error: tuple[int, int] | None = None
    """``network_error_code`` TLV: (network type, error code)."""
    submit_date: datetime | None = None
    done_date: datetime | None = None
    submitted: int | None = None
    delivered: int | None = None


def is_receipt(pdu: DeliverSm) -> bool:
    """A delivery report rather than a mobile-originated message."""
    kind = pdu.esm_class & ESM_CLASS_TYPE_MASK
    if kind in (ESM_CLASS_DELIVERY_RECEIPT, ESM_CLASS_INTERMEDIATE_NOTIFICATION):
        return True
    return find(pdu.tlvs, Tag.RECEIPTED_MESSAGE_ID) is not None


def message_bytes(pdu: DeliverSm) -> bytes:
    """The user data: ``short_message``, or the ``message_payload`` TLV when that is empty."""
    if pdu.short_message:
        return pdu.short_message
    return find(pdu.tlvs, Tag.MESSAGE_PAYLOAD) or b""


_KEY = re.compile(r"(?:^|(?<=\s))(submit[ _]?date|done[ _]?date|[A-Za-z][A-Za-z_]*)[ \t]*:")


# The appendix-B layout exactly, as most SMSCs write it: one match instead of a scan, a third of
# the cost of a receipt at thousands per second. Anything else takes the tolerant path.
_STANDARD = re.compile(
    r"id:(?P<id>\S*) sub:(?P<sub>\S*) dlvrd:(?P<dlvrd>\S*) submit date:(?P<submitdate>\d*)"
    r" done date:(?P<donedate>\d*) stat:(?P<stat>\S*) err:(?P<err>\S*)(?: text:(?P<text>.*))?\Z",
    re.DOTALL,
)


def text_fields(text: str) -> dict[str, str]:
    """The ``key:value`` pairs of a text receipt, keys lower-cased without blanks."""
    standard = _STANDARD.match(text)
    if standard is not None:
        return {k: v for k, v in standard.groupdict().items() if v is not None}
    return scan_fields(text)


def scan_fields(text: str) -> dict[str, str]:
    """The tolerant reading: any order, case, spacing, extra keys; ``text:`` takes the rest."""
    fields: dict[str, str] = {}
    matches = list(_KEY.finditer(text))
    for index, match in enumerate(matches):
        key = match.group(1).lower().replace(" ", "").replace("_", "")
        if key == "text":
            fields.setdefault(key, text[match.end() :])
            break
        stop = matches[index + 1].start() if index + 1 < len(matches) else len(text)
        fields.setdefault(key, text[match.end() : stop].strip())
    return fields


def parse_date(value: str | None) -> datetime | None:
    """YYMMDDhhmm, YYMMDDhhmmss or YYYYMMDDhhmmss as UTC; ``None`` when unreadable."""
    if not value or not value.isascii() or not value.isdigit():
        return None
    if len(value) == 14:
        value = value[2:]
    elif len(value) == 10:
        value += "00"
    elif len(value) != 12:
        return None
    # int slices instead of strptime: five times faster, and receipts come by the thousand.
    try:
        return datetime(
            2000 + int(value[0:2]),
            int(value[2:4]),
            int(value[4:6]),
            int(value[6:8]),
            int(value[8:10]),
            int(value[10:12]),
            tzinfo=UTC,
        )
    except ValueError:
        return None


def _count(value: str | None) -> int | None:
    return int(value) if value and value.isascii() and value.isdigit() else None


def _decode(data: bytes, data_coding: int) -> str:
    if data_coding == 0x08 and len(data) % 2 == 0:
        try:
            return data.decode("utf-16-be")
        except UnicodeDecodeError:
            pass
    return data.decode("latin-1")


def parse_receipt(pdu: DeliverSm) -> Receipt:
    fields = text_fields(_decode(message_bytes(pdu), pdu.data_coding))
    message_id = read_cstring(pdu.tlvs, Tag.RECEIPTED_MESSAGE_ID) or fields.get("id") or None
    if not message_id:
        raise ReceiptParseError("no receipted_message_id TLV and no id: field")
    number = read_int(pdu.tlvs, Tag.MESSAGE_STATE)
    stat = fields.get("stat") or None
    state = STATE_BY_NUMBER.get(number) if number is not None else None
    if state is None and stat is not None:
        state = STATE_BY_TEXT.get(stat.upper(), DeliveryState.UNKNOWN)
    if state is None:
        if number is None:
            raise ReceiptParseError("no message_state TLV and no stat: field")
        state = DeliveryState.UNKNOWN
    return Receipt(
        message_id=message_id,
        state=state,
        status_text=stat,
        message_state=number,
        error_code=fields.get("err") or None,
        network_error=read_network_error(pdu.tlvs, Tag.NETWORK_ERROR_CODE),
        submit_date=parse_date(fields.get("submitdate")),
        done_date=parse_date(fields.get("donedate")),
        submitted=_count(fields.get("sub")),
        delivered=_count(fields.get("dlvrd")),
    )


def receipt_text(
    message_id: str,
    state: DeliveryState,
    *,
    submit_date: datetime,
    done_date: datetime,
    error_code: int = 0,
    text: str = "",
    seconds: bool = False,
) -> str:
    """The appendix-B text form, as the simulator sends it (``seconds``: 12-digit dates)."""
    fmt = "%y%m%d%H%M%S" if seconds else "%y%m%d%H%M"
    delivered = 1 if state is DeliveryState.DELIVERED else 0
    return (
        f"id:{message_id} sub:001 dlvrd:{delivered:03d} submit date:{submit_date.strftime(fmt)}"
        f" done date:{done_date.strftime(fmt)} stat:{TEXT_BY_STATE[state]} err:{error_code:03d}"
        f" text:{text[:20]}"
    )
