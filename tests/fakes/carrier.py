"""In-memory fakes of the carrier sender's ports (``services.submission``,
``services.submit_parts``, ``services.status_queries``).

``FakeClaims`` keeps the rules of ``adapters.postgres.claims.PostgresClaims`` (a claim that was
not final is ``submitting`` its next attempt once claimed; only first attempts are given back),
and ``FakeResultRecorder`` sets the claims' states from the results it records, as the real
recorder does in the transaction of the ``CarrierReport``: so a redelivery in a test meets
exactly what it would meet in PostgreSQL."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from uuid import UUID

from adapters.jetstream.payloads import StatusQuery
from adapters.smpp.outcomes import PartAccepted, PartOutcome, QueryResult, SubmitRequest
from domain.messaging.claims import FINAL, SUBMITTING, Claim
from domain.messaging.records import DeliveryReport, SubmitResult


class FakeClaims:
    def __init__(self) -> None:
        self.claims: dict[UUID, Claim] = {}
        self.unclaimed: list[UUID] = []

    def claim(self, route: str, message_ids: Sequence[UUID]) -> dict[UUID, Claim]:
        found: dict[UUID, Claim] = {}
        for message_id in message_ids:
            claim = self.claims.get(message_id)
            if claim is None:
                self.claims[message_id] = Claim(SUBMITTING, 1)
                continue
            found[message_id] = claim
            if claim.state not in FINAL:
                self.claims[message_id] = Claim(SUBMITTING, claim.attempt + 1)
        return found

    def unclaim(self, message_ids: Iterable[UUID]) -> None:
        for message_id in message_ids:
            if self.claims.get(message_id) == Claim(SUBMITTING, 1):
                del self.claims[message_id]
                self.unclaimed.append(message_id)


class FakeCancellations:
    def __init__(self) -> None:
        self.cancelled_sends: set[UUID] = set()
        self.asked: list[UUID] = []

    def cancel(self, send_id: UUID) -> None:
        self.cancelled_sends.add(send_id)

    def cancelled(self, send_id: UUID) -> bool:
        self.asked.append(send_id)
        return send_id in self.cancelled_sends


class FakeResultRecorder:
    def __init__(self, claims: FakeClaims) -> None:
        self.claims = claims
        self.reports: list[list[SubmitResult]] = []

    @property
    def results(self) -> list[SubmitResult]:
        return [r for report in self.reports for r in report]

    def record(self, results: Sequence[SubmitResult]) -> None:
        self.reports.append(list(results))
        for r in results:  # the last result of a message wins, as in the real side effects
            self.claims.claims[r.message_id] = Claim(r.outcome.value, r.attempt)


Script = Callable[[SubmitRequest, int], PartOutcome]
"""The carrier's answer to a request, given how many requests it had before."""


class FakeCarrier:
    """Answers every submit with the next of ``answers`` (then accepts everything), or with
    what ``script`` says; ids are ``id-1``, ``id-2`` ... in submit order."""

    def __init__(self, *answers: PartOutcome, script: Script | None = None) -> None:
        self.answers = list(answers)
        self.script = script
        self.requests: list[SubmitRequest] = []
        self.query_answers: dict[str, QueryResult] = {}

    async def submit(self, request: SubmitRequest) -> PartOutcome:
        self.requests.append(request)
        if self.script is not None:
            return self.script(request, len(self.requests) - 1)
        if self.answers:
            return self.answers.pop(0)
        return PartAccepted(f"id-{len(self.requests)}")

    async def query(self, message_id: str, source: str) -> QueryResult:
        try:
            return self.query_answers[message_id]
        except KeyError:
            raise LookupError(message_id) from None


class FakeSleep:
    """Records the pauses asked for instead of taking them."""

    def __init__(self) -> None:
        self.pauses: list[float] = []

    async def __call__(self, seconds: float) -> None:
        self.pauses.append(seconds)


class FakeReportRecorder:
    def __init__(self) -> None:
        self.recorded: list[tuple[str, list[DeliveryReport]]] = []

    def record_deliveries(self, route: str, reports: Sequence[DeliveryReport]) -> object:
        self.recorded.append((route, list(reports)))
        return None


def status_query(message_id: UUID, carrier_id: str) -> StatusQuery:
    return StatusQuery(
        message_id=message_id,
        send_id=message_id,
        account_id=message_id,
        part=1,
        carrier_id=carrier_id,
        sender="Kontor",
    )
