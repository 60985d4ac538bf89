"""``/v1/accounts`` (registration) and ``/v1/account/...``: a customer's own account.

Every handler here is synchronous (eventsourcing is) and runs in Litestar's thread pool.
"""

from __future__ import annotations

import csv
import io
from datetime import UTC, date, datetime, timedelta
from typing import Annotated, Any
from uuid import UUID

import msgspec
from litestar import Controller, Request, Response, delete, get, patch, post, put
from litestar.params import FromPath, FromQuery, JSONBody, QueryParameter
from litestar.status_codes import HTTP_201_CREATED, HTTP_204_NO_CONTENT

from adapters.crypto import apikeys
from adapters.csvsafe import spreadsheet_safe
from api.auth import finance_writes, owner_only, owner_writes, sender_writes
from api.context import ApiContext, AuthRequest, Ctx
from api.errors import ProblemError
from api.query import Cursor, Format, Limit10000, check_range
from api.schemas.accounts import (
    AccountRead,
    ApiKeyCreate,
    ApiKeyList,
    ApiKeyRead,
    ApiKeyRow,
    AutoRechargeUpdate,
    BalanceRead,
    ContractRead,
    EarliestEndRead,
    LimitsRead,
    LimitsUpdate,
    NoticeCreate,
    RegistrationCreate,
    RegistrationRead,
    StatementLineRead,
    StatementRead,
    StopWordsRead,
    StopWordsUpdate,
)
from domain.accounts.account import Account
from domain.accounts.api_key import ApiKey
from domain.accounts.contract import Limits
from domain.accounts.user import UserRole
from domain.inbound.stop import stop_words
from domain.ledger.as_of import past_day, past_moment
from domain.ledger.billing import BERLIN
from domain.money import format_eur_de
from projections import ledger_queries
from services.registration import NewApiKey, OwnerForm, RegistrationForm

CSV = "text/csv"
"""Litestar adds ``; charset=utf-8`` to a text type (given here too, it was sent twice)."""


def account_read(account: Account) -> AccountRead:
    contract = account.contract
    term_end = contract.minimum_term_ends_on if contract.minimum_term_months else None
    return AccountRead(
        id=account.id,
        number=account.number,
        kind=account.kind,
        company=account.company,
        contact_name=account.contact_name.shown(),
        email=account.email.shown(),
        username=account.username,
        state=account.state,
        tariff=account.tariff,
        contract=ContractRead(
            type=contract.type,
            starts_on=contract.starts_on,
            minimum_term_months=contract.minimum_term_months,
            minimum_term_ends_on=term_end,
            minimum_monthly_revenue=contract.minimum_monthly_revenue,
            base_fee=contract.base_fee,
            limits=LimitsRead(contract.limits.daily_parts, contract.limits.monthly_parts),
            limit_ceiling=LimitsRead(
                account.limit_ceiling.daily_parts, account.limit_ceiling.monthly_parts
            ),
            notice_given_on=account.notice_given_on,
            ends_on=account.ends_on,
        ),
        modules=sorted(account.modules),
        blocked_senders=sorted(account.blocked_senders),
        review_threshold=account.review_threshold,
        stop_words=sorted(account.stop_words),
    )


def registration_form(data: RegistrationCreate) -> RegistrationForm:
    """What a registration asks of ``services.registration``, from the API's body or the
    application's sign-up form (both decoded into ``RegistrationCreate``)."""
    return RegistrationForm(
        kind=data.kind,
        contact_name=f"{data.first_name.strip()} {data.last_name.strip()}",
        email=data.email,
        username=data.username,
        company=data.company,
        tariff=data.tariff,
        owner=OwnerForm(
            salutation=data.salutation,
            first_name=data.first_name,
            last_name=data.last_name,
            street=data.street,
            postcode=data.postcode,
            city=data.city,
            country=data.country,
            phone=data.phone,
            password=data.password,
            accepted_terms=data.accepted_terms,
            accepted_privacy=data.accepted_privacy,
        ),
    )


class RegistrationController(Controller):
    path = "/v1/accounts"
    tags = ["accounts"]  # noqa: RUF012

    @post(
        "/",
        status_code=HTTP_201_CREATED,
        sync_to_thread=True,
        exclude_from_auth=True,
        summary="Register: a new account with trial credit and its first API key (shown once)",
    )
    def register(
        self, request: Request[Any, Any, Any], data: JSONBody[RegistrationCreate], ctx: Ctx
    ) -> RegistrationRead:
        return register_account(ctx, data, request.client.host if request.client else "unknown")


def register_account(ctx: ApiContext, data: RegistrationCreate, client: str) -> RegistrationRead:
    """Register (``services.registration``) with a new first API key, shown this once: for
    ``POST /v1/accounts`` and the application's sign-up form."""
    key = apikeys.generate(ctx.backend.pepper)
    registered = ctx.registrations.register(
        registration_form(data),
        NewApiKey(key.plaintext, key.prefix, key.digest),
        ctx.now(),
        client=client,
    )
    account = ctx.backend.accounts.account(registered.account_id)
    return RegistrationRead(
        account_id=registered.account_id,
        account_number=account.number,
        user_id=account.owner_id,
        username=data.username,
        api_key=registered.api_key,
        api_key_id=registered.api_key_id,
        trial_credit=registered.trial_credit,
        tariff=data.tariff,
    )


def live_keys(ctx: ApiContext, account_id: UUID) -> list[ApiKeyRow]:
    """The account's live API keys, oldest first: for the endpoint and the keys page."""
    accounts = ctx.backend.accounts
    rows = []
    for key_id in accounts.key_chain(account_id).live:
        key: ApiKey = accounts.repository.get(key_id)
        rows.append(ApiKeyRow(key.id, key.prefix, key.label, key.access, key.created_on))
    return sorted(rows, key=lambda r: r.created_at)


def create_key(ctx: ApiContext, account_id: UUID, label: str, role: UserRole) -> ApiKeyRead:
    """A new API key of the account, shown this once."""
    key = apikeys.generate(ctx.backend.pepper)
    key_id = ctx.backend.accounts.issue_api_key(
        account_id, prefix=key.prefix, digest=key.digest, label=label, access=role
    )
    return ApiKeyRead(id=key_id, api_key=key.plaintext, label=label, role=role)


def revoke_key(ctx: ApiContext, account_id: UUID, key_id: UUID, actor: str) -> None:
    """Revoke a key of the account: it stops working in this process at once, in the others
    within their cache time (``api.auth``)."""
    accounts = ctx.backend.accounts
    accounts.revoke_api_key(account_id, key_id, actor)
    prefix: str = accounts.repository.get(key_id).prefix
    ctx.authenticator.evict(prefix)


def balance_read(ctx: ApiContext, account_id: UUID, as_of: datetime | None = None) -> BalanceRead:
    """The account's credit now (or ``as_of`` a past moment), as the balance endpoint and the
    application's dashboard show it."""
    tariff = ctx.tariff_of(account_id)
    pool = ctx.pool
    now = ctx.now()
    moment = past_moment(as_of, ctx.recorded_now())
    if moment is None:
        figures = ledger_queries.balance(pool, account_id, now)
    else:
        figures = ledger_queries.balance_as_of(pool, account_id, moment)
    # The price the account pays now (its month volume's tier), and how many SMS its
    # credit buys from there on, into the cheaper tiers.
    rate = ctx.sms_rate(tariff, now)
    volume = ctx.month_volume_of(account_id)
    price = rate.cost(volume, 1)
    return BalanceRead(
        available=figures.available,
        held=figures.held,
        spent=figures.spent,
        expired=figures.expired,
        expiring_within_30_days=figures.expiring_soon,
        credited=figures.credited,
        debited=figures.debited,
        receivable=figures.receivable,
        tariff=tariff,
        price_per_sms=price,
        remaining_sms=rate.parts_for(figures.available, volume),
        as_of=as_of,
    )


class AccountController(Controller):
    path = "/v1/account"
    tags = ["account"]  # noqa: RUF012

    @get("/", sync_to_thread=True, guards=[owner_writes], summary="The caller's account")
    def read(self, request: AuthRequest, ctx: Ctx) -> AccountRead:
        return account_read(ctx.backend.accounts.account(request.user.customer_account))

    @get(
        "/balance",
        sync_to_thread=True,
        guards=[owner_writes],
        summary="Credit: available, held, spent, expired",
    )
    def balance(
        self,
        request: AuthRequest,
        ctx: Ctx,
        as_of: FromQuery[datetime | None] = None,
    ) -> BalanceRead:
        return balance_read(ctx, request.user.customer_account, as_of)

    @get(
        "/statement",
        sync_to_thread=True,
        guards=[owner_writes],
        summary="Account statement, paged; ?format=csv",
    )
    def statement(
        self,
        request: AuthRequest,
        ctx: Ctx,
        from_: Annotated[date | None, QueryParameter(name="from")] = None,
        to: FromQuery[date | None] = None,
        cursor: Cursor = None,
        limit: Limit10000 = 100,
        format: Format = "json",
    ) -> Response[Any]:
        lines = statement_lines(ctx, request.user.customer_account, from_, to, cursor, limit)
        if format == "csv":
            return Response(statement_csv(lines), media_type=CSV)
        reads = [StatementLineRead(**vars(line)) for line in lines]
        next_cursor = lines[-1].position if len(lines) == limit else None
        return Response(StatementRead(reads, next_cursor))

    @patch(
        "/limits",
        sync_to_thread=True,
        guards=[owner_writes],
        summary="Lower the account's own send limits",
    )
    def limits(
        self,
        request: AuthRequest,
        ctx: Ctx,
        data: JSONBody[LimitsUpdate],
    ) -> AccountRead:
        accounts = ctx.backend.accounts
        current = accounts.account(request.user.customer_account).contract.limits
        daily = current.daily_parts if data.daily_parts is msgspec.UNSET else data.daily_parts
        monthly = data.monthly_parts
        limits = Limits(daily, current.monthly_parts if monthly is msgspec.UNSET else monthly)
        account = accounts.change_limits(
            request.user.customer_account, limits, request.user.actor, by_operator=False
        )
        return account_read(account)

    @get(
        "/api-keys",
        sync_to_thread=True,
        guards=[owner_only],
        summary="The account's live API keys (their prefixes, never the keys)",
    )
    def list_keys(self, request: AuthRequest, ctx: Ctx) -> ApiKeyList:
        return ApiKeyList(live_keys(ctx, request.user.customer_account))

    @post(
        "/api-keys",
        status_code=HTTP_201_CREATED,
        sync_to_thread=True,
        guards=[owner_writes],
        summary="New API key",
    )
    def create_key(
        self,
        request: AuthRequest,
        ctx: Ctx,
        data: JSONBody[ApiKeyCreate],
    ) -> ApiKeyRead:
        return create_key(ctx, request.user.customer_account, data.label, data.role)

    @delete(
        "/api-keys/{key_id:uuid}",
        status_code=HTTP_204_NO_CONTENT,
        sync_to_thread=True,
        guards=[owner_writes],
        summary="Revoke an API key",
    )
    def revoke_key(self, request: AuthRequest, ctx: Ctx, key_id: FromPath[UUID]) -> None:
        revoke_key(ctx, request.user.customer_account, key_id, request.user.actor)

    @get(
        "/contract/earliest-end",
        sync_to_thread=True,
        guards=[owner_writes],
        summary="When notice given on a day ends",
    )
    def earliest_end(
        self,
        request: AuthRequest,
        ctx: Ctx,
        notice_on: FromQuery[date],
    ) -> EarliestEndRead:
        account = ctx.backend.accounts.account(request.user.customer_account)
        return EarliestEndRead(notice_on, account.contract.earliest_end(notice_on))

    @post(
        "/notice",
        status_code=HTTP_201_CREATED,
        sync_to_thread=True,
        guards=[owner_writes],
        summary="Give notice",
    )
    def give_notice(
        self,
        request: AuthRequest,
        ctx: Ctx,
        data: JSONBody[NoticeCreate],
    ) -> EarliestEndRead:
        given_on = data.given_on or ctx.now().astimezone(BERLIN).date()
        ends_on = ctx.backend.accounts.give_notice(
            request.user.customer_account, given_on, request.user.actor
        )
        return EarliestEndRead(given_on, ends_on)

    @put(
        "/stop-words",
        sync_to_thread=True,
        guards=[sender_writes],
        summary="The account's own STOP words (beside STOP, STOPP, ABMELDEN ...)",
    )
    def put_stop_words(
        self, request: AuthRequest, ctx: Ctx, data: JSONBody[StopWordsUpdate]
    ) -> StopWordsRead:
        account = ctx.backend.accounts.change_stop_words(
            request.user.customer_account, stop_words(data.words), request.user.actor
        )
        return StopWordsRead(sorted(account.stop_words))

    @put(
        "/auto-recharge",
        sync_to_thread=True,
        guards=[finance_writes],
        summary="Auto-recharge threshold and package",
    )
    def auto_recharge(
        self,
        request: AuthRequest,
        ctx: Ctx,
        data: JSONBody[AutoRechargeUpdate],
    ) -> AutoRechargeUpdate:
        ctx.backend.ledger.configure_auto_recharge(
            request.user.customer_account, data.threshold, data.package_net
        )
        return data


def statement_lines(
    ctx: ApiContext,
    account_id: UUID,
    from_: date | None,
    to: date | None,
    cursor: str | None,
    limit: int,
) -> list[ledger_queries.StatementLine]:
    """The statement's lines of Berlin days ``from_`` to ``to`` (each refused when after
    today, ``from_`` after ``to`` too), after ``cursor``: for the endpoint and the credit page."""
    check_range(from_, to)
    past_day(from_, ctx.recorded_now())
    past_day(to, ctx.recorded_now())
    return ledger_queries.statement(
        ctx.pool,
        account_id,
        start=_day_start(from_),
        end=_day_start(to + timedelta(days=1)) if to else None,
        after=parse_cursor(cursor),
        limit=limit,
    )


def _day_start(day: date | None) -> datetime | None:
    if day is None:
        return None
    return datetime(day.year, day.month, day.day, tzinfo=BERLIN).astimezone(UTC)


def parse_cursor(cursor: str | None) -> tuple[int, int] | None:
    if not cursor:
        return None
    try:
        notification, seq = cursor.split(".")
        return int(notification), int(seq)
    except ValueError as exc:
        raise ProblemError(
            422, "invalid-cursor", "Invalid cursor", f"bad cursor {cursor!r}"
        ) from exc


def statement_csv(lines: list[ledger_queries.StatementLine]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, delimiter=";")
    writer.writerow(["position", "recorded_at", "kind", "description", "amount_eur", "balance_eur"])
    for line in lines:
        writer.writerow(
            [
                line.position,
                line.recorded_at.astimezone(BERLIN).isoformat(),
                line.kind,
                spreadsheet_safe(line.description),
                format_eur_de(line.amount),
                format_eur_de(line.balance),
            ]
        )
    return out.getvalue()
