"""An operator's question to the carrier about one part of a message (query_sm), and its
answer recorded as a delivery report (source ``query_sm``), like a receipt would be.

A question the carrier does not answer (an unknown id, a lost bind) records nothing and is
dropped: the operator asks again; the message keeps whatever state its receipts gave it. The
questions of a fetch are asked side by side (the bind's window bounds them) and their reports
recorded at once."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from datetime import datetime
from typing import Protocol

from adapters.jetstream.payloads import StatusQuery
from adapters.smpp.outcomes import QueryResult
from domain.messaging.records import DeliveryReport
from services.ports import Clock


class Querier(Protocol):
    """A bound SMPP connection (``adapters.smpp.client.SmppClient``)."""

    async def query(self, message_id: str, source: str) -> QueryResult: ...


class ReportRecorder(Protocol):
    """``domain.messaging.application.Messaging``."""

    def record_deliveries(self, route: str, reports: Sequence[DeliveryReport]) -> object: ...


def query_report(question: StatusQuery, answer: QueryResult, at: datetime) -> DeliveryReport:
    return DeliveryReport(
        message_id=question.message_id,
        send_id=question.send_id,
        account_id=question.account_id,
        part=question.part,
        carrier_id=question.carrier_id,
        state=answer.state.value,
        status_text=f"query_sm message_state={answer.message_state}",
        error_code=str(answer.error_code),
        final=answer.state.final,
        done_at=answer.final_date,
        received_at=at,
        source="query_sm",
    )


class StatusQueries:
    def __init__(
        self, *, route: str, carrier: Querier, recorder: ReportRecorder, clock: Clock
    ) -> None:
        self.route = route
        self.carrier = carrier
        self.recorder = recorder
        self.clock = clock

    async def answer(self, questions: Sequence[StatusQuery]) -> list[DeliveryReport]:
        """Ask the carrier each question and record the answers; the reports recorded."""
        answers = await asyncio.gather(
            *(self.carrier.query(q.carrier_id, q.sender) for q in questions),
            return_exceptions=True,
        )
        reports = [
            query_report(q, a, self.clock())
            for q, a in zip(questions, answers, strict=True)
            if not isinstance(a, BaseException)
        ]
        if reports:
            await asyncio.to_thread(self.recorder.record_deliveries, self.route, reports)
        return reports
