"""Messages travel between relay, dispatcher and carrier sender in batches (OutboundBatch)."""

from __future__ import annotations

from uuid import UUID, uuid5

from hypothesis import given
from hypothesis import strategies as st

from adapters.jetstream.payloads import (
    MAX_BATCH_BYTES,
    OutboundMessage,
    Sealed,
    batch_decoder,
    batch_payloads,
)

NS = UUID("6f1d2a52-0c4b-4c3e-9d55-1d6a0b0c2f10")


def message(i: int, parts: int = 1, text: int = 40) -> OutboundMessage:
    return OutboundMessage(
        message_id=uuid5(NS, f"m{i}"),
        send_id=uuid5(NS, "send"),
        account_id=uuid5(NS, "account"),
        index=i,
        lane="bulk",
        sender="Kontor",
        tariff="standard",
        region="DE",
        number_hash=f"h{i}",
        number=Sealed(k=str(uuid5(NS, f"k{i}")), c="x" * 40),
        text=Sealed(k=str(uuid5(NS, f"k{i}")), c="y" * text),
        encoding="gsm7",
        parts=parts,
        price=790 * parts,
        delivery_reports=True,
        recorded_at=1_700_000_000.0,
    )


@given(
    st.lists(st.tuples(st.integers(1, 10), st.integers(0, 3000)), max_size=60),
    st.none() | st.integers(1, 30),
)
def test_batches_keep_every_message_in_order_within_their_bounds(
    shapes: list[tuple[int, int]], max_parts: int | None
) -> None:
    messages = [message(i, parts, text) for i, (parts, text) in enumerate(shapes)]
    batches = batch_payloads(messages, max_parts=max_parts)
    decoded = [batch_decoder.decode(payload).messages for payload, _, _ in batches]
    assert [m for batch in decoded for m in batch] == messages
    for (payload, count, parts), batch in zip(batches, decoded, strict=True):
        assert count == len(batch) > 0
        assert parts == sum(m.parts for m in batch)
        if len(batch) > 1:  # a single message too large for the bounds travels alone
            assert len(payload) <= MAX_BATCH_BYTES + 16
            assert max_parts is None or parts <= max_parts
    assert batch_payloads(messages, max_parts=max_parts) == batches  # same ids when republished


def test_a_large_chunk_is_split_below_the_nats_payload_limit() -> None:
    messages = [message(i, parts=10, text=2200) for i in range(500)]
    batches = batch_payloads(messages)
    assert len(batches) > 1
    assert all(len(payload) <= MAX_BATCH_BYTES + 16 for payload, _, _ in batches)
    assert sum(count for _, count, _ in batches) == 500
