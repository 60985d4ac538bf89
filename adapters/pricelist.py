"""Loading price lists from TOML data files into domain objects.

The repository ships a default in ``adapters/data/pricelist.toml``; an installation can point
at its own file. Prices are written in EUR as strings with at most four decimals (``"0.0790"``)
and become integers in 1/10,000 EUR; a float in the file is an error, never a silent rounding.
Every problem is an ``InvalidPriceListError`` naming its place.
"""

from __future__ import annotations

import tomllib
from collections.abc import Callable, Mapping
from datetime import datetime
from importlib import resources
from pathlib import Path
from typing import Any

from domain.money import parse_eur
from domain.phone.number import NumberType
from domain.phone.parser import PhoneNumberParser
from domain.pricing.exceptions import InvalidPriceListError
from domain.pricing.preview import PreviewRules
from domain.pricing.pricelist import PriceBook, PriceList, Rate, VolumeTier
from domain.tariff import Tariff


def read_default(name: str) -> str:
    """A data file shipped in ``adapters/data``."""
    return resources.files("adapters").joinpath("data", name).read_text(encoding="utf-8")


def default_price_per_sms(path: Path | None = None) -> Callable[[Tariff, datetime], int]:
    """List price of one SMS to a German mobile number at a tariff and time (first tier of the
    price list valid then, before volume discounts; the balance uses ``default_sms_rate``)."""
    book = load_price_book(path)

    def price_per_sms(tariff: Tariff, at: datetime) -> int:
        return book.at(at).list_price(tariff)

    return price_per_sms


def default_sms_rate(path: Path | None = None) -> Callable[[Tariff, datetime], Rate]:
    """The rate (with its volume tiers) of an SMS to a German mobile number at a tariff and
    time: what the remaining credit is counted in ("Restvolumen"), at the tier the account's
    month volume has reached."""
    book = load_price_book(path)

    def sms_rate(tariff: Tariff, at: datetime) -> Rate:
        return book.at(at).rate_for(tariff, "DE", NumberType.MOBILE)

    return sms_rate


def load_price_book(path: Path | None = None) -> PriceBook:
    """The price book in ``path``, or the shipped default."""
    text = path.read_text(encoding="utf-8") if path else read_default("pricelist.toml")
    return parse_price_book(parse_toml(text, path or "pricelist.toml"))


def parse_toml(text: str, where: Path | str) -> dict[str, Any]:
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise InvalidPriceListError(f"{where}: {exc}") from exc


def parse_price_book(document: Mapping[str, Any]) -> PriceBook:
    versions = document.get("versions")
    if not isinstance(versions, list) or not versions:
        raise InvalidPriceListError("a price list needs at least one [[versions]] table")
    return PriceBook(_version(v, i) for i, v in enumerate(versions))


def _version(table: Mapping[str, Any], index: int) -> PriceList:
    name = str(table.get("version", f"#{index + 1}"))
    valid_from = _datetime(table.get("valid_from"), f"version {name}: valid_from")
    until = table.get("valid_until")
    valid_until = None if until is None else _datetime(until, f"version {name}: valid_until")
    rates = [
        rate
        for position, rate_table in enumerate(table.get("rates", []))
        for rate in _rates(rate_table, f"version {name}, rate #{position + 1}")
    ]
    return PriceList(name, valid_from, valid_until, rates)


def _datetime(value: object, where: str) -> datetime:
    if not isinstance(value, datetime) or value.tzinfo is None:
        raise InvalidPriceListError(f"{where} must be a date-time with a UTC offset")
    return value


def _rates(table: Mapping[str, Any], where: str) -> list[Rate]:
    try:
        tariff = Tariff(table["tariff"])
        number_type = NumberType(table["number_type"])
        countries = table["countries"]
        tiers = tuple(_tier(tier, where) for tier in table["tiers"])
    except KeyError as exc:
        raise InvalidPriceListError(f"{where}: {exc.args[0]} is missing") from exc
    except ValueError as exc:
        raise InvalidPriceListError(f"{where}: {exc}") from exc
    if not isinstance(countries, list) or not all(isinstance(c, str) for c in countries):
        raise InvalidPriceListError(f"{where}: countries must be a list of country codes")
    return [Rate(tariff, country, number_type, tiers) for country in countries]


def _tier(table: Mapping[str, Any], where: str) -> VolumeTier:
    start, price = table.get("from"), table.get("price")
    if not isinstance(start, int) or start < 0:
        raise InvalidPriceListError(f"{where}: a tier's from must be a whole number of parts")
    if not isinstance(price, str):
        raise InvalidPriceListError(f'{where}: prices are EUR strings such as "0.0790"')
    return VolumeTier(start, parse_eur(price))


def load_preview_rules(
    price_list: Path | None = None, destinations: Path | None = None
) -> PreviewRules:
    """Prices, destination rules and a number parser: what a preview needs (defaults when
    no paths are given). Load once per process; the parser keeps compiled patterns."""
    from adapters.destinations import load_destination_rules

    return PreviewRules(
        prices=load_price_book(price_list),
        destinations=load_destination_rules(destinations),
        numbers=PhoneNumberParser(),
    )
