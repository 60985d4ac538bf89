"""The preview: what a send would be, recipient by recipient, before anything is sent.

The one engine behind the preview endpoint, the CLI, and later the send path: for each
recipient it parses the number, renders the template with the recipient's fields, normalises
smart characters when asked, measures encoding and parts, checks the destination rules and
prices the parts (volume tiers counted in recipient order). Rendering happens first, so a long
name can push one recipient into a second part.

A refused recipient gets an ``error`` (the first refusal: number, then text, then destination,
then price) with every other field filled as far as it is known; it is not priced and does not
count towards the month volume. Problems of the request as a whole raise: a template syntax
error, an invalid sender ID, no price list valid at ``now``.

Results are ``NamedTuple`` rows because a campaign preview builds 100,000 of them.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import NamedTuple

from domain.phone.destinations import DestinationRules
from domain.phone.exceptions import InvalidPhoneNumberError, PhoneError
from domain.phone.number import NumberType, PhoneNumber
from domain.phone.parser import PhoneNumberParser
from domain.pricing.exceptions import PricingError
from domain.pricing.pricelist import PriceBook
from domain.pricing.quote import Quote, QuoteTotals
from domain.tariff import Tariff
from domain.text.compose import compose
from domain.text.exceptions import TextError
from domain.text.gsm import non_gsm_positions
from domain.text.segments import Encoding, ForcingCharacter, TextSize, check_length, size_of
from domain.text.sender import SenderId
from domain.text.smart import ReplacementReport, normalize, suggest_replacements
from domain.text.template import Template

_NO_FIELDS: Mapping[str, str] = {}
_NO_SENDERS: Mapping[str, frozenset[str]] = {}


class Recipient(NamedTuple):
    number: str
    fields: Mapping[str, str] = _NO_FIELDS


class RecipientPreview(NamedTuple):
    to_e164: str | None
    to_display: str | None
    region: str | None
    number_type: NumberType | None
    text: str | None
    """The rendered (and, when asked, normalised) text."""
    encoding: Encoding | None
    characters: int | None
    units: int | None
    segments: int | None
    price: int | None
    """Net, in 1/10,000 EUR."""
    delivery_reports: bool | None
    ucs2_characters: tuple[ForcingCharacter, ...]
    error: str | None
    error_code: str | None


@dataclass(frozen=True, slots=True)
class Preview:
    recipients: list[RecipientPreview]
    totals: QuoteTotals
    """Net, VAT and gross of the recipients that can be sent to, and their parts."""
    tariff: Tariff
    price_list_version: str
    recipients_ok: int
    recipients_failed: int
    replacements: ReplacementReport
    """Smart characters in the text as written (positions in the template)."""


@dataclass(frozen=True, slots=True)
class PreviewRules:
    """What the platform brings to every preview: load once per process and share."""

    prices: PriceBook
    destinations: DestinationRules
    numbers: PhoneNumberParser


def preview_messages(
    text: str,
    recipients: Sequence[Recipient],
    *,
    rules: PreviewRules,
    tariff: Tariff,
    month_volume: int,
    now: datetime,
    sender: str | None = None,
    normalize_text: bool = False,
    registered_senders: Mapping[str, frozenset[str]] = _NO_SENDERS,
) -> Preview:
    """Preview ``text`` for ``recipients``.

    ``month_volume``: parts the account sent this calendar month; ``registered_senders``:
    country -> sender IDs the account registered there (see ``DestinationRules``).
    """
    template = Template.compile(text)
    sender_id = SenderId.parse(sender) if sender else None
    quote = Quote(rules.prices.at(now), tariff, month_volume)
    run = _Run(template, sender_id, quote, rules, registered_senders)
    preview_one = run.preview_normalized if normalize_text else run.preview
    results = [preview_one(recipient) for recipient in recipients]
    failed = sum(1 for r in results if r.error is not None)
    return Preview(
        recipients=results,
        totals=quote.totals(),
        tariff=tariff,
        price_list_version=quote.price_list.version,
        recipients_ok=len(results) - failed,
        recipients_failed=failed,
        replacements=suggest_replacements(text),
    )


@dataclass(slots=True)
class _Run:
    template: Template
    sender: SenderId | None
    quote: Quote
    rules: PreviewRules
    registered_senders: Mapping[str, frozenset[str]]

    def preview_normalized(self, recipient: Recipient) -> RecipientPreview:
        return self.preview(recipient, normalize_text=True)

    def preview(self, recipient: Recipient, normalize_text: bool = False) -> RecipientPreview:
        """The straight path for a recipient that can be sent to; any refusal takes
        ``_refuse``, which works out every field that can still be known."""
        rules = self.rules
        try:
            number = rules.numbers.parse(recipient.number)
            rendered, size = compose(self.template, recipient.fields, normalize_text=normalize_text)
            rules.destinations.check(number, self.sender, self.registered_senders)
            # Last: a refused price counts nothing, so _refuse may ask again.
            price = self.quote.add(number.region, number.number_type, size.segments)
        except (PhoneError, TextError, PricingError):
            return self._refuse(recipient, normalize_text)
        encoding = size.encoding
        return RecipientPreview(
            number.e164,
            "00" + number.e164[1:],
            number.region,
            number.number_type,
            rendered,
            encoding,
            size.characters,
            size.units,
            size.segments,
            price,
            number.region not in rules.destinations.without_delivery_reports,
            _forcing(rendered) if encoding is Encoding.UCS2 else (),
            None,
            None,
        )

    def _refuse(self, recipient: Recipient, normalize_text: bool) -> RecipientPreview:
        rules = self.rules
        error: Exception | None = None
        number: PhoneNumber | None = None
        try:
            number = rules.numbers.parse(recipient.number)
        except InvalidPhoneNumberError as exc:
            error = exc
        rendered: str | None = None
        size: TextSize | None = None
        try:
            rendered = self.template.render(recipient.fields)
            if normalize_text:
                rendered = normalize(rendered)
            size = size_of(rendered)
            check_length(rendered)
        except TextError as exc:
            error = error or exc
        if error is None and number is not None and size is not None:
            try:
                rules.destinations.check(number, self.sender, self.registered_senders)
                self.quote.add(number.region, number.number_type, size.segments)
            except (PhoneError, PricingError) as exc:
                error = exc
        if error is None:  # pragma: no cover - preview() only calls this after a refusal
            raise RuntimeError("a recipient was refused without an error")
        return RecipientPreview(
            to_e164=number.e164 if number else None,
            to_display=number.display if number else None,
            region=number.region if number else None,
            number_type=number.number_type if number else None,
            text=rendered,
            encoding=size.encoding if size else None,
            characters=size.characters if size else None,
            units=size.units if size else None,
            segments=size.segments if size and not isinstance(error, TextError) else None,
            price=None,
            delivery_reports=rules.destinations.has_delivery_reports(number.region)
            if number
            else None,
            ucs2_characters=_forcing(rendered)
            if rendered is not None and size and size.encoding is Encoding.UCS2
            else (),
            error=str(error),
            error_code=getattr(error, "code", None),
        )


def _forcing(text: str) -> tuple[ForcingCharacter, ...]:
    return tuple(ForcingCharacter(p, c) for p, c in non_gsm_positions(text))
