"""Quotes: what a send costs, per recipient and in total, net with VAT shown separately.

A ``Quote`` is built recipient by recipient in send order (``add``), because volume tiers count
the account's parts in the calendar month: the running volume starts at the parts already sent
this month and grows with every priced part. VAT is computed once on the total net
(``domain.money.vat_on``, half-up to the minor unit), as the invoice does, not per recipient.
"""

from __future__ import annotations

from dataclasses import dataclass

from domain.money import vat_on
from domain.phone.number import NumberType
from domain.pricing.pricelist import PriceList, Rate
from domain.tariff import Tariff


@dataclass(frozen=True, slots=True)
class QuoteTotals:
    net: int
    vat: int
    gross: int
    parts: int


class Quote:
    """A running quote in one tariff under one price list version."""

    __slots__ = ("_rates", "month_volume", "net", "parts", "price_list", "tariff")

    def __init__(self, price_list: PriceList, tariff: Tariff, month_volume: int) -> None:
        if month_volume < 0:
            raise ValueError("the month volume cannot be negative")
        self.price_list = price_list
        self.tariff = tariff
        self.month_volume = month_volume
        """Parts of the month so far, including the parts quoted here."""
        self.net = 0
        self.parts = 0
        self._rates: dict[tuple[str, NumberType], Rate] = {}

    def add(self, region: str, number_type: NumberType, parts: int) -> int:
        """Price one recipient's message of ``parts`` parts and count it; raises
        ``NoPriceError`` (and counts nothing) when the destination has no price."""
        rate = self._rates.get((region, number_type))
        if rate is None:
            rate = self._rates[region, number_type] = self.price_list.rate_for(
                self.tariff, region, number_type
            )
        price = rate.cost(self.month_volume, parts)
        self.month_volume += parts
        self.parts += parts
        self.net += price
        return price

    def totals(self) -> QuoteTotals:
        vat = vat_on(self.net)
        return QuoteTotals(self.net, vat, self.net + vat, self.parts)
