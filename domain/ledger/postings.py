"""The chart of accounts and the double-entry postings of every ledger event.

Each ledger event is one journal transaction; its postings sum to zero (debits positive, credits
negative, in 1/10,000 EUR). The journal and trial balance projections, the as-of replays and the
property tests all use this one function, ``postings_for``.

Chart of accounts (normal balance in brackets):

====  ==========================  ==========================================================
1000  cash:bank_transfer [Dr]     money received by bank transfer, one account per method:
1010  cash:sepa_direct_debit      SEPA direct debit, PayPal, Sofort (clearing accounts)
1020  cash:paypal
1030  cash:sofort
1040  receivable:invoice [Dr]     packages bought on invoice, not yet paid
1100  receivable:postpaid [Dr]    postpaid and small-volume usage, billed monthly
2000  customer_credit [Cr]        prepaid credit the customer may use (net of VAT)
2010  credit_held [Cr]            credit held for sends in flight (reservations)
2020  expired_credit [Cr]         credit whose lot expired; still owed until settled
2100  vat_payable [Cr]            VAT on credit sold
4000  revenue:sms [Cr]            SMS parts a carrier accepted
4010  revenue:fees [Cr]           base fees and usage fees (expired credit settled)
6000  expense:trial_credit [Dr]   trial credit given at registration (promotional)
6010  expense:goodwill [Dr]       goodwill credit from support
6020  expense:corrections [Dr]    corrections (positive: credit given; negative: taken back)
====  ==========================  ==========================================================

A release (a message failed before carrier acceptance) moves credit from ``credit_held`` back to
``customer_credit``: no money moves. A refund pays money back: ``customer_credit`` and
``vat_payable`` are debited, the payment method's cash account is credited.
"""

from __future__ import annotations

import enum
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from uuid import UUID

from domain.ledger.billing import Billing
from domain.ledger.lots import LotSource, PaymentMethod
from domain.ledger.reservation import Reservation
from domain.ledger.wallet import Wallet


class LedgerAccount(enum.StrEnum):
    CASH_BANK_TRANSFER = "1000"
    CASH_SEPA_DIRECT_DEBIT = "1010"
    CASH_PAYPAL = "1020"
    CASH_SOFORT = "1030"
    RECEIVABLE_INVOICE = "1040"
    RECEIVABLE_POSTPAID = "1100"
    CUSTOMER_CREDIT = "2000"
    CREDIT_HELD = "2010"
    EXPIRED_CREDIT = "2020"
    VAT_PAYABLE = "2100"
    REVENUE_SMS = "4000"
    REVENUE_FEES = "4010"
    EXPENSE_TRIAL = "6000"
    EXPENSE_GOODWILL = "6010"
    EXPENSE_CORRECTIONS = "6020"

    @property
    def label(self) -> str:
        return ACCOUNT_TITLES[self]


ACCOUNT_TITLES = {
    LedgerAccount.CASH_BANK_TRANSFER: "cash:bank_transfer",
    LedgerAccount.CASH_SEPA_DIRECT_DEBIT: "cash:sepa_direct_debit",
    LedgerAccount.CASH_PAYPAL: "cash:paypal",
    LedgerAccount.CASH_SOFORT: "cash:sofort",
    LedgerAccount.RECEIVABLE_INVOICE: "receivable:invoice",
    LedgerAccount.RECEIVABLE_POSTPAID: "receivable:postpaid",
    LedgerAccount.CUSTOMER_CREDIT: "customer_credit",
    LedgerAccount.CREDIT_HELD: "credit_held",
    LedgerAccount.EXPIRED_CREDIT: "expired_credit",
    LedgerAccount.VAT_PAYABLE: "vat_payable",
    LedgerAccount.REVENUE_SMS: "revenue:sms",
    LedgerAccount.REVENUE_FEES: "revenue:fees",
    LedgerAccount.EXPENSE_TRIAL: "expense:trial_credit",
    LedgerAccount.EXPENSE_GOODWILL: "expense:goodwill",
    LedgerAccount.EXPENSE_CORRECTIONS: "expense:corrections",
}

CASH_BY_METHOD = {
    PaymentMethod.BANK_TRANSFER: LedgerAccount.CASH_BANK_TRANSFER,
    PaymentMethod.SEPA_DIRECT_DEBIT: LedgerAccount.CASH_SEPA_DIRECT_DEBIT,
    PaymentMethod.PAYPAL: LedgerAccount.CASH_PAYPAL,
    PaymentMethod.SOFORT: LedgerAccount.CASH_SOFORT,
    PaymentMethod.INVOICE: LedgerAccount.RECEIVABLE_INVOICE,
}

GRANT_EXPENSE = {
    LotSource.TRIAL: LedgerAccount.EXPENSE_TRIAL,
    LotSource.GOODWILL: LedgerAccount.EXPENSE_GOODWILL,
    LotSource.CORRECTION: LedgerAccount.EXPENSE_CORRECTIONS,
}


@dataclass(frozen=True)
class Posting:
    account: LedgerAccount
    amount: int  # debit > 0, credit < 0

    @property
    def debit(self) -> int:
        return max(self.amount, 0)

    @property
    def credit(self) -> int:
        return max(-self.amount, 0)


@dataclass(frozen=True)
class JournalTransaction:
    customer: UUID
    kind: str
    description: str
    postings: tuple[Posting, ...]


@dataclass(frozen=True)
class Owner:
    """Whose wallet or reservation an event belongs to, and how that account pays."""

    account_id: UUID
    billing: Billing


Owners = dict[UUID, Owner]
C = LedgerAccount


def _tx(
    owner: Owner, kind: str, description: str, *legs: tuple[LedgerAccount, int]
) -> list[JournalTransaction]:
    postings = tuple(Posting(account, amount) for account, amount in legs if amount)
    if not postings:
        return []
    if sum(p.amount for p in postings) != 0:  # pragma: no cover - a bug, never data
        raise ArithmeticError(f"unbalanced {kind}: {postings}")
    return [JournalTransaction(owner.account_id, kind, description, postings)]


def _purchase(o: Owner, e: Wallet.CreditPurchased) -> list[JournalTransaction]:
    return _tx(
        o,
        "purchase",
        f"{e.package} paid by {e.method.value} ({e.reference})",
        (CASH_BY_METHOD[e.method], e.gross),
        (C.CUSTOMER_CREDIT, -e.net),
        (C.VAT_PAYABLE, -e.vat),
    )


def _grant(o: Owner, e: Wallet.CreditGranted) -> list[JournalTransaction]:
    amount = e.lot.amount
    return _tx(
        o,
        e.lot.source.value,
        e.reason,
        (GRANT_EXPENSE[e.lot.source], amount),
        (C.CUSTOMER_CREDIT, -amount),
    )


def _debit(o: Owner, e: Wallet.CreditDebited) -> list[JournalTransaction]:
    if e.kind == "refund":
        cash = CASH_BY_METHOD[e.method or PaymentMethod.BANK_TRANSFER]
        return _tx(
            o,
            "refund",
            e.reason,
            (C.CUSTOMER_CREDIT, e.amount),
            (C.VAT_PAYABLE, e.vat),
            (cash, -(e.amount + e.vat)),
        )
    return _tx(
        o, "correction", e.reason, (C.CUSTOMER_CREDIT, e.amount), (C.EXPENSE_CORRECTIONS, -e.amount)
    )


def _returned(o: Owner, e: Wallet.CreditReturned) -> list[JournalTransaction]:
    # The reservation's Released/Closed event posts credit_held -> customer_credit; this says
    # that part of it landed in lots that had expired meanwhile, so it moves on to expired.
    amount = e.expired_amount
    return _tx(
        o,
        "returned_expired",
        "returned credit of an expired lot",
        (C.CUSTOMER_CREDIT, amount),
        (C.EXPIRED_CREDIT, -amount),
    )


def _expired(o: Owner, e: Wallet.LotExpired) -> list[JournalTransaction]:
    return _tx(
        o,
        "expiry",
        f"lot {e.lot_id} expired",
        (C.CUSTOMER_CREDIT, e.amount),
        (C.EXPIRED_CREDIT, -e.amount),
    )


def _settled(o: Owner, e: Wallet.ExpiredCreditSettled) -> list[JournalTransaction]:
    return _tx(
        o,
        f"expired_{e.option}",
        f"expired credit: {e.option}",
        (C.EXPIRED_CREDIT, e.amount),
        (C.REVENUE_FEES, -e.fee),
        (C.CUSTOMER_CREDIT, -(e.amount - e.fee)),
    )


def _hold(o: Owner, e: Reservation.Opened) -> list[JournalTransaction]:
    if o.billing is not Billing.PREPAID:
        return []
    return _tx(
        o,
        "hold",
        f"held for send {e.send_id}",
        (C.CUSTOMER_CREDIT, e.amount),
        (C.CREDIT_HELD, -e.amount),
    )


def _capture(o: Owner, e: Reservation.Captured) -> list[JournalTransaction]:
    source = C.CREDIT_HELD if o.billing is Billing.PREPAID else C.RECEIVABLE_POSTPAID
    return _tx(
        o,
        "capture",
        f"{len(e.indexes)} messages accepted by the carrier",
        (source, e.total),
        (C.REVENUE_SMS, -e.total),
    )


def _release(o: Owner, e: Reservation.Released) -> list[JournalTransaction]:
    if o.billing is not Billing.PREPAID:
        return []
    return _tx(
        o,
        "release",
        f"{len(e.indexes)} messages failed before the carrier: {e.reason}",
        (C.CREDIT_HELD, e.total),
        (C.CUSTOMER_CREDIT, -e.total),
    )


def _close(o: Owner, e: Reservation.Closed) -> list[JournalTransaction]:
    if o.billing is not Billing.PREPAID:
        return []
    return _tx(
        o,
        "close",
        f"reservation closed ({e.reason}): unused credit returned",
        (C.CREDIT_HELD, e.returned),
        (C.CUSTOMER_CREDIT, -e.returned),
    )


_HANDLERS: dict[type, Callable[[Owner, Any], list[JournalTransaction]]] = {
    Wallet.CreditPurchased: _purchase,
    Wallet.CreditGranted: _grant,
    Wallet.CreditDebited: _debit,
    Wallet.CreditReturned: _returned,
    Wallet.LotExpired: _expired,
    Wallet.ExpiredCreditSettled: _settled,
    Reservation.Opened: _hold,
    Reservation.Captured: _capture,
    Reservation.Released: _release,
    Reservation.Closed: _close,
}


def postings_for(event: Any, owners: Owners) -> list[JournalTransaction]:
    """The journal transactions an event records (none for events that move no money).

    ``owners`` maps wallet and reservation ids to their account; ``Opened`` events add to it
    and ``Wallet.BillingChanged`` updates it, so callers replaying a log keep one map."""
    if isinstance(event, Wallet.Opened):
        owners[event.originator_id] = Owner(event.account_id, event.billing)
        return []
    if isinstance(event, Wallet.BillingChanged):
        owner = owners.get(event.originator_id)
        if owner is not None:
            owners[event.originator_id] = Owner(owner.account_id, event.billing)
        return []
    if isinstance(event, Reservation.Opened):
        owners[event.originator_id] = Owner(event.account_id, event.billing)
    handler = _HANDLERS.get(type(event))
    owner = owners.get(event.originator_id)
    if handler is None or owner is None:
        return []
    return handler(owner, event)


FIGURE_OF_ACCOUNT = {
    LedgerAccount.CUSTOMER_CREDIT: ("available", -1),
    LedgerAccount.CREDIT_HELD: ("held", -1),
    LedgerAccount.EXPIRED_CREDIT: ("expired", -1),
    LedgerAccount.REVENUE_SMS: ("spent", -1),
    LedgerAccount.REVENUE_FEES: ("spent", -1),
    LedgerAccount.RECEIVABLE_POSTPAID: ("receivable", 1),
}
FIGURES = ("credited", "debited", "available", "held", "spent", "expired", "receivable")


def leg_figures(kind: str, account: LedgerAccount, amount: int) -> list[tuple[str, int]]:
    """How one posting moves a customer's balance figures.

    ``credited`` counts credit given (purchases net, trial, goodwill, positive corrections),
    ``debited`` credit taken away (refunds, negative corrections), and the identity
    ``credited - debited = available + held + spent + expired - receivable`` holds after every
    transaction."""
    moves: list[tuple[str, int]] = []
    figure = FIGURE_OF_ACCOUNT.get(account)
    if figure is not None:
        moves.append((figure[0], figure[1] * amount))
    if account is LedgerAccount.CUSTOMER_CREDIT:
        if kind in ("purchase", "trial", "goodwill") or (kind == "correction" and amount < 0):
            moves.append(("credited", -amount))
        elif kind in ("refund", "correction"):
            moves.append(("debited", amount))
    return moves
