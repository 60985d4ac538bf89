"""The Ledger context's errors: each class states the rule it guards."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID


class LedgerError(Exception):
    """Base of every ledger rule violation."""


class InsufficientCreditError(LedgerError):
    """A prepaid hold, refund or debit may not exceed the available (unexpired, unheld) credit."""

    def __init__(self, required: int, available: int) -> None:
        self.required = required
        self.available = available
        self.shortfall = required - available
        super().__init__(
            f"insufficient credit: {required} needed, {available} available "
            f"(short by {self.shortfall})"
        )


class SendLimitExceededError(LedgerError):
    """Postpaid and small-volume sends may not exceed the daily or monthly limit in SMS parts."""

    def __init__(self, period: str, limit: int, used: int, requested: int) -> None:
        self.period = period
        self.limit = limit
        self.used = used
        self.requested = requested
        self.shortfall = used + requested - limit
        super().__init__(
            f"{period} limit of {limit} SMS parts exceeded: {used} used, {requested} requested"
        )


class InvalidAmountError(LedgerError):
    """Amounts are positive integers in 1/10,000 EUR (gross = net + VAT where both are given)."""


class InvalidAutoRechargeError(LedgerError):
    """Auto-recharge needs both a positive threshold and a positive package, or neither (off)."""


class InvalidAdjustmentError(LedgerError):
    """Goodwill and refunds move a positive amount, a correction a non-zero one."""


class ReservationNotFoundError(LedgerError):
    """A reservation is adjusted only through the account that holds it; another account's is
    answered like one that does not exist."""

    def __init__(self, reservation_id: UUID) -> None:
        self.reservation_id = reservation_id
        super().__init__(f"no reservation {reservation_id} on this account")


class ReservationClosedError(LedgerError):
    """A closed reservation takes no further captures or releases."""

    def __init__(self, reservation_id: UUID) -> None:
        self.reservation_id = reservation_id
        super().__init__(f"reservation {reservation_id} is closed")


class ReservationOverdrawnError(LedgerError):
    """Captures and releases together may not exceed what the reservation holds."""

    def __init__(self, reservation_id: UUID, requested: int, remaining: int) -> None:
        self.reservation_id = reservation_id
        self.requested = requested
        self.remaining = remaining
        super().__init__(
            f"reservation {reservation_id}: {requested} requested, only {remaining} held"
        )


class UnknownMessageIndexError(LedgerError):
    """A capture or release names a message index inside the reservation's range."""

    def __init__(self, index: int, count: int) -> None:
        self.index = index
        self.count = count
        super().__init__(f"message index {index} outside 0..{count - 1}")


class ReservationMismatchError(LedgerError):
    """A repeated reservation for the same send must ask for the same amount."""


class NoExpiredCreditError(LedgerError):
    """Reactivating or offsetting expired credit needs expired credit."""


class PaymentReferenceReusedError(LedgerError):
    """A payment reference identifies one payment: repeating it with another amount is refused."""

    def __init__(self, reference: str, credited: int, requested: int) -> None:
        self.reference = reference
        self.credited = credited
        self.requested = requested
        super().__init__(
            f"payment reference {reference!r} already credited {credited}, not {requested}"
        )


class AdjustmentReferenceReusedError(LedgerError):
    """An adjustment's reference identifies one adjustment of its kind (goodwill, correction,
    refund): repeating it changes nothing, repeating it with another amount is refused."""

    def __init__(self, reference: str, recorded: int, requested: int) -> None:
        self.reference = reference
        self.recorded = recorded
        self.requested = requested
        super().__init__(
            f"reference {reference!r} was already booked with {recorded}, not {requested}"
        )


class CreditExpiresBeforeScheduleError(LedgerError):
    """Prepaid credit held for a scheduled send must still be valid at the send's time: credit
    is not held past its expiry."""

    def __init__(self, send_at: datetime, required: int, valid_then: int) -> None:
        self.send_at = send_at.isoformat()
        self.required = required
        self.valid_then = valid_then
        super().__init__(
            f"only {valid_then} of the {required} needed is credit still valid at {self.send_at}"
            " (prepaid credit expires; schedule earlier or top up)"
        )


class AsOfInFutureError(LedgerError):
    """Figures "as of" a moment are built from the events recorded up to it: a moment (or a
    statement day) after now has no figures yet, and today's would be passed off as them."""

    def __init__(self, as_of: str, now: datetime) -> None:
        self.as_of = as_of
        self.now = now.isoformat()
        super().__init__(f"{as_of} is in the future (now {self.now}): no figures as of then yet")
