"""Splitting a TCP byte stream into PDUs, however the reads cut it."""

from __future__ import annotations

import itertools
import struct

import pytest
from hypothesis import given
from hypothesis import strategies as st

from adapters.smpp.codec import decode, encode
from adapters.smpp.errors import FramingError
from adapters.smpp.framing import FrameSplitter
from adapters.smpp.pdu import DeliverSm, EnquireLink, Pdu, SubmitSm, SubmitSmResp

STREAM_PDUS: list[Pdu] = [
    SubmitSm(destination_addr="4917012345678", short_message=b"part one"),
    EnquireLink(),
    SubmitSmResp("abc"),
    DeliverSm(source_addr="4917012345678", short_message=b"id:1 stat:DELIVRD"),
]
STREAM = b"".join(encode(pdu, seq) for seq, pdu in enumerate(STREAM_PDUS, start=1))


def test_pdus_fed_one_byte_at_a_time_come_out_whole_and_in_order() -> None:
    splitter = FrameSplitter()
    frames = [frame for i in range(len(STREAM)) for frame in splitter.feed(STREAM[i : i + 1])]
    assert [decode(frame).pdu for frame in frames] == STREAM_PDUS
    assert splitter.pending == 0


def test_many_pdus_in_one_read_come_out_together() -> None:
    splitter = FrameSplitter()
    frames = splitter.feed(STREAM * 3)
    assert [decode(frame).sequence_number for frame in frames] == [1, 2, 3, 4] * 3


def test_a_partial_pdu_waits_for_the_rest() -> None:
    splitter = FrameSplitter()
    assert splitter.feed(STREAM[:20]) == []
    assert splitter.pending == 20


@given(st.lists(st.integers(1, len(STREAM) - 1), max_size=10, unique=True))
def test_any_cut_of_the_stream_yields_the_same_pdus(cuts: list[int]) -> None:
    splitter = FrameSplitter()
    bounds = [0, *sorted(cuts), len(STREAM)]
    frames = [f for a, b in itertools.pairwise(bounds) for f in splitter.feed(STREAM[a:b])]
    assert b"".join(frames) == STREAM
    assert len(frames) == len(STREAM_PDUS)


@pytest.mark.parametrize("length", [0, 15, 70_001, 0xFFFFFFFF])
def test_a_command_length_no_pdu_can_have_breaks_the_stream(length: int) -> None:
    splitter = FrameSplitter()
    with pytest.raises(FramingError) as caught:
        splitter.feed(encode(EnquireLink(), 1) + struct.pack(">I", length) + b"\x00" * 12)
    assert caught.value.command_length == length


def test_the_bound_is_configurable_for_carriers_with_larger_payloads() -> None:
    big = struct.pack(">IIII", 100_000, 0x80000004, 0, 1) + b"x" * (100_000 - 16)
    assert FrameSplitter(max_length=200_000).feed(big) == [big]
