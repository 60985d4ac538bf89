"""Destination rules per country: where we send, under which sender, with which reports.

The rules are configuration data (``adapters/data/destinations.toml`` by default), not code:
blocked countries receive nothing; countries that need a registered sender ID receive only
messages whose sender the account registered for that country; countries without delivery
reports are sent to, but their messages can at best end as *unconfirmed*, and the preview says
so. Countries are ISO 3166-1 alpha-2 region codes as phonenumbers assigns them.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from domain.phone.exceptions import DestinationBlockedError, SenderNotRegisteredError
from domain.phone.number import PhoneNumber
from domain.text.sender import SenderId


@dataclass(frozen=True, slots=True)
class DestinationRules:
    blocked: frozenset[str] = frozenset()
    sender_registration_required: frozenset[str] = frozenset()
    without_delivery_reports: frozenset[str] = frozenset()
    notes: Mapping[str, str] = field(default_factory=dict)
    """Optional explanation per country, shown to operators (for example why it is blocked)."""

    def check(
        self,
        number: PhoneNumber,
        sender: SenderId | None,
        registered_senders: Mapping[str, frozenset[str]],
    ) -> None:
        """Raise when a message to ``number`` from ``sender`` may not be sent.

        ``registered_senders`` maps a region to the sender IDs the account registered there.
        """
        region = number.region
        if region in self.blocked:
            raise DestinationBlockedError(region)
        if region in self.sender_registration_required and (
            sender is None or sender.value not in registered_senders.get(region, frozenset())
        ):
            raise SenderNotRegisteredError(region, sender.value if sender else None)

    def has_delivery_reports(self, region: str) -> bool:
        return region not in self.without_delivery_reports
