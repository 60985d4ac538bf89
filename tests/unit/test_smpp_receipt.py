"""Delivery receipts as real carriers send them: TLVs first, a forgiving text parser after."""

from __future__ import annotations

import contextlib
from datetime import UTC, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from adapters.smpp.constants import Tag
from adapters.smpp.message_id import IdFormat, canonical_message_id, message_id_candidates
from adapters.smpp.pdu import DeliverSm, Tlvs
from adapters.smpp.receipt import (
    _STANDARD,
    DeliveryState,
    ReceiptParseError,
    is_receipt,
    parse_receipt,
    receipt_text,
    scan_fields,
    text_fields,
)
from adapters.smpp.tlv import cstring_tlv, int_tlv, network_error_tlv

STANDARD = (
    "id:100000017 sub:001 dlvrd:001 submit date:2611251335 done date:2611251336"
    " stat:DELIVRD err:000 text:Hallo Welt"
)


def dlr(
    text: str = "", tlvs: Tlvs = (), *, data_coding: int = 0, raw: bytes | None = None
) -> DeliverSm:
    message = raw if raw is not None else text.encode("latin-1")
    return DeliverSm(esm_class=0x04, data_coding=data_coding, short_message=message, tlvs=tlvs)


def test_the_standard_text_form_is_read_field_by_field() -> None:
    receipt = parse_receipt(dlr(STANDARD))
    assert receipt.message_id == "100000017"
    assert receipt.state is DeliveryState.DELIVERED
    assert receipt.status_text == "DELIVRD"
    assert receipt.error_code == "000"
    assert receipt.submit_date == datetime(2026, 11, 25, 13, 35, tzinfo=UTC)
    assert receipt.done_date == datetime(2026, 11, 25, 13, 36, tzinfo=UTC)
    assert (receipt.submitted, receipt.delivered) == (1, 1)


def test_tlvs_win_over_the_text_and_the_text_fills_in_what_they_lack() -> None:
    tlvs = (
        cstring_tlv(Tag.RECEIPTED_MESSAGE_ID, "5F5E111"),
        int_tlv(Tag.MESSAGE_STATE, 5, 1),
        network_error_tlv(Tag.NETWORK_ERROR_CODE, 3, 34),
    )
    receipt = parse_receipt(dlr(STANDARD, tlvs))
    assert receipt.message_id == "5F5E111"
    assert receipt.state is DeliveryState.UNDELIVERABLE
    assert receipt.message_state == 5
    assert receipt.status_text == "DELIVRD"
    assert receipt.network_error == (3, 34)
    assert receipt.done_date == datetime(2026, 11, 25, 13, 36, tzinfo=UTC)


def test_a_receipt_of_tlvs_alone_is_enough() -> None:
    tlvs = (cstring_tlv(Tag.RECEIPTED_MESSAGE_ID, "abc-1"), int_tlv(Tag.MESSAGE_STATE, 3, 1))
    receipt = parse_receipt(dlr("", tlvs))
    assert (receipt.message_id, receipt.state, receipt.error_code) == (
        "abc-1",
        DeliveryState.EXPIRED,
        None,
    )


U = DeliveryState
TEXT_FORMS = [
    pytest.param(
        "ID:0A1B sub:1 dlvrd:0 Submit Date:2611251335 Done Date:2611251335 Stat:undeliv Err:034",
        "0A1B",
        U.UNDELIVERABLE,
        "034",
        id="odd casing",
    ),
    pytest.param("id:77 stat:EXPIRED err:001", "77", U.EXPIRED, "001", id="fields missing"),
    pytest.param(
        "id:77 imsi:262011234567890 mcc:262 stat:REJECTD err:011 text:x",
        "77",
        U.REJECTED,
        "011",
        id="extra vendor fields",
    ),
    pytest.param(
        "id:77 submit_date:2611251335 done_date:2611251335 stat:ACCEPTD err:0",
        "77",
        U.ACCEPTED,
        "0",
        id="underscored date keys",
    ),
    pytest.param(
        "id:77 stat:DELIVRD err:000 text:stat:UNDELIV id:99",
        "77",
        U.DELIVERED,
        "000",
        id="text quoting a receipt",
    ),
    pytest.param("id:77 stat:WEIRD", "77", U.UNKNOWN, None, id="unknown status word"),
    pytest.param("id:77 stat:ENROUTE err:000", "77", U.ENROUTE, "000", id="enroute"),
    pytest.param("id:77 stat:DELETED err:000", "77", U.DELETED, "000", id="deleted"),
    pytest.param("id:77 stat:UNKNOWN err:000", "77", U.UNKNOWN, "000", id="unknown"),
    pytest.param("id:77 err:000 stat:DELIVRD text:", "77", U.DELIVERED, "000", id="reordered"),
]


@pytest.mark.parametrize(("text", "message_id", "state", "err"), TEXT_FORMS)
def test_text_forms_carriers_really_send_are_read(
    text: str, message_id: str, state: DeliveryState, err: str | None
) -> None:
    receipt = parse_receipt(dlr(text))
    assert (receipt.message_id, receipt.state, receipt.error_code) == (message_id, state, err)


@pytest.mark.parametrize(
    ("date", "expected"),
    [
        ("2611251335", datetime(2026, 11, 25, 13, 35, tzinfo=UTC)),
        ("261125133507", datetime(2026, 11, 25, 13, 35, 7, tzinfo=UTC)),
        ("20261125133507", datetime(2026, 11, 25, 13, 35, 7, tzinfo=UTC)),
        ("2613251335", None),
        ("26112513", None),
        ("2611251335x", None),
    ],
)
def test_submit_dates_of_ten_twelve_or_fourteen_digits_are_read_and_others_dropped(
    date: str, expected: datetime | None
) -> None:
    assert parse_receipt(dlr(f"id:1 submit date:{date} stat:DELIVRD")).submit_date == expected


@pytest.mark.parametrize(("number", "state"), [(n, s) for n, s in enumerate(DeliveryState, 1)])
def test_every_message_state_number_maps_to_its_state(number: int, state: DeliveryState) -> None:
    tlvs = (cstring_tlv(Tag.RECEIPTED_MESSAGE_ID, "1"), int_tlv(Tag.MESSAGE_STATE, number, 1))
    assert parse_receipt(dlr("", tlvs)).state is state


def test_an_unheard_of_message_state_is_unknown_but_kept() -> None:
    tlvs = (cstring_tlv(Tag.RECEIPTED_MESSAGE_ID, "1"), int_tlv(Tag.MESSAGE_STATE, 11, 1))
    receipt = parse_receipt(dlr("", tlvs))
    assert (receipt.state, receipt.message_state) == (DeliveryState.UNKNOWN, 11)


def test_a_receipt_in_message_payload_or_in_ucs2_is_read() -> None:
    in_payload = DeliverSm(esm_class=4, tlvs=((Tag.MESSAGE_PAYLOAD, STANDARD.encode()),))
    ucs2 = dlr(raw=STANDARD.encode("utf-16-be"), data_coding=8)
    assert parse_receipt(in_payload).state is DeliveryState.DELIVERED
    assert parse_receipt(ucs2).message_id == "100000017"


@pytest.mark.parametrize(
    "text", ["", "hello there", "stat:DELIVRD err:000", "id:123 sub:001", "id: stat:DELIVRD"]
)
def test_a_receipt_without_id_or_state_is_a_typed_parse_error(text: str) -> None:
    with pytest.raises(ReceiptParseError):
        parse_receipt(dlr(text))


@given(
    st.binary(max_size=200),
    st.lists(st.tuples(st.sampled_from(list(Tag)), st.binary(max_size=8)), max_size=4),
)
def test_garbage_gives_a_receipt_or_a_parse_error_and_nothing_else(junk: bytes, tlvs: Tlvs) -> None:
    with contextlib.suppress(ReceiptParseError):
        parse_receipt(
            DeliverSm(
                esm_class=4,
                data_coding=junk[:1][0] if junk else 0,
                short_message=junk,
                tlvs=tuple(tlvs),
            )
        )


def test_receipts_and_replies_are_told_apart() -> None:
    assert is_receipt(DeliverSm(esm_class=0x04))
    assert is_receipt(DeliverSm(esm_class=0x20))
    assert is_receipt(DeliverSm(tlvs=(cstring_tlv(Tag.RECEIPTED_MESSAGE_ID, "1"),)))
    assert not is_receipt(DeliverSm(esm_class=0x00, short_message=b"STOP"))
    assert not is_receipt(DeliverSm(esm_class=0x40, short_message=b"\x05\x00\x03\x01\x02\x01Ja"))


def test_the_simulator_text_form_reads_back_as_what_was_written() -> None:
    moment = datetime(2026, 11, 25, 13, 35, 7, tzinfo=UTC)
    text = receipt_text(
        "5F5E111",
        DeliveryState.UNDELIVERABLE,
        submit_date=moment,
        done_date=moment,
        error_code=34,
        seconds=True,
    )
    receipt = parse_receipt(dlr(text))
    assert (receipt.message_id, receipt.state, receipt.error_code, receipt.done_date) == (
        "5F5E111",
        DeliveryState.UNDELIVERABLE,
        "034",
        moment,
    )


@pytest.mark.parametrize(
    ("submit_side", "submit_format", "report_side", "report_format"),
    [
        ("5F5E111", IdFormat.HEX, "100000017", IdFormat.DECIMAL),
        ("100000017", IdFormat.DECIMAL, "5f5e111", IdFormat.HEX),
        ("00100000017", IdFormat.DECIMAL, "100000017", IdFormat.OPAQUE),
        ("A1B2-C3", IdFormat.OPAQUE, " a1b2-c3 ", IdFormat.OPAQUE),
    ],
)
def test_both_sides_of_a_carrier_id_normalise_to_one_key(
    submit_side: str, submit_format: IdFormat, report_side: str, report_format: IdFormat
) -> None:
    assert canonical_message_id(submit_side, submit_format) == canonical_message_id(
        report_side, report_format
    )


def test_an_id_of_unknown_format_offers_both_readings() -> None:
    assert message_id_candidates("100000017") == ("100000017", "4294967319")
    assert canonical_message_id("5F5E111", IdFormat.HEX) in message_id_candidates("5F5E111")


word = st.text(
    st.characters(min_codepoint=33, max_codepoint=126, exclude_characters=":"), max_size=10
)


@given(
    word,
    word,
    word,
    st.text(st.sampled_from("0123456789"), max_size=14),
    word,
    word,
    st.none() | st.text(max_size=30),
)
def test_the_fast_path_for_standard_receipts_reads_what_the_tolerant_path_reads(
    message_id: str, sub: str, dlvrd: str, date: str, stat: str, err: str, text: str | None
) -> None:
    receipt = (
        f"id:{message_id} sub:{sub} dlvrd:{dlvrd} submit date:{date} done date:{date}"
        f" stat:{stat} err:{err}" + (f" text:{text}" if text is not None else "")
    )
    assert _STANDARD.match(receipt) is not None  # the fast path is the one under test
    assert text_fields(receipt) == scan_fields(receipt)
