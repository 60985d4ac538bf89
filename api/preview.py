"""``POST /v1/messages/preview``: what a send would cost and look like, per recipient.

The controller validates the request shape (msgspec), asks the domain's ``preview_messages``
and translates its result into the response Structs; the CLI (``kontor preview``) prints the
same Structs, so both show exactly one shape. Request-level problems are RFC 9457 errors via
``api.errors``: a template syntax error, an invalid sender ID, or a text whose fixed part alone
is over 1,500 characters (422, with the exact count). Everything that depends on the
recipient (number, rendered length, destination, price) is reported per recipient.

Dependencies (wired by whoever registers the controller, see ``preview_dependencies``):
``preview_rules`` (price book, destination rules, number parser; load once per process),
``pricing_context`` (the caller's tariff, parts sent this month, registered senders and the
send's verdicts for the account; the default is the platform's default tariff, a month volume
of 0 and no account's verdicts) and ``now``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Annotated, Any, Protocol

import msgspec
from litestar import Controller, post
from litestar.di import NamedDependency, Provide
from litestar.params import JSONBody

from api.schemas.common import Sender, text_meta
from api.schemas.messages import RecipientIn
from domain.money import format_eur
from domain.pricing.preview import Preview, PreviewRules, Recipient, preview_messages
from domain.tariff import DEFAULT_TARIFF, Tariff
from domain.text.exceptions import TextTooLongError
from domain.text.segments import MAX_CHARACTERS
from domain.text.template import Template

MAX_RECIPIENTS = 10_000
"""Per preview request; a campaign's full list is previewed by the campaign itself."""


TEMPLATE_SYNTAX = (
    "The message text. Placeholders: {field} is the recipient's field, {field|default} uses the "
    "default when the field is missing or blank, {{ and }} are literal braces. Field names are "
    "letters, digits, _ and -, matched case-insensitively (vorname = first_name, nachname = "
    "last_name, anrede = salutation, firma = company). Nothing is ever evaluated. At most 1,500 "
    "characters after rendering."
)


class PreviewRequest(msgspec.Struct, forbid_unknown_fields=True):
    text: Annotated[
        str,
        text_meta(MAX_CHARACTERS, 1, multiline=True, description=TEMPLATE_SYNTAX),
    ]
    recipients: Annotated[list[RecipientIn], msgspec.Meta(min_length=1, max_length=MAX_RECIPIENTS)]
    sender: Sender | None = None
    tariff: Tariff | None = None
    """Default: the caller's tariff."""
    normalize: bool = False
    """Replace smart characters (typographic quotes, dashes...) by their GSM equivalents."""
    keep_repeats: bool = False
    """As for a send: True shows a number listed more than once each time."""


class CharacterOut(msgspec.Struct):
    position: int
    character: str


class ReplacementOut(msgspec.Struct):
    position: int
    character: str
    replacement: str


class NormalizationOut(msgspec.Struct):
    """Smart characters in the text as written; positions refer to ``text``."""

    replacements: list[ReplacementOut]
    restores_gsm: bool
    segments_before: int
    segments_after: int
    segments_saved: int


class RecipientOut(msgspec.Struct):
    number: str
    """As given in the request."""
    to_e164: str | None
    to_display: str | None
    country: str | None
    number_type: str | None
    text: str | None
    encoding: str | None
    characters: int | None
    units: int | None
    segments: int | None
    price: int | None
    """Net, in 1/10,000 EUR."""
    price_eur: str | None
    delivery_reports: bool | None
    ucs2_characters: list[CharacterOut]
    error: str | None
    error_code: str | None


class PreviewResponse(msgspec.Struct):
    recipients: list[RecipientOut]
    tariff: str
    price_list_version: str
    currency: str
    total_price: int
    """Net total in 1/10,000 EUR of the recipients that can be sent to."""
    vat: int
    total_gross: int
    total_price_eur: str
    vat_eur: str
    total_gross_eur: str
    segments: int
    recipients_ok: int
    recipients_failed: int
    normalization: NormalizationOut


def to_response(preview: Preview, numbers: list[str]) -> PreviewResponse:
    """The response for a preview of recipients whose numbers were given as ``numbers``."""
    rows = [
        RecipientOut(
            number=raw,
            to_e164=row.to_e164,
            to_display=row.to_display,
            country=row.region,
            number_type=row.number_type and str(row.number_type),
            text=row.text,
            encoding=row.encoding and str(row.encoding),
            characters=row.characters,
            units=row.units,
            segments=row.segments,
            price=row.price,
            price_eur=None if row.price is None else format_eur(row.price),
            delivery_reports=row.delivery_reports,
            ucs2_characters=[CharacterOut(c.position, c.character) for c in row.ucs2_characters],
            error=row.error,
            error_code=row.error_code,
        )
        for raw, row in zip(numbers, preview.recipients, strict=True)
    ]
    totals, report = preview.totals, preview.replacements
    return PreviewResponse(
        recipients=rows,
        tariff=str(preview.tariff),
        price_list_version=preview.price_list_version,
        currency="EUR",
        total_price=totals.net,
        vat=totals.vat,
        total_gross=totals.gross,
        total_price_eur=format_eur(totals.net),
        vat_eur=format_eur(totals.vat),
        total_gross_eur=format_eur(totals.gross),
        segments=totals.parts,
        recipients_ok=preview.recipients_ok,
        recipients_failed=preview.recipients_failed,
        normalization=NormalizationOut(
            replacements=[
                ReplacementOut(r.position, r.character, r.replacement) for r in report.replacements
            ],
            restores_gsm=report.restores_gsm,
            segments_before=report.segments_before,
            segments_after=report.segments_after,
            segments_saved=report.segments_saved,
        ),
    )


class Screen(Protocol):
    def __call__(self, preview: Preview, sender: str | None, *, keep_repeats: bool) -> Preview: ...


@dataclass(frozen=True, slots=True)
class PricingContext:
    """What the caller's account brings to a preview."""

    tariff: Tariff = DEFAULT_TARIFF
    month_volume: int = 0
    """SMS parts the account sent this calendar month (Europe/Berlin)."""
    registered_senders: Mapping[str, frozenset[str]] = field(default_factory=dict)
    """Country -> sender IDs the account registered there."""
    screen: Screen | None = None
    """The send's verdicts for the caller's account (``services.send_verdicts``): a blocked
    sender or an inactive account refused, opted-out and repeated numbers skipped, as the send
    does. None (no account): the preview engine's verdicts only."""


def provide_pricing_context() -> PricingContext:
    """The default for callers without an account: default tariff, nothing sent yet."""
    return PricingContext()


def preview_dependencies(
    rules: PreviewRules,
    pricing_context: Callable[..., Any] = provide_pricing_context,
    clock: Callable[[], datetime] = lambda: datetime.now(UTC),
) -> dict[str, Provide]:
    """Litestar ``dependencies`` for ``PreviewController``. ``pricing_context`` may take any
    Litestar-injectable parameters (``request``, other dependencies) and must return a
    ``PricingContext``."""

    def provide_rules() -> PreviewRules:
        return rules

    def provide_now() -> datetime:
        return clock()

    return {
        "preview_rules": Provide(provide_rules, sync_to_thread=False),
        "pricing_context": Provide(pricing_context, sync_to_thread=False),
        "now": Provide(provide_now, sync_to_thread=False),
    }


def check_text(text: str) -> None:
    """Refuse a text that no rendering can bring under the limit (the placeholders left out,
    it is already too long); raises ``TemplateSyntaxError`` for a malformed template."""
    fixed = Template.compile(text).literal_text
    if len(fixed) > MAX_CHARACTERS:
        raise TextTooLongError(len(fixed), MAX_CHARACTERS)


class PreviewController(Controller):
    path = "/v1/messages/preview"
    tags = ["messages"]  # noqa: RUF012 - Litestar's class attribute

    @post(status_code=200, sync_to_thread=True, summary="Preview a message for recipients")
    def preview(
        self,
        data: JSONBody[PreviewRequest],
        preview_rules: NamedDependency[PreviewRules],
        pricing_context: NamedDependency[PricingContext],
        now: NamedDependency[datetime],
    ) -> PreviewResponse:
        return run_preview(data, preview_rules, pricing_context, now)


def run_preview(
    data: PreviewRequest, rules: PreviewRules, pricing: PricingContext, now: datetime
) -> PreviewResponse:
    """A preview as the endpoint answers it and the application's compose page shows it: the
    figures the send will be charged."""
    check_text(data.text)
    preview = preview_messages(
        data.text,
        [Recipient(r.number, r.fields) for r in data.recipients],
        rules=rules,
        tariff=data.tariff or pricing.tariff,
        month_volume=pricing.month_volume,
        now=now,
        sender=data.sender,
        normalize_text=data.normalize,
        registered_senders=pricing.registered_senders,
    )
    if pricing.screen is not None:
        preview = pricing.screen(preview, data.sender, keep_repeats=data.keep_repeats)
    return to_response(preview, [r.number for r in data.recipients])
