"""Building the request context: the send acceptance process, the preview's pricing context."""

from __future__ import annotations

import functools
from datetime import timedelta
from typing import Any

from litestar import Request

from adapters.backend import Backend
from adapters.contacts.optouts import PostgresOptOuts
from adapters.crypto.inbound_keys import PLATFORM_LOOKUP
from adapters.crypto.passwords import Passwords
from adapters.jetstream.topology import Topology
from adapters.postgres.acceptance_jobs import PostgresAcceptanceJobs
from adapters.postgres.claims import PostgresClaimCounts
from adapters.postgres.mail_outbox import PostgresMailOutbox
from adapters.postgres.registration_limit import PostgresRegistrationSlots
from adapters.postgres.send_staging import Staging
from adapters.postgres.sessions import PostgresAttempts, PostgresOneTimeTokens, PostgresSessions
from api.auth import Authenticator, Principal
from api.context import ApiContext, Clock, SmsRate
from api.preview import PricingContext
from domain.pricing.preview import PreviewRules
from projections import messaging_queries
from services.acceptance import SendAcceptance
from services.adjustments import Credits
from services.administration import Administration
from services.cancellation import SendCancellation
from services.list_acceptance import ListAcceptance
from services.password_reset import PasswordResets
from services.registration import Registrations, Trial, Versions
from services.registration_limit import RegistrationLimit
from services.signin import SignIn
from services.team import TeamService
from services.two_factor import TwoFactor
from settings import Settings


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
    sessions = PostgresSessions(pool)
    sessions.setup()
    passwords = Passwords()
    keyring = backend.keyring
    attempts = PostgresAttempts(pool)
    outbox = PostgresMailOutbox(pool)
    outbox.setup()
    base = settings.public_url or f"http://{settings.http_host}:{settings.http_port}"
    signin = SignIn(
        backend.accounts,
        sessions,
        attempts,
        passwords,
        lambda address: keyring.lookup_hash(PLATFORM_LOOKUP, "signin:" + address),
        clock,
    )

    acceptance = SendAcceptance.configured(
        settings,
        backend,
        rules=rules,
        staging=staging,
        opt_outs=PostgresOptOuts(pool),
        month_volume=messaging_queries.ReadModelMonthVolume(pool),
    )
    jobs = PostgresAcceptanceJobs(pool, backend.keyring, staging)
    jobs.setup()
    list_acceptance = (
        ListAcceptance(acceptance, jobs, backend.contact_services)
        if backend.contact_services is not None
        else None
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
            passwords,
            Versions(settings.terms_version, settings.privacy_version),
        ),
        password_resets=PasswordResets(
            backend.accounts,
            PostgresOneTimeTokens(pool, "password-reset"),
            outbox,
            passwords,
            sessions,
            attempts,
            clock,
            link=lambda token: f"{base.rstrip('/')}/reset-password#token={token}",
        ),
        team=TeamService(
            backend.accounts,
            PostgresOneTimeTokens(pool, "invitation"),
            outbox,
            passwords,
            sessions,
            clock,
            link=lambda token: f"{base.rstrip('/')}/accept-invitation#token={token}",
            attempts=attempts,
        ),
        signin=signin,
        two_factor=TwoFactor(backend.accounts, sessions, signin, clock),
        credits=Credits(
            backend.accounts,
            backend.ledger,
            package_validity_months=settings.package_validity_months,
        ),
        administration=Administration(backend.accounts, backend.ledger),
        numbers=rules.numbers,
        topology=Topology(settings.nats_prefix, settings.nats_duplicate_window),
        cancellation=SendCancellation(backend.messaging, PostgresClaimCounts(pool)),
        list_acceptance=list_acceptance,
    )


def pricing_context(request: Request[Any, Any, Any]) -> PricingContext:
    """The caller's tariff and this month's volume for ``/v1/messages/preview``."""
    return pricing_context_for(request.app.state.ctx, request.user)


def pricing_context_for(
    ctx: ApiContext, principal: object, *, as_typed: bool = False
) -> PricingContext:
    """A principal's tariff, month volume and verdicts for a preview (none: the defaults).
    ``as_typed``: for the compose page's preview as the user types, the month volume as
    cached for display (``ApiContext.month_volume_of``, seconds old: summing a big account's
    month on every keystroke costs more than the preview); its confirmation asks afresh."""
    if not isinstance(principal, Principal) or principal.account_id is None:
        return PricingContext()
    account_id = principal.account_id
    account = ctx.backend.accounts.account(account_id)
    volume = (ctx.month_volume_of(account_id) if as_typed
              else ctx.acceptance.month_volume(account_id, ctx.now()))  # fmt: skip
    return PricingContext(
        tariff=account.tariff,
        month_volume=volume,
        screen=functools.partial(ctx.acceptance.verdicts.screen_preview, account_id),
    )
