"""In-memory fakes of the carrier sender's ports (``services.submission``,
``services.submit_parts``, ``services.status_queries``).

``FakeClaims`` keeps the rules of ``adapters.postgres.claims.PostgresClaims`` (a claim is taken
for an attempt only if no live sender holds it and it is not final; only first attempts are
given back; ``die`` ends a sender's lease), and ``FakeResultRecorder`` sets the claims' states
from the results it records, as the real recorder does in the transaction of the
``CarrierReport``: so a redelivery in a test meets exactly what it would meet in PostgreSQL.
``FakeCarrier`` asks ``admit`` before it "writes" a part, as the SMPP client does."""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from datetime import datetime
from uuid import UUID

from eventsourcing.persistence import OperationalError

from adapters.jetstream.payloads import StatusQuery
from adapters.smpp.outcomes import NotSent, PartAccepted, PartOutcome, QueryResult, SubmitRequest
from domain.messaging.claims import SUBMITTING, Claim, ClaimTicket
from domain.messaging.records import DeliveryReport, SubmitResult
from services.ports import Clock
from services.submit_parts import Admit


class FakeClaims:
    def __init__(self, owner: str = "me", clock: Clock | None = None) -> None:
        self.owner = owner
        self.clock = clock
        """Ages claims (``Claim.age``) when given; without one every claim is brand new."""
        self.set_at: dict[UUID, datetime] = {}
        self.claims: dict[UUID, Claim] = {}
        self.owners: dict[UUID, str] = {}
        self.alive: set[str] = {owner}
        self.unclaimed: list[UUID] = []
        self.takes: list[list[UUID]] = []
        self.failing = 0
        """Takes to refuse as a database that is away would."""
        self.refusal: Exception = OperationalError("the database is away")
        """What a refused take raises."""

    def die(self, owner: str) -> None:
        self.alive.discard(owner)

    def earlier(self, message_ids: Sequence[UUID]) -> dict[UUID, Claim]:
        found: dict[UUID, Claim] = {}
        for message_id in message_ids:
            claim = self.claims.get(message_id)
            if claim is not None:
                held = claim.state == SUBMITTING and self.owners.get(message_id) in self.alive
                found[message_id] = Claim(
                    claim.state, claim.attempt, held=held, age=self._age(message_id)
                )
        return found

    def put(self, message_id: UUID, claim: Claim) -> None:
        self.claims[message_id] = claim
        if self.clock is not None:
            self.set_at[message_id] = self.clock()

    def _age(self, message_id: UUID) -> float:
        if self.clock is None or message_id not in self.set_at:
            return 0.0
        return (self.clock() - self.set_at[message_id]).total_seconds()

    def take(self, tickets: Sequence[ClaimTicket]) -> set[UUID]:
        if self.failing:
            self.failing -= 1
            raise self.refusal
        self.takes.append([t.message_id for t in tickets])
        taken: set[UUID] = set()
        for message_id, attempt in ((t.message_id, t.attempt) for t in tickets):
            claim = self.earlier([message_id]).get(message_id)
            if claim is not None and (claim.final or claim.held or claim.attempt >= attempt):
                continue
            self.put(message_id, Claim(SUBMITTING, attempt))
            self.owners[message_id] = self.owner
            taken.add(message_id)
        return taken

    def give_back(self, message_ids: Iterable[UUID]) -> None:
        for message_id in message_ids:
            claim = self.claims.get(message_id)
            if claim is None or claim.state != SUBMITTING:
                continue
            if self.owners.get(message_id) != self.owner:
                continue
            if claim.attempt == 1:
                del self.claims[message_id]
            else:  # uncertain again, as it was before this attempt took it
                self.put(message_id, Claim("uncertain", claim.attempt - 1))
            self.unclaimed.append(message_id)


class FakeCancellations:
    def __init__(self) -> None:
        self.cancelled_sends: set[UUID] = set()
        self.asked: list[UUID] = []

    def cancel(self, send_id: UUID) -> None:
        self.cancelled_sends.add(send_id)

    def cancelled(self, send_ids: Collection[UUID]) -> set[UUID]:
        self.asked.extend(send_ids)
        return self.cancelled_sends.intersection(send_ids)


class FakeResultRecorder:
    def __init__(self, claims: FakeClaims) -> None:
        self.claims = claims
        self.reports: list[list[SubmitResult]] = []
        self.handsets: dict[UUID, str] = {}
        self.failing = 0
        """Reports to refuse as a database that is away would."""
        self.refusal: Exception = OperationalError("the database is away")
        """What a refused report raises."""

    @property
    def results(self) -> list[SubmitResult]:
        return [r for report in self.reports for r in report]

    def record(self, results: Sequence[SubmitResult], handsets: Mapping[UUID, str]) -> None:
        if self.failing:
            self.failing -= 1
            raise self.refusal
        self.reports.append(list(results))
        self.handsets.update(handsets)
        for r in results:  # the last result of a message wins, as in the real side effects,
            claim = self.claims.claims.get(r.message_id)  # but never over a final or later one
            if claim is None or not (claim.final or claim.attempt > r.attempt):
                self.claims.put(r.message_id, Claim(r.outcome.value, r.attempt))


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

    async def submit(self, request: SubmitRequest, admit: Admit | None = None) -> PartOutcome:
        if admit is not None and not await admit():
            return NotSent("not admitted")
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
