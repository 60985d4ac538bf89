"""Shapes of the send endpoints: single messages, campaigns, message search and history."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any
from uuid import UUID

import msgspec

from api.schemas import common
from api.schemas.accounts import Amount
from api.schemas.common import Fields, Sender
from domain.tariff import Tariff

Text = common.MessageText
PhoneNumber = Annotated[str, common.line(40, 1)]


class RecipientIn(msgspec.Struct, forbid_unknown_fields=True):
    """A recipient with its placeholder values, the same for a preview and a send (so that the
    preview shows what the send will make of it)."""

    number: PhoneNumber
    fields: Fields = {}


RecipientOrNumber = PhoneNumber | RecipientIn


class MessageCreate(msgspec.Struct, forbid_unknown_fields=True):
    to: Annotated[list[RecipientOrNumber], msgspec.Meta(min_length=1)]
    text: Text
    sender: Sender
    tariff: Tariff | None = None
    send_at: datetime | None = None
    normalize: bool = False
    keep_repeats: bool = False
    """True: a number given more than once gets the message each time (default: once)."""


class CampaignCreate(msgspec.Struct, forbid_unknown_fields=True):
    text: Text
    sender: Sender
    name: common.Name = ""
    list_id: UUID | None = None
    recipients: list[RecipientIn] | None = None
    tariff: Tariff | None = None
    send_at: datetime | None = None
    normalize: bool = False
    keep_repeats: bool = False
    """True: a number listed more than once gets the message each time (default: once)."""


class SkippedRead(msgspec.Struct):
    position: int
    reason: str
    detail: str


class MessageSummary(msgspec.Struct):
    message_id: UUID
    to: str
    parts: int
    price: Amount
    encoding: str


class SendRead(msgspec.Struct):
    send_id: UUID
    state: str
    messages: list[MessageSummary]
    skipped: list[SkippedRead]
    total_price: Amount
    send_at: datetime | None
    repeated: bool


class AcceptanceRead(msgspec.Struct):
    """A list campaign's acceptance: its list is priced, keyed and staged in the background,
    then its cost reserved (``state``: ``accepting``, ``reserving``, ``accepted``,
    ``refused`` or ``cancelled``)."""

    state: str
    list_recipients: int
    """Recipients the list held when the campaign was requested."""
    priced: int
    """List recipients read and priced so far."""
    staged: int
    """Messages staged so far (priced recipients not skipped)."""
    reserved: bool
    parts: int
    expected_cost: Amount
    skipped: dict[str, int]
    problem: dict[str, Any] | None = None
    """Why the campaign was refused (``refused``): the problem details the same refusal gets
    as a request's answer."""


class CampaignAccepted(msgspec.Struct):
    campaign_id: UUID
    state: str
    recipients: int
    """The campaign's messages; for a list campaign still ``accepting``, the list's size."""
    parts: int | None
    """``None`` while a list campaign is accepted (``acceptance`` shows the progress)."""
    expected_cost: Amount | None
    skipped: dict[str, int]
    review_required: bool
    send_at: datetime | None
    repeated: bool
    acceptance: AcceptanceRead | None = None


class CancellationRead(msgspec.Struct):
    """What a cancellation stopped and what had already gone (from the carrier sender's
    claims, counted right after the cancellation was recorded)."""

    stopped: int
    """Never sent: their credit goes back."""
    sent: int
    """Accepted by the carrier before the cancellation (charged)."""
    in_flight: int
    """Being submitted as the send was cancelled: may still go (within about a second)."""
    rejected: int
    """Refused by the carrier (not charged)."""


class CampaignRead(msgspec.Struct):
    campaign_id: UUID
    name: str
    lane: str
    state: str
    sender: str
    tariff: str
    recipients: int
    recorded: int
    parts: int
    expected_cost: Amount
    cost_so_far: Amount
    counts: dict[str, int]
    skipped: list[dict[str, Any]]
    review_required: bool
    send_at: datetime | None
    created_at: datetime
    completed_at: datetime | None
    eta_seconds: float | None
    cancellation: CancellationRead | None = None
    """Only in the answer to a cancellation."""
    acceptance: AcceptanceRead | None = None
    """A list campaign's acceptance in the background."""


class CampaignPage(msgspec.Struct):
    campaigns: list[CampaignRead]
    next_cursor: str | None


class MessageRow(msgspec.Struct):
    message_id: UUID
    send_id: UUID
    index: int
    state: str
    colour: str
    parts: int
    price: Amount
    region: str
    carrier_ids: list[str]
    status_text: str | None
    error_code: str | None
    uncertain: bool
    recorded_at: datetime
    submitted_at: datetime | None
    final_at: datetime | None


class MessagePage(msgspec.Struct):
    messages: list[MessageRow]
    next_cursor: str | None


class HistoryEntry(msgspec.Struct):
    position: int
    at: datetime
    event: str
    details: dict[str, Any]


class MessageDetail(msgspec.Struct):
    message: MessageRow
    to: str
    text: str
    encoding: str
    route: str | None
    history: list[HistoryEntry]


class QueryStatusCreate(msgspec.Struct, forbid_unknown_fields=True):
    send_id: UUID | None = None
    account_id: UUID | None = None
    older_than_minutes: Annotated[int, msgspec.Meta(ge=0, le=10_000_000)] = 60
    limit: Annotated[int, msgspec.Meta(ge=1, le=100_000)] = 10_000


class QueryStatusRead(msgspec.Struct):
    queried: int


class UnmatchedReceiptRead(msgspec.Struct):
    receipt_id: UUID
    carrier: str
    carrier_id: str
    state: str
    status_text: str
    error_code: str | None
    final: bool
    done_at: datetime | None
    received_at: datetime
    number: str
    """The handset, as the receipt named it (redacted once that person's data was erased)."""
    deliveries: int


class UnmatchedReceiptPage(msgspec.Struct):
    receipts: list[UnmatchedReceiptRead]
    next_cursor: str | None
