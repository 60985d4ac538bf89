"""List campaigns while they are accepted in the background (``services.list_acceptance``): the
``202`` of ``POST /v1/campaigns`` with a ``list_id``, and the campaign as its job shows it until
it is a send (then ``api.send_views.campaign_read`` shows it, with the job's ``acceptance``)."""

from __future__ import annotations

from datetime import timedelta
from uuid import UUID

from api.context import ApiContext
from api.errors import ProblemError, refusal_problem
from api.schemas.messages import AcceptanceRead, CampaignAccepted, CampaignRead
from domain.messaging.exceptions import SendNotFoundError
from domain.messaging.list_acceptance import OPEN, AcceptanceJob, JobState
from domain.messaging.send import Send
from services.acceptance import SendRequest
from services.list_acceptance import ListAcceptance, ListCampaign

SHOWN_AFTER_ENDING = timedelta(days=7)
"""How long a refused or cancelled list campaign stays in the account's campaign list."""


def list_acceptance(ctx: ApiContext) -> ListAcceptance:
    if ctx.list_acceptance is None:
        raise ProblemError(422, "list-unavailable", "List unavailable", "lists are not available")
    return ctx.list_acceptance


def begin(ctx: ApiContext, request: SendRequest) -> tuple[CampaignAccepted, bool]:
    """Store the campaign's acceptance job; the answer and whether it repeats an earlier one."""
    begun = list_acceptance(ctx).begin(request, ctx.now())
    return accepted_body(begun), begun.repeated


def accepted_body(begun: ListCampaign) -> CampaignAccepted:
    job, send = begun.job, begun.send
    acceptance = acceptance_read(job) if job is not None else None
    if send is not None:  # a repeated request of a campaign accepted meanwhile
        return send_accepted(send, repeated=begun.repeated, acceptance=acceptance)
    if job is None:  # pragma: no cover - begin returns one or the other
        raise RuntimeError("a list campaign without job or send")
    return CampaignAccepted(
        campaign_id=job.send_id,
        state=campaign_state(job),
        recipients=job.list_size,
        parts=None,
        expected_cost=None,
        skipped=dict(job.skipped),
        review_required=False,
        send_at=job.schedule_at,
        repeated=begun.repeated,
        acceptance=acceptance,
    )


def send_accepted(
    send: Send, *, repeated: bool, acceptance: AcceptanceRead | None = None
) -> CampaignAccepted:
    """The answer for a campaign that is a send."""
    return CampaignAccepted(
        campaign_id=send.id,
        state=send.state.value,
        recipients=send.total,
        parts=send.parts,
        expected_cost=send.expected_cost,
        skipped={s.reason: s.count for s in send.skipped},
        review_required=send.review_required,
        send_at=send.schedule_at,
        repeated=repeated,
        acceptance=acceptance,
    )


def campaign_state(job: AcceptanceJob) -> str:
    """The campaign's state while it is its job: ``accepting`` until it is reserved (then it
    is a send and has the send's states), or how it ended."""
    return "accepting" if job.state in OPEN or job.state is JobState.ACCEPTED else job.state.value


def acceptance_read(job: AcceptanceJob) -> AcceptanceRead:
    problem = None
    if job.refusal is not None:
        problem = refusal_problem(job.refusal, f"/v1/campaigns/{job.send_id}")
    return AcceptanceRead(
        state=job.state.value,
        list_recipients=job.list_size,
        priced=job.read,
        staged=job.staged,
        reserved=job.state is JobState.ACCEPTED,
        parts=job.parts,
        expected_cost=job.expected,
        skipped=dict(job.skipped),
        problem=problem,
    )


def own_job(ctx: ApiContext, account_id: UUID, campaign_id: UUID) -> AcceptanceJob:
    """The account's campaign that is still (or only) its acceptance job; 404 otherwise."""
    job = ctx.list_acceptance.jobs.get(campaign_id) if ctx.list_acceptance else None
    if job is None or job.account_id != account_id:
        raise SendNotFoundError(campaign_id)
    return job


def job_campaign_read(job: AcceptanceJob) -> CampaignRead:
    ended = job.state in {JobState.REFUSED, JobState.CANCELLED}
    return CampaignRead(
        campaign_id=job.send_id,
        name=job.name,
        lane="bulk",
        state=campaign_state(job),
        sender=job.sender,
        tariff=job.tariff.value,
        recipients=job.list_size,
        recorded=0,
        parts=job.parts,
        expected_cost=job.expected,
        cost_so_far=0,
        counts={},
        skipped=[{"reason": r, "count": n} for r, n in sorted(job.skipped.items())],
        review_required=False,
        send_at=job.schedule_at,
        created_at=job.created_at,
        completed_at=job.updated_at if ended else None,
        eta_seconds=None,
        acceptance=acceptance_read(job),
    )


def unaccepted_reads(ctx: ApiContext, account_id: UUID) -> list[CampaignRead]:
    """The account's list campaigns that are not a send: being accepted, or refused or
    cancelled in the last ``SHOWN_AFTER_ENDING``."""
    if ctx.list_acceptance is None:
        return []
    jobs = ctx.list_acceptance.jobs.unaccepted(account_id, ctx.now() - SHOWN_AFTER_ENDING)
    return [job_campaign_read(job) for job in jobs]


def cancel(ctx: ApiContext, account_id: UUID, campaign_id: UUID) -> CampaignRead:
    """Cancel a campaign while its list is accepted (nothing was reserved or sent)."""
    return job_campaign_read(list_acceptance(ctx).cancel(campaign_id, account_id))
