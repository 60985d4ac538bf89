"""Building the request context: the send acceptance process, the preview's pricing context."""

from __future__ import annotations

import functools
from datetime import datetime, timedelta
from typing import Any
from uuid import UUID

from litestar import Request

from adapters.backend import Backend
from adapters.contacts.optouts import PostgresOptOuts
from adapters.jetstream.topology import Topology
from adapters.postgres.claims import PostgresClaimCounts
from adapters.postgres.registration_limit import PostgresRegistrationSlots
from adapters.postgres.send_staging import Staging
from api.auth import Authenticator, Principal
from api.context import ApiContext, Clock, SmsRate
from api.preview import PricingContext
from domain.ledger.billing import BERLIN
from domain.pricing.preview import PreviewRules, Recipient
from projections import messaging_queries
from services.acceptance import SendAcceptance
from services.adjustments import Credits
from services.administration import Administration
from services.cancellation import SendCancellation
from services.registration import Registrations, Trial
from services.registration_limit import RegistrationLimit
from settings import Settings


def month_start(now: datetime) -> datetime:
    local = now.astimezone(BERLIN)
    return local.replace(day=1, hour=0, minute=0, second=0, microsecond=0)


def make_context(
    settings: Settings,
    backend: Backend,
    authenticator: Authenticator,
    rules: PreviewRules,
    *,
    clock: Clock,
    sms_rate: SmsRate,
) -> ApiContext:
    pool = backend.pool
    if pool is None:
        raise RuntimeError("the API needs PostgreSQL")
    staging = Staging(pool, backend.keyring)
    staging.setup()
    slots = PostgresRegistrationSlots(pool)
    slots.setup()

    def month_volume(account_id: UUID, now: datetime) -> int:
        return messaging_queries.month_parts(pool, account_id, month_start(now))

    def list_source(account_id: UUID, list_id: UUID) -> list[Recipient]:
        """A list's recipients as they are now (the campaign prices and stages this
        snapshot, so later edits of the list do not change the send)."""
        services = backend.contact_services
        if services is None:
            raise RuntimeError("lists need PostgreSQL")
        return [
            Recipient(r.e164, r.fields)
            for batch in services.iter_recipients(account_id, list_id)
            for r in batch
        ]

    acceptance = SendAcceptance(
        accounts=backend.accounts,
        ledger=backend.ledger,
        messaging=backend.messaging,
        keys=backend.keyring,
        rules=rules,
        staging=staging,
        opt_outs=PostgresOptOuts(pool),
        validity=timedelta(hours=settings.message_validity_hours),
        month_volume=month_volume,
        single_send_max_recipients=settings.single_send_max_recipients,
        schedule_horizon=timedelta(days=settings.schedule_horizon_days),
    )
    return ApiContext(
        settings=settings,
        backend=backend,
        authenticator=authenticator,
        clock=clock,
        sms_rate=sms_rate,
        acceptance=acceptance,
        registrations=Registrations(
            backend.accounts,
            backend.ledger,
            Trial(settings.trial_credit, timedelta(days=settings.trial_validity_days)),
            RegistrationLimit(slots, settings.registrations_per_hour, backend.keyring),
        ),
        credits=Credits(
            backend.accounts,
            backend.ledger,
            package_validity_months=settings.package_validity_months,
        ),
        administration=Administration(backend.accounts, backend.ledger),
        numbers=rules.numbers,
        topology=Topology(settings.nats_prefix, settings.nats_duplicate_window),
        cancellation=SendCancellation(backend.messaging, PostgresClaimCounts(pool)),
        list_source=list_source,
    )


def pricing_context(request: Request[Any, Any, Any]) -> PricingContext:
    """The caller's tariff and this month's volume for ``/v1/messages/preview``."""
    ctx: ApiContext = request.app.state.ctx
    principal = request.user
    if not isinstance(principal, Principal) or principal.account_id is None:
        return PricingContext()
    account_id = principal.account_id
    account = ctx.backend.accounts.account(account_id)
    return PricingContext(
        tariff=account.tariff,
        month_volume=ctx.acceptance.month_volume(account_id, ctx.now()),
        screen=functools.partial(ctx.acceptance.verdicts.screen_preview, account_id),
    )
