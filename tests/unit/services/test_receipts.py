"""The DLR and MO ingest's rules (services.receipts, services.status_queries) over in-memory
fakes: matching through the carrier-id index, parking, giving up, replies, query_sm answers."""

from __future__ import annotations

import os
from datetime import UTC, datetime
from uuid import uuid4, uuid5

import pytest

from adapters.crypto.inbound_keys import (
    INBOUND_NAMESPACE,
    PLATFORM_LOOKUP,
    inbound_key_id,
    reply_key_id,
)
from adapters.crypto.keyring import Keyring, MemoryKeyStore
from adapters.jetstream.payloads import InboundPdu
from adapters.smpp.codec import encode
from adapters.smpp.outcomes import QueryResult
from adapters.smpp.pdu import DeliverSm
from adapters.smpp.receipt import DeliveryState
from domain.messaging.claims import ClaimTicket, InDoubt
from services.acks import ACK, Nak
from services.handsets import handset_tail
from services.receipts import (
    MAX_PARKED_DELIVERIES,
    GiveUp,
    IndexedPart,
    Offered,
    ParkAlone,
    Receipts,
    park_delay,
)
from services.reply_parts import Reassembly
from services.status_queries import StatusQueries
from tests.fakes import FakeClock
from tests.fakes.carrier import FakeCarrier, FakeReportRecorder, status_query
from tests.fakes.receipts import (
    FakeCarrierIds,
    FakeInDoubt,
    FakeReceiptRecorder,
    FakeReplyParts,
)

CARRIER = "kontor@smsc:2775"
HANDSET = "4915112345678"
AT = 1_780_000_000.0


def receipt_text(carrier_id: str, stat: str = "DELIVRD", err: str = "000") -> bytes:
    return (
        f"id:{carrier_id} sub:001 dlvrd:001 submit date:2611251335 done date:2611251336"
        f" stat:{stat} err:{err} text:Ihr Code"
    ).encode("latin-1")


class World:
    def __init__(self) -> None:
        self.store = MemoryKeyStore()
        self.keys = Keyring(os.urandom(32), self.store)
        self.index = FakeCarrierIds()
        self.recorder = FakeReceiptRecorder()
        self.parts = FakeReplyParts()
        self.service = Receipts(
            index=self.index, recorder=self.recorder, keys=self.keys,
            reassembly=Reassembly(self.parts),
        )  # fmt: skip
        self.doubts = FakeInDoubt()
        self.sequence = 0

    def sent(
        self, carrier_id: str, part: int = 1, carrier: str = CARRIER, handset: str = HANDSET
    ) -> IndexedPart:
        """A part whose acceptance (under ``carrier_id``, to ``handset``) was recorded."""
        account_id = uuid4()
        tail = handset_tail(self.keys, handset)
        indexed = (uuid4(), uuid4(), account_id, part, tail)
        self.index.add(carrier, carrier_id, indexed)
        return indexed

    def pdu(
        self, short_message: bytes, *, esm_class: int = 0x04, route: str = "sim-1"
    ) -> InboundPdu:
        self.keys.create_key(inbound_key_id(route))
        pdu = DeliverSm(
            esm_class=esm_class,
            source_addr=HANDSET,
            destination_addr="Kontor",
            short_message=short_message,
        )
        sealed = self.keys.seal(inbound_key_id(route), encode(pdu, 7))
        return InboundPdu(route=route, carrier=CARRIER, received_at=AT, pdu=sealed)

    def receipt(self, carrier_id: str, **kwargs: str) -> InboundPdu:
        return self.pdu(receipt_text(carrier_id, **kwargs))

    def reply(self, text: str, route: str = "sim-1") -> InboundPdu:
        return self.pdu(text.encode("latin-1"), esm_class=0, route=route)

    def offered(
        self, *items: InboundPdu, deliveries: int = 1, stored: str | None = None
    ) -> Offered:
        self.sequence += 1
        return Offered(items, deliveries, stored or str(self.sequence))


# -- matching ----------------------------------------------------------------------------------


def test_a_receipt_becomes_the_delivery_report_of_the_part_its_carrier_id_names() -> None:
    world = World()
    message_id, send_id, account_id, _, _ = world.sent("77", part=2)
    answers = world.service.process([world.offered(world.receipt("77", stat="UNDELIV", err="034"))])
    assert answers == [ACK]
    (route, [report]), *_ = world.recorder.deliveries
    assert route == CARRIER
    assert (report.message_id, report.send_id, report.account_id, report.part) == (
        message_id,
        send_id,
        account_id,
        2,
    )
    assert (report.state, report.status_text, report.error_code, report.final) == (
        "undeliverable",
        "UNDELIV",
        "034",
        True,
    )
    assert (report.carrier_id, report.source) == ("77", "deliver_sm")
    assert report.received_at == datetime.fromtimestamp(AT, UTC)


@pytest.mark.parametrize("spelling", ["1A2B3C", "1a2b3c", "0001715004"])
def test_a_receipt_spelling_the_id_in_hex_or_zero_padded_matches_its_decimal_submit_id(
    spelling: str,
) -> None:
    world = World()
    sent = world.sent("1715004")  # 0x1A2B3C
    world.service.process([world.offered(world.receipt(spelling))])
    assert [r.message_id for r in world.recorder.reports] == [sent[0]]


def test_receipts_match_by_carrier_account_so_another_accounts_id_is_no_match() -> None:
    world = World()
    world.sent("77", carrier="other@smsc:2775")
    assert world.service.process([world.offered(world.receipt("77"))]) == [Nak(1.0)]
    assert world.recorder.reports == []


def test_a_receipt_from_another_handset_than_its_ids_message_is_no_match() -> None:
    world = World()
    world.sent("77", handset="4917099999999")  # the id's latest submit went elsewhere
    assert world.service.process([world.offered(world.receipt("77"))]) == [Nak(1.0)]
    assert world.recorder.reports == []


@pytest.mark.parametrize("spelling", ["+4915112345678", "004915112345678", "015112345678"])
def test_a_handset_matches_whatever_the_format_the_carrier_writes_its_number_in(
    spelling: str,
) -> None:
    world = World()
    sent = world.sent("77", handset=spelling)  # the receipt comes from 4915112345678
    world.service.process([world.offered(world.receipt("77"))])
    assert [r.message_id for r in world.recorder.reports] == [sent[0]]


def test_an_index_row_written_before_handsets_were_kept_matches_as_before() -> None:
    world = World()
    message_id, send_id, account_id, part, _ = world.sent("77")
    world.index.add(CARRIER, "77", (message_id, send_id, account_id, part, ""))
    world.service.process([world.offered(world.receipt("77"))])
    assert [r.message_id for r in world.recorder.reports] == [message_id]


def test_every_receipt_of_a_fetch_is_looked_up_in_one_query() -> None:
    world = World()
    for n in range(5):
        world.sent(str(100 + n))
    world.service.process([world.offered(world.receipt(str(100 + n))) for n in range(5)])
    assert len(world.index.lookups) == 1
    assert len(world.recorder.reports) == 5


def test_an_unreadable_receipt_or_pdu_is_dropped_and_its_message_acknowledged() -> None:
    world = World()
    no_state = world.pdu(b"id:77 this is not a receipt", esm_class=0x04)
    foreign = InboundPdu(route="sim-1", carrier=CARRIER, received_at=AT, pdu=os.urandom(64))
    assert world.service.process([world.offered(no_state, foreign)]) == [ACK]
    assert (world.recorder.reports, world.recorder.replies) == ([], [])


# -- parking and giving up -----------------------------------------------------------------------


def test_a_lone_early_receipt_is_offered_again_later_and_later() -> None:
    world = World()
    answers = [
        world.service.process([world.offered(world.receipt("77"), deliveries=n)])[0]
        for n in (1, 2, 3, 6, 7, MAX_PARKED_DELIVERIES - 1)
    ]
    assert answers == [Nak(1.0), Nak(2.0), Nak(4.0), Nak(32.0), Nak(60.0), Nak(60.0)]
    assert world.recorder.unmatched == {}
    waited = sum(park_delay(n) for n in range(1, MAX_PARKED_DELIVERIES))
    assert 25 * 60 < waited < 40 * 60  # about half an hour for the submit result to come


def test_an_early_receipt_matches_once_its_submit_result_is_recorded() -> None:
    world = World()
    early = world.receipt("77")
    assert world.service.process([world.offered(early, stored="9")]) == [Nak(1.0)]
    sent = world.sent("77")
    assert world.service.process([world.offered(early, deliveries=2, stored="9")]) == [ACK]
    assert [r.message_id for r in world.recorder.reports] == [sent[0]]


def test_the_early_receipts_of_a_batch_are_parked_alone_and_the_batch_acknowledged() -> None:
    world = World()
    world.sent("1")
    early_a, matched, early_b = world.receipt("2"), world.receipt("1"), world.receipt("3")
    (answer,) = world.service.process([world.offered(early_a, matched, early_b, stored="41")])
    assert answer == ParkAlone((("parked:41:0", early_a), ("parked:41:2", early_b)))
    assert len(world.recorder.reports) == 1  # the matched one is recorded, not parked
    (pair,) = world.service.process([world.offered(matched, early_b, stored="43")])
    assert pair == ParkAlone((("parked:43:1", early_b),))


def test_a_receipt_offered_for_the_last_time_is_kept_unmatched_and_given_up() -> None:
    world = World()
    early = world.receipt("0A1B2C3D", stat="UNDELIV", err="034")
    offered = world.offered(early, deliveries=MAX_PARKED_DELIVERIES, stored="42")
    (answer,) = world.service.process([offered])
    assert isinstance(answer, GiveUp)
    (batch_id, [kept]), *_ = world.recorder.unmatched.items()
    assert batch_id == uuid5(INBOUND_NAMESPACE, "unmatched:42")
    assert kept.receipt_id == uuid5(INBOUND_NAMESPACE, "unmatched:42:0")
    assert (kept.carrier, kept.carrier_id, kept.state, kept.error_code, kept.final) == (
        CARRIER,
        "0A1B2C3D",
        "undeliverable",
        "034",
        True,
    )
    assert kept.deliveries == MAX_PARKED_DELIVERIES
    # The handset under the platform-wide hash, its number sealed under that person's key.
    assert kept.number_hash == world.keys.lookup_hash(PLATFORM_LOOKUP, "+" + HANDSET)
    assert kept.number.value == "+" + HANDSET
    assert kept.number.key_id == reply_key_id(kept.number_hash)
    assert world.store.load(kept.number.key_id) is not None


def test_a_receipt_given_up_twice_is_kept_once() -> None:
    world = World()
    early = world.receipt("0A1B2C3D")
    for deliveries in (MAX_PARKED_DELIVERIES, MAX_PARKED_DELIVERIES + 1):
        offered = world.offered(early, deliveries=deliveries, stored="42")
        assert isinstance(world.service.process([offered])[0], GiveUp)
    assert len(world.recorder.unmatched) == 1


# -- replies -----------------------------------------------------------------------------------


def test_a_reply_is_recorded_per_bind_under_its_senders_own_key() -> None:
    world = World()
    assert world.service.process([world.offered(world.reply("STOP", route="sim-2"))]) == [ACK]
    ((route, [reply]),) = world.recorder.replies
    assert route == "sim-2"
    assert (reply.sender.value, reply.text.value, reply.recipient) == (
        "+" + HANDSET,
        "STOP",
        "Kontor",
    )
    assert reply.sender_hash == world.keys.lookup_hash(PLATFORM_LOOKUP, "+" + HANDSET)
    assert reply.sender.key_id == reply.text.key_id == reply_key_id(reply.sender_hash)
    assert world.store.load(reply.sender.key_id) is not None
    assert world.recorder.reports == []


def test_a_reply_offered_twice_is_the_same_reply() -> None:
    world = World()
    reply = world.reply("Danke")
    world.service.process([world.offered(reply)])
    world.service.process([world.offered(reply, deliveries=2)])
    first, second = (batch[0] for _, batch in world.recorder.replies)
    assert first.reply_id == second.reply_id


# -- query_sm ------------------------------------------------------------------------------------


async def test_an_answered_query_is_recorded_as_a_query_sm_report_an_unanswered_one_not() -> None:
    carrier, recorder, clock = FakeCarrier(), FakeReportRecorder(), FakeClock()
    done = datetime(2026, 3, 2, 8, 59, tzinfo=UTC)
    carrier.query_answers["77"] = QueryResult("77", DeliveryState.DELIVERED, 2, 0, done)
    queries = StatusQueries(route="sim-1", carrier=carrier, recorder=recorder, clock=clock)
    answered, unknown = status_query(uuid4(), "77"), status_query(uuid4(), "78")
    await queries.answer([answered, unknown])
    ((route, [report]),) = recorder.recorded
    assert route == "sim-1"
    assert (report.message_id, report.carrier_id, report.source) == (
        answered.message_id,
        "77",
        "query_sm",
    )
    assert (report.state, report.status_text, report.error_code, report.final) == (
        "delivered",
        "query_sm message_state=2",
        "0",
        True,
    )
    assert (report.done_at, report.received_at) == (done, clock())


# -- attempts whose answers were lost, settled by their receipts ----------------------------------


def in_doubt(world: World, handset: str = HANDSET, parts: int = 1, attempt: int = 1) -> InDoubt:
    ticket = ClaimTicket(uuid4(), attempt, handset_tail(world.keys, handset), uuid4(), uuid4(),
                         3, parts, 790)  # fmt: skip
    doubt = InDoubt(ticket, route="sim-1", carrier=CARRIER)
    world.doubts.add(doubt)
    return doubt


def recovering_world() -> World:
    world = World()
    world.doubts = FakeInDoubt()
    world.service = Receipts(
        index=world.index, recorder=world.recorder, keys=world.keys,
        reassembly=Reassembly(world.parts), in_doubt=world.doubts,
    )  # fmt: skip
    return world


def test_a_receipt_of_an_unknown_id_settles_the_handsets_one_message_in_doubt() -> None:
    world = recovering_world()
    doubt = in_doubt(world)
    answers = world.service.process([world.offered(world.receipt("9001", stat="DELIVRD"))])
    assert answers == [ACK]
    assert world.doubts.recovered == [(doubt, "9001")]
    (report,) = world.recorder.reports
    assert (report.message_id, report.part, report.carrier_id, report.state) == (
        doubt.ticket.message_id,
        1,
        "9001",
        "delivered",
    )
    accepted = doubt.accepted_as("9001", datetime.fromtimestamp(AT, UTC))
    assert (accepted.outcome.value, accepted.carrier_ids, accepted.attempt) == (
        "accepted",
        ("9001",),
        1,
    )


def test_a_handset_with_several_messages_in_doubt_settles_none_of_them() -> None:
    world = recovering_world()
    in_doubt(world)
    in_doubt(world)
    assert world.service.process([world.offered(world.receipt("9001"))]) == [Nak(1.0)]
    assert world.doubts.recovered == []
    assert world.recorder.reports == []


def test_a_message_in_doubt_of_several_parts_is_not_settled_by_one_receipt() -> None:
    world = recovering_world()
    in_doubt(world, parts=2)
    assert world.service.process([world.offered(world.receipt("9001"))]) == [Nak(1.0)]
    assert world.doubts.recovered == []


def test_another_handsets_receipt_settles_nothing() -> None:
    world = recovering_world()
    in_doubt(world, handset="4917011111111")
    assert world.service.process([world.offered(world.receipt("9001"))]) == [Nak(1.0)]
    assert world.doubts.recovered == []


def test_a_claim_sent_again_meanwhile_is_not_settled_and_its_receipt_waits() -> None:
    world = recovering_world()
    doubt = in_doubt(world)
    world.doubts.refuse = True  # it was sent again a moment ago
    assert world.service.process([world.offered(world.receipt("9001"))]) == [Nak(1.0)]
    assert world.doubts.doubts[(CARRIER, doubt.ticket.handset)] == [doubt]
    assert world.recorder.reports == []


def test_two_receipts_of_one_fetch_settle_a_message_once() -> None:
    world = recovering_world()
    in_doubt(world)
    first, second = world.receipt("9001"), world.receipt("9002")
    answers = world.service.process([world.offered(first), world.offered(second)])
    assert answers == [ACK, Nak(1.0)]
    assert len(world.doubts.recovered) == 1
