"""Finance's pages in the staff console ("Finanzen"): the trial balance as of any past moment
and the journal of a period, each with its CSV export (the finance API's own, which a staff
session may call). The figures are the ledger projection's, as ``/v1/finance`` gives them;
finance and the operator read them."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import Annotated, Any
from urllib.parse import urlencode

from litestar import Controller, Request, Response, get
from litestar.params import QueryParameter

from api.accounts import parse_cursor
from api.context import Ctx
from api.errors import REFUSALS
from api.web.forms import SignedIn, page, refusal_of
from api.web.staff import require_staff
from domain.accounts.api_key import Role
from domain.ledger.as_of import past_day, past_moment
from domain.ledger.billing import BERLIN
from domain.ledger.postings import LedgerAccount
from projections import ledger_queries

FINANCE = "/app/finanzen"
JOURNAL_PAGE = 100
READERS = frozenset({Role.FINANCE, Role.ADMIN})


def _reader(request: Request[Any, Any, Any], ctx: Ctx) -> SignedIn | Response[Any]:
    who = require_staff(request, ctx)
    if isinstance(who, Response) or who.principal.role in READERS:
        return who
    return page(request, "not_allowed", status_code=403, who=who, csrf=who.session.csrf_token)


class FinancePages(Controller):
    path = FINANCE

    @get("/", sync_to_thread=True)
    def trial_balance(
        self, request: Request[Any, Any, Any], ctx: Ctx,
        as_of: Annotated[datetime | None, QueryParameter(name="stand")] = None,
    ) -> Response[Any]:  # fmt: skip
        who = _reader(request, ctx)
        if isinstance(who, Response):
            return who
        try:
            moment = past_moment(as_of, ctx.recorded_now())
        except REFUSALS as exc:
            refused = refusal_of(exc)
            return page(request, "refused", status_code=refused.status, who=who,
                        csrf=who.session.csrf_token, detail=refused.detail,
                        back=FINANCE)  # fmt: skip
        balances = ledger_queries.trial_balance(ctx.pool, moment)
        lines = [(LedgerAccount(code), max(v, 0), max(-v, 0)) for code, v in balances.items()]
        debit, credit = sum(d for _, d, _ in lines), sum(c for _, _, c in lines)
        query = urlencode({"format": "csv"} | ({"as_of": moment.isoformat()} if moment else {}))
        return page(request, "finance", who=who, csrf=who.session.csrf_token, lines=lines,
                    debit=debit, credit=credit, moment=moment, as_of=as_of,
                    csv=f"/v1/finance/trial-balance?{query}")  # fmt: skip

    @get("/journal", sync_to_thread=True)
    def journal(
        self, request: Request[Any, Any, Any], ctx: Ctx,
        from_: Annotated[date | None, QueryParameter(name="von")] = None,
        to: Annotated[date | None, QueryParameter(name="bis")] = None,
        after: Annotated[str | None, QueryParameter(name="nach", pattern=r"^\d+\.\d+$")] = None,
    ) -> Response[Any]:  # fmt: skip
        who = _reader(request, ctx)
        if isinstance(who, Response):
            return who
        now = ctx.recorded_now()
        try:
            past_day(from_, now)
            if from_ and to and to < from_:
                raise ValueError("backwards")
        except ValueError:
            return self._journal_page(request, who, [], from_, to, None, "period", 422)
        except REFUSALS as exc:
            refused = refusal_of(exc)
            return self._journal_page(request, who, [], from_, to, None, refused.detail,
                                      refused.status)  # fmt: skip
        start = datetime.combine(from_, time(), BERLIN) if from_ else None
        end = datetime.combine(to + timedelta(days=1), time(), BERLIN) if to else None
        cursor = parse_cursor(after)
        entries = ledger_queries.journal(ctx.pool, start=start, end=end, after=cursor,
                                         limit=JOURNAL_PAGE)  # fmt: skip
        last = entries[-1] if len(entries) == JOURNAL_PAGE else None
        more = f"{last.notification_id}.{last.seq}" if last else None
        return self._journal_page(request, who, entries, from_, to, more)

    def _journal_page(
        self, request: Request[Any, Any, Any], who: SignedIn, entries: list[Any],
        from_: date | None, to: date | None, more: str | None, error: str | None = None,
        status_code: int = 200,
    ) -> Response[Any]:  # fmt: skip
        period = {"from": from_.isoformat()} if from_ else {}
        period |= {"to": (to + timedelta(days=1)).isoformat()} if to else {}
        shown = {"von": from_.isoformat()} if from_ else {}
        shown |= {"bis": to.isoformat()} if to else {}
        return page(request, "journal", status_code=status_code, who=who,
                    csrf=who.session.csrf_token, entries=entries, from_=from_, to=to,
                    more=more, error=error, query=urlencode(shown),
                    csv="/v1/finance/journal?" + urlencode(period | {"format": "csv",
                                                                    "limit": 10000}))  # fmt: skip
