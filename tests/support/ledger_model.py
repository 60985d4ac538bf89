"""Checks shared by the ledger's property tests: replay the event store into postings and
balance figures, and compare them with the aggregates."""

from __future__ import annotations

from collections import defaultdict
from typing import Any
from uuid import UUID

from eventsourcing.domain import Aggregate

from domain.ledger.application import Ledger
from domain.ledger.billing import Billing
from domain.ledger.postings import FIGURES, Owners, leg_figures, postings_for
from domain.ledger.reservation import Reservation
from domain.ledger.wallet import Wallet


def all_events(app: Ledger) -> list[Any]:
    events: list[Any] = []
    start = 1
    while True:
        batch = app.recorder.select_notifications(start=start, limit=500)
        if not batch:
            return events
        events.extend(app.mapper.to_domain_event(n) for n in batch)
        start = batch[-1].id + 1


def figures_from_events(events: list[Any]) -> tuple[dict[UUID, dict[str, int]], dict[str, int]]:
    """Per-account figures and per-ledger-account totals, from postings alone."""
    owners: Owners = {}
    figures: dict[UUID, dict[str, int]] = defaultdict(lambda: dict.fromkeys(FIGURES, 0))
    totals: dict[str, int] = defaultdict(int)
    for event in events:
        for tx in postings_for(event, owners):
            assert sum(p.amount for p in tx.postings) == 0, tx
            for posting in tx.postings:
                totals[posting.account.value] += posting.amount
                for name, delta in leg_figures(tx.kind, posting.account, posting.amount):
                    figures[tx.customer][name] += delta
    return figures, totals


def replayed(app: Ledger, aggregate_id: UUID) -> Aggregate:
    """The aggregate rebuilt from its stored events alone (no snapshot, no cache)."""
    aggregate: Any = None
    for event in app.events.get(aggregate_id):
        aggregate = event.mutate(aggregate)  # type: ignore[attr-defined]
    assert aggregate is not None
    return aggregate  # type: ignore[no-any-return]


def check_ledger(app: Ledger, accounts: list[UUID], reservations: list[UUID]) -> None:
    events = all_events(app)
    figures, totals = figures_from_events(events)
    assert sum(totals.values()) == 0, totals
    held_by_account: dict[UUID, int] = defaultdict(int)
    for reservation_id in reservations:
        reservation = app.reservation(reservation_id)
        assert replayed(app, reservation_id) == reservation
        assert reservation.remaining >= 0
        if reservation.billing is Billing.PREPAID and not reservation.closed:
            held_by_account[reservation.account_id] += reservation.remaining
    for account_id in accounts:
        wallet = app.wallet(account_id)
        assert replayed(app, wallet.id) == wallet
        f = figures[account_id]
        assert f["credited"] - f["debited"] == (
            f["available"] + f["held"] + f["spent"] + f["expired"] - f["receivable"]
        ), f
        assert wallet.available >= 0
        assert all(v > 0 for v in wallet.remaining.values())
        assert f["available"] == wallet.available, (f, wallet.available)
        assert f["expired"] == wallet.expired
        assert f["held"] == held_by_account[account_id]
        if wallet.billing is Billing.PREPAID:
            assert f["receivable"] == 0


def wallet_of(app: Ledger, account_id: UUID) -> Wallet:
    return app.wallet(account_id)


def reservation_of(app: Ledger, reservation_id: UUID) -> Reservation:
    return app.reservation(reservation_id)
