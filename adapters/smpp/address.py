"""TON/NPI for the addresses of a submit_sm.

Senders are free per SMS: an alphanumeric sender ID ("Kontor", at most 11 characters) goes as
TON 5 / NPI 0; a number in international form ("+49171...", "0049171...", or more than 8 digits,
since the platform keeps numbers in E.164) as TON 1 / NPI 1 without prefix; a national number
("0171...") as TON 2 / NPI 1; a short code (up to 8 digits) as TON 0 / NPI 1, leaving its
reading to the carrier. Recipients are E.164 and always go as TON 1 / NPI 1 without the '+'.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

from adapters.smpp.constants import Npi, Ton
from adapters.smpp.errors import PduEncodeError


@dataclass(frozen=True, slots=True)
class Address:
    ton: int
    npi: int
    addr: str


@functools.lru_cache(maxsize=1024)
def source_address(sender: str) -> Address:
    sender = sender.strip()
    if sender.startswith("+") and sender[1:].isdigit():
        return Address(Ton.INTERNATIONAL, Npi.ISDN, sender[1:])
    if sender.startswith("00") and sender.isdigit():
        return Address(Ton.INTERNATIONAL, Npi.ISDN, sender[2:])
    if sender.isdigit():
        if sender.startswith("0"):
            return Address(Ton.NATIONAL, Npi.ISDN, sender)
        if len(sender) <= 8:
            return Address(Ton.UNKNOWN, Npi.ISDN, sender)
        return Address(Ton.INTERNATIONAL, Npi.ISDN, sender)
    if not sender or len(sender) > 11:
        raise PduEncodeError("an alphanumeric sender ID has 1 to 11 characters")
    return Address(Ton.ALPHANUMERIC, Npi.UNKNOWN, sender)


def destination_address(e164: str) -> Address:
    digits = e164.strip().removeprefix("+")
    if not digits.isdigit() or len(digits) > 15:
        raise PduEncodeError("a destination is an E.164 number of at most 15 digits")
    return Address(Ton.INTERNATIONAL, Npi.ISDN, digits)
