"""The sweeper's rounds: close reservations past their expiry (schedule time or acceptance,
plus the validity period) and complete their sends (a send still held for review then ends,
cancelled by the system); move the remainder of expired credit lots to expired credit; mark
messages without a final report after their validity period unconfirmed; finish registrations
a crash left without a wallet.

Candidates come from the read models (``Candidates``), and the aggregates decide, so a stale
read model can cause no wrong close.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol
from uuid import UUID

from eventsourcing.persistence import IntegrityError

from domain.ledger.application import Ledger
from domain.messaging.application import Messaging
from domain.messaging.exceptions import SendNotFoundError
from domain.messaging.records import DeliveryReport
from services.registration import RegistrationLog, Registrations
from services.settlement import finish_send

log = logging.getLogger(__name__)
UNCONFIRMED_BATCH = 5_000


class OpenMessage(Protocol):
    @property
    def message_id(self) -> UUID: ...

    @property
    def send_id(self) -> UUID: ...

    @property
    def account_id(self) -> UUID: ...


class Candidates(Protocol):
    """What may need the sweeper, read from the read models (``projections.sweep``)."""

    def reservations_due(self, now: datetime) -> list[UUID]:
        """Open reservations whose expiry has passed."""
        ...

    def expired_sends_not_completed(self, now: datetime) -> list[UUID]:
        """Reservations (by id) of sends left behind: expired, yet not completed."""
        ...

    def accounts_with_expired_lots(self, now: datetime) -> list[UUID]: ...

    def messages_without_final_report(
        self, recorded_before: datetime, limit: int
    ) -> Sequence[OpenMessage]:
        """Pending or buffered messages recorded before the given time."""
        ...


@dataclass(frozen=True)
class Swept:
    reservations: int
    accounts: int
    unconfirmed: int
    wallets: int

    def __bool__(self) -> bool:
        return any((self.reservations, self.accounts, self.unconfirmed, self.wallets))


class Sweeper:
    def __init__(
        self,
        ledger: Ledger,
        messaging: Messaging,
        candidates: Candidates,
        registrations: Registrations,
        registration_log: RegistrationLog,
        *,
        validity: timedelta,
    ) -> None:
        self.ledger = ledger
        self.messaging = messaging
        self.candidates = candidates
        self.registrations = registrations
        self.registration_log = registration_log
        self.validity = validity

    def sweep(self, now: datetime) -> Swept:
        closed = self.ledger.close_expired(self.candidates.reservations_due(now), now)
        stuck = self.candidates.expired_sends_not_completed(now)
        for reservation_id in dict.fromkeys([*closed, *stuck]):
            self.complete_send(reservation_id, now)
        accounts = self.candidates.accounts_with_expired_lots(now)
        for account_id in accounts:
            self.ledger.expire_lots(account_id, now)
        unconfirmed = self.mark_unconfirmed(now)
        wallets = self.registrations.repair_incomplete(self.registration_log, now)
        swept = Swept(len(closed), len(accounts), unconfirmed, wallets)
        if swept:
            log.info("swept", extra=vars(swept))
        return swept

    def complete_send(self, reservation_id: UUID, now: datetime) -> None:
        """A send whose reservation expired is complete: its unsent messages will not be sent
        (the carrier sender expires them; one still held for review records none) and no more
        money moves for it (see ``finish_send``)."""
        send_id = self.ledger.reservation(reservation_id).send_id
        try:
            if self.messaging.expire(send_id, now):
                log.info("send expired before it was recorded", extra={"send_id": str(send_id)})
            finish_send(self.ledger, self.messaging, send_id, now)
        except SendNotFoundError:  # the acceptance died between reserving and recording it
            log.info(
                "expired reservation without a send", extra={"reservation": str(reservation_id)}
            )
        except IntegrityError:  # settlement completed it at the same moment
            log.info("send completed meanwhile", extra={"send_id": str(send_id)})

    def mark_unconfirmed(self, now: datetime) -> int:
        """Messages without a final report after their validity period become unconfirmed."""
        rows = self.candidates.messages_without_final_report(now - self.validity, UNCONFIRMED_BATCH)
        reports = [
            DeliveryReport(
                message_id=row.message_id,
                send_id=row.send_id,
                account_id=row.account_id,
                part=0,
                carrier_id="",
                state="unknown",
                error_code=None,
                final=False,
                done_at=None,
                status_text="no final report within the validity period",
                received_at=now,
                source="validity",
            )
            for row in rows
        ]
        if reports:
            self.messaging.record_deliveries("validity", reports)
        return len(reports)
