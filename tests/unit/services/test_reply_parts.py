"""Concatenated replies (services.reply_parts through services.receipts): parts in any order,
over different binds, offered again, across a restart, and missing; and their texts in every
data coding a handset uses."""

from __future__ import annotations

import os
from datetime import UTC, datetime, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from adapters.crypto.inbound_keys import inbound_key_id
from adapters.crypto.keyring import Keyring, MemoryKeyStore
from adapters.jetstream.payloads import InboundPdu
from adapters.smpp.codec import encode
from adapters.smpp.constants import ESM_CLASS_UDHI, Tag
from adapters.smpp.pdu import DeliverSm
from adapters.smpp.tlv import int_tlv
from domain.messaging.records import Reply
from domain.text.parts import encode_parts
from services.acks import ACK
from services.receipts import Offered, Receipts
from services.reply_parts import GAP, Reassembly
from tests.fakes.receipts import FakeCarrierIds, FakeReceiptRecorder, FakeReplyParts

HANDSET = "4915112345678"
T0 = datetime(2026, 12, 6, 12, 0, tzinfo=UTC)


class World:
    def __init__(self) -> None:
        self.keys = Keyring(os.urandom(32), MemoryKeyStore())
        self.parts = FakeReplyParts()
        self.recorder = FakeReceiptRecorder()
        self.service = self.restarted()
        self.count = 0

    def restarted(self) -> Receipts:
        """A new ingest over the same stores (what a restart keeps)."""
        return Receipts(
            index=FakeCarrierIds(), recorder=self.recorder, keys=self.keys,
            reassembly=Reassembly(self.parts),
        )  # fmt: skip

    def inbound(self, pdu: DeliverSm, route: str = "sim-1", at: datetime = T0) -> InboundPdu:
        self.keys.create_key(inbound_key_id(route))
        sealed = self.keys.seal(inbound_key_id(route), encode(pdu, 7))
        return InboundPdu(
            route=route, carrier="kontor@smsc", received_at=at.timestamp(), pdu=sealed
        )

    def offer(self, *items: InboundPdu, service: Receipts | None = None) -> None:
        self.count += 1
        answers = (service or self.service).process([Offered(items, 1, str(self.count))])
        assert answers == [ACK] * 1

    @property
    def replies(self) -> list[Reply]:
        return [reply for _, batch in self.recorder.replies for reply in batch]


def udh_part(
    body: bytes, ref: int, total: int, seq: int, *, coding: int = 0, wide: bool = False,
    source: str = HANDSET,
) -> DeliverSm:  # fmt: skip
    header = (
        bytes([6, 0x08, 4]) + ref.to_bytes(2, "big") + bytes([total, seq])
        if wide
        else bytes([5, 0x00, 3, ref, total, seq])
    )
    return DeliverSm(source_addr=source, destination_addr="Kontor", esm_class=ESM_CLASS_UDHI,
                     data_coding=coding, short_message=header + body)  # fmt: skip


def sar_part(body: bytes, ref: int, total: int, seq: int, coding: int = 0) -> DeliverSm:
    tlvs = (
        int_tlv(Tag.SAR_MSG_REF_NUM, ref, 2),
        int_tlv(Tag.SAR_TOTAL_SEGMENTS, total, 1),
        int_tlv(Tag.SAR_SEGMENT_SEQNUM, seq, 1),
    )
    return DeliverSm(source_addr=HANDSET, destination_addr="Kontor", data_coding=coding,
                     short_message=body, tlvs=tlvs)  # fmt: skip


def test_parts_out_of_order_over_two_binds_become_one_reply() -> None:
    world = World()
    world.offer(world.inbound(udh_part(b" bitte", 7, 3, 3), route="sim-2"))
    world.offer(world.inbound(udh_part(b"Rufen Sie", 7, 3, 1), route="sim-1"))
    assert world.replies == []
    world.offer(
        world.inbound(udh_part(b" mich an", 7, 3, 2), route="sim-1", at=T0 + timedelta(seconds=3))
    )
    (reply,) = world.replies
    assert reply.text.value == "Rufen Sie mich an bitte"
    assert (reply.incomplete, reply.parts, reply.sender.value) == (False, 3, "+" + HANDSET)
    assert reply.received_at == T0 + timedelta(seconds=3)
    assert world.parts.closed.keys() == world.parts.parts.keys()


def test_sixteen_bit_references_and_sar_tlvs_are_read_too() -> None:
    world = World()
    world.offer(world.inbound(udh_part(b"B", 300, 2, 2, wide=True)),
                world.inbound(udh_part(b"A", 300, 2, 1, wide=True)))  # fmt: skip
    world.offer(
        world.inbound(sar_part(b"Y", 9000, 2, 2)), world.inbound(sar_part(b"X", 9000, 2, 1))
    )
    assert sorted(str(r.text.value) for r in world.replies) == ["AB", "XY"]


def test_a_part_offered_again_after_its_reply_was_recorded_starts_nothing() -> None:
    world = World()
    first, second = (
        world.inbound(udh_part(b"Ja ", 1, 2, 1)),
        world.inbound(udh_part(b"gern", 1, 2, 2)),
    )
    world.offer(first)
    world.offer(second)
    world.offer(second)  # redelivered by JetStream after the ingest crashed before its ack
    world.offer(first, second)
    assert [r.text.value for r in world.replies] == ["Ja gern"]
    assert world.service.overdue_replies(T0 + timedelta(hours=1)) == 0


def test_a_crash_between_recording_and_closing_records_the_same_reply() -> None:
    world = World()
    world.offer(world.inbound(udh_part(b"Ja ", 1, 2, 1)))
    second = world.inbound(udh_part(b"gern", 1, 2, 2))
    closing = world.parts.close
    world.parts.close = lambda *_: None  # type: ignore[method-assign]  # the crash
    world.offer(second)
    world.parts.close = closing  # type: ignore[method-assign]
    world.offer(second, service=world.restarted())
    first, again = world.replies
    assert first.reply_id == again.reply_id
    assert first.text == again.text


def test_parts_survive_a_restart() -> None:
    world = World()
    world.offer(world.inbound(udh_part(b"Hallo ", 4, 2, 1)))
    world.offer(world.inbound(udh_part(b"Welt", 4, 2, 2)), service=world.restarted())
    assert [r.text.value for r in world.replies] == ["Hallo Welt"]


def test_a_reply_missing_parts_is_recorded_incomplete_after_the_timeout() -> None:
    world = World()
    world.offer(
        world.inbound(udh_part(b"eins ", 5, 4, 1)), world.inbound(udh_part(b"drei", 5, 4, 3))
    )
    assert world.service.overdue_replies(T0 + timedelta(minutes=9)) == 0
    assert world.service.overdue_replies(T0 + timedelta(minutes=11)) == 1
    (reply,) = world.replies
    assert reply.text.value == f"eins {GAP}drei{GAP}"
    assert (reply.incomplete, reply.parts) == (True, 2)
    assert world.service.overdue_replies(T0 + timedelta(minutes=20)) == 0


def test_a_second_message_with_the_same_reference_is_a_reply_of_its_own() -> None:
    world = World()
    world.offer(world.inbound(udh_part(b"a", 9, 2, 1)), world.inbound(udh_part(b"b", 9, 2, 2)))
    later = T0 + timedelta(hours=2)
    world.offer(world.inbound(udh_part(b"c", 9, 2, 1), at=later),
                world.inbound(udh_part(b"d", 9, 2, 2), at=later))  # fmt: skip
    assert [r.text.value for r in world.replies] == ["ab", "cd"]
    assert len({r.reply_id for r in world.replies}) == 2


def test_the_same_reference_from_two_handsets_is_two_messages() -> None:
    world = World()
    world.offer(world.inbound(udh_part(b"a", 9, 2, 1)),
                world.inbound(udh_part(b"x", 9, 2, 1, source="4916099999999")))  # fmt: skip
    world.offer(world.inbound(udh_part(b"b", 9, 2, 2)))
    assert [r.text.value for r in world.replies] == ["ab"]


def test_an_escape_and_a_surrogate_pair_split_across_parts_come_out_whole() -> None:
    world = World()
    # GSM-7: "Preis 5€" with the escape septet ending part 1 and the euro's code opening part 2
    world.offer(world.inbound(udh_part(b"Preis 5\x1b", 2, 2, 1)),
                world.inbound(udh_part(b"\x65", 2, 2, 2)))  # fmt: skip
    emoji = "Danke 👍".encode("utf-16-be")
    world.offer(world.inbound(udh_part(emoji[:-2], 3, 2, 1, coding=8)),
                world.inbound(udh_part(emoji[-2:], 3, 2, 2, coding=8)))  # fmt: skip
    assert [r.text.value for r in world.replies] == ["Preis 5€", "Danke 👍"]


def test_single_replies_are_decoded_in_each_data_coding() -> None:
    world = World()
    for coding, body in ((0, b"Gr\x7e\x1e"), (3, "Grüße".encode("latin-1")),
                         (8, "Grüße 😀".encode("utf-16-be")), (1, b"Hi")):  # fmt: skip
        world.offer(world.inbound(DeliverSm(source_addr=HANDSET, destination_addr="Kontor",
                                            data_coding=coding, short_message=body)))  # fmt: skip
    assert [r.text.value for r in world.replies] == ["Grüß", "Grüße", "Grüße 😀", "Hi"]


def test_a_header_that_names_no_part_is_read_as_a_reply_of_its_own() -> None:
    world = World()
    world.offer(world.inbound(udh_part(b"Hallo", 1, 2, 3)))  # position past the total
    assert [r.text.value for r in world.replies] == ["Hallo"]


@settings(max_examples=60, deadline=None)
@given(
    st.text(alphabet=st.sampled_from("abcXYZ 019äöüß€[]{}^~|\\@£😀ж"), min_size=1, max_size=700),
    st.randoms(use_true_random=False),
)
def test_what_the_send_path_encodes_comes_back_whole_in_any_order(text: str, rnd: object) -> None:
    world = World()
    parts = encode_parts(text, 77)
    pdus = [
        world.inbound(DeliverSm(source_addr=HANDSET, destination_addr="Kontor",
                                esm_class=ESM_CLASS_UDHI if p.esm_class_udhi else 0,
                                data_coding=p.data_coding, short_message=p.payload))
        for p in parts
    ]  # fmt: skip
    rnd.shuffle(pdus)  # type: ignore[attr-defined]
    for pdu in pdus:
        world.offer(pdu)
    assert [r.text.value for r in world.replies] == [text]
