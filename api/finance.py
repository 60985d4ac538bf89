"""Finance's endpoints: the trial balance and the journal, as of any moment, JSON or CSV."""

from __future__ import annotations

import csv
import io
from datetime import datetime
from typing import Annotated, Any

from litestar import Controller, Response, get
from litestar.params import FromQuery, QueryParameter

from api.accounts import CSV, parse_cursor
from api.auth import finance_only
from api.context import Ctx
from api.query import Cursor, Format, Limit10000, check_range
from api.schemas.admin import (
    JournalEntryRead,
    JournalRead,
    PostingRead,
    TrialBalanceLine,
    TrialBalanceRead,
)
from domain.ledger.as_of import past_moment
from domain.ledger.billing import BERLIN
from domain.money import format_eur_de
from projections import ledger_queries


def _aware(moment: datetime | None) -> datetime | None:
    if moment is None or moment.tzinfo is not None:
        return moment
    return moment.replace(tzinfo=BERLIN)


class FinanceController(Controller):
    path = "/v1/finance"
    tags = ["finance"]  # noqa: RUF012
    guards = [finance_only]  # noqa: RUF012

    @get("/trial-balance", sync_to_thread=True, summary="Trial balance, optionally as of a time")
    def trial_balance(
        self,
        ctx: Ctx,
        as_of: FromQuery[datetime | None] = None,
        format: Format = "json",
    ) -> Response[Any]:
        balances = ledger_queries.trial_balance(ctx.pool, past_moment(as_of, ctx.recorded_now()))
        lines = [
            TrialBalanceLine(code, ledger_queries.account_title(code), max(v, 0), max(-v, 0))
            for code, v in balances.items()
        ]
        debit = sum(line.debit for line in lines)
        credit = sum(line.credit for line in lines)
        if format == "csv":
            out = io.StringIO()
            writer = csv.writer(out, delimiter=";")
            writer.writerow(["account", "title", "debit_eur", "credit_eur"])
            for line in lines:
                debit_eur, credit_eur = format_eur_de(line.debit), format_eur_de(line.credit)
                writer.writerow([line.account, line.title, debit_eur, credit_eur])
            writer.writerow(["", "total", format_eur_de(debit), format_eur_de(credit)])
            return Response(out.getvalue(), media_type=CSV)
        return Response(TrialBalanceRead(as_of, lines, debit, credit, balanced=debit == credit))

    @get("/journal", sync_to_thread=True, summary="Journal transactions with their postings")
    def journal(
        self,
        ctx: Ctx,
        from_: Annotated[datetime | None, QueryParameter(name="from")] = None,
        to: FromQuery[datetime | None] = None,
        cursor: Cursor = None,
        limit: Limit10000 = 500,
        format: Format = "json",
    ) -> Response[Any]:
        check_range(from_, to)
        entries = ledger_queries.journal(
            ctx.pool, start=_aware(from_), end=_aware(to), after=parse_cursor(cursor), limit=limit
        )
        if format == "csv":
            out = io.StringIO()
            writer = csv.writer(out, delimiter=";")
            writer.writerow(
                [
                    "position",
                    "recorded_at",
                    "customer",
                    "kind",
                    "event",
                    "account",
                    "title",
                    "debit_eur",
                    "credit_eur",
                ]
            )
            for e in entries:
                for account, amount in e.postings:
                    title = ledger_queries.account_title(account)
                    debit, credit = format_eur_de(max(amount, 0)), format_eur_de(max(-amount, 0))
                    position = f"{e.notification_id}.{e.seq}"
                    writer.writerow(
                        [
                            position,
                            e.recorded_at.isoformat(),
                            e.customer,
                            e.kind,
                            e.event,
                            account,
                            title,
                            debit,
                            credit,
                        ]
                    )
            return Response(out.getvalue(), media_type=CSV)
        reads = [
            JournalEntryRead(
                position=f"{e.notification_id}.{e.seq}",
                recorded_at=e.recorded_at,
                customer=e.customer,
                kind=e.kind,
                description=e.description,
                event=e.event,
                postings=[
                    PostingRead(a, ledger_queries.account_title(a), max(v, 0), max(-v, 0))
                    for a, v in e.postings
                ],
            )
            for e in entries
        ]
        last = entries[-1] if len(entries) == limit else None
        return Response(JournalRead(reads, f"{last.notification_id}.{last.seq}" if last else None))
