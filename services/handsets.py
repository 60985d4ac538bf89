"""The handsets carriers name on the inbound side (a reply's sender, an unmatched receipt's
recipient), as personal data: the number in E.164 where it parses (the carrier's spelling
otherwise), the platform-wide lookup hash support searches by, and that person's own data key,
so erasing the person shreds their replies and nothing else.

A reply's id derives from its body, sender and arrival time: the same deliver_sm offered again
is the same reply."""

from __future__ import annotations

import hashlib
from datetime import datetime
from uuid import uuid5

from adapters.crypto.inbound_keys import INBOUND_NAMESPACE, PLATFORM_LOOKUP, reply_key_id
from adapters.smpp.mo import MoContent, decode_mo
from adapters.smpp.pdu import DeliverSm
from adapters.smpp.receipt import message_bytes
from domain.messaging.records import Handset, Reply
from domain.personal import PersonalData
from domain.phone.exceptions import PhoneError
from domain.phone.parser import PhoneNumberParser
from services.ports import Keys

TAIL_DIGITS = 9
"""Digits of a number that identify a handset whatever the format a carrier writes it in
(+49151..., 0049151..., 0151...)."""


def handset_tail(keys: Keys, number: str) -> str:
    """A handset's platform-wide lookup hash by its last ``TAIL_DIGITS`` digits: what claims
    and the carrier-id index keep to tell whether a receipt comes from the handset a message
    went to, without keeping the number."""
    digits = "".join(ch for ch in number if ch.isdigit())
    return keys.lookup_hash(PLATFORM_LOOKUP, "tail:" + digits[-TAIL_DIGITS:])


def delivered_identity(pdu: DeliverSm, at: datetime) -> str:
    """What names a deliver_sm for good: its user data, its sender and when it arrived (the
    same PDU offered again after a crash has the same)."""
    body = message_bytes(pdu)
    return hashlib.sha256(body + pdu.source_addr.encode() + at.isoformat().encode()).hexdigest()


class Handsets:
    def __init__(self, keys: Keys) -> None:
        self.keys = keys
        self.numbers = PhoneNumberParser()

    def named(self, address: str) -> Handset:
        """The handset behind a carrier's source address."""
        try:
            number = self.numbers.parse("+" + address.lstrip("+")).e164
        except PhoneError:
            number = address
        number_hash = self.keys.lookup_hash(PLATFORM_LOOKUP, number)
        return Handset(number, number_hash, reply_key_id(number_hash))

    def reply(self, route: str, pdu: DeliverSm, content: MoContent, at: datetime) -> Reply:
        """A deliver_sm that is no receipt and no part of a longer message, as the raw reply of
        its sender (its key is made when the reply is recorded)."""
        handset = self.named(pdu.source_addr)
        return Reply(
            reply_id=uuid5(INBOUND_NAMESPACE, delivered_identity(pdu, at)),
            route=route,
            sender_hash=handset.number_hash,
            sender=PersonalData(handset.key_id, handset.number),
            recipient=pdu.destination_addr,
            text=PersonalData(handset.key_id, decode_mo(content.data_coding, content.body)),
            received_at=at,
        )
