"""The application's languages: German first, English switchable (cookie ``kontor_lang``).

Texts are written in English in the templates and code (``_("Sign in")``) and translated by the
catalogue ``locales/<lang>/LC_MESSAGES/messages.po``, read with Babel when the process first
needs it (no compile step, nothing generated in the checkout). Amounts, numbers, dates and
times are formatted by Babel for the language's region (de-DE, en-GB), times in Europe/Berlin,
the customers' time zone.
"""

from __future__ import annotations

import functools
import gettext
import io
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from babel import Locale
from babel.dates import format_date, format_datetime, format_time, format_timedelta
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.numbers import format_currency, format_decimal
from babel.support import Translations

LANGUAGES = {"de": "de_DE", "en": "en_GB"}
"""The languages offered, each with the region its figures are formatted for."""
DEFAULT_LANGUAGE = "de"
LANGUAGE_COOKIE = "kontor_lang"
BERLIN = ZoneInfo("Europe/Berlin")
LOCALES = Path(__file__).parent / "locales"
UNIT = Decimal(10_000)
"""Amounts are kept in 1/10,000 EUR."""


class RefusalDetail(str):
    """A refusal's detail as the API says it (English), with its problem type (``slug``) and
    members, so that a page can say it in the reader's language (``Texts.refusal``)."""

    slug: str
    members: dict[str, Any]

    def __new__(cls, detail: str, slug: str, members: dict[str, Any]) -> RefusalDetail:
        made = super().__new__(cls, detail)
        made.slug, made.members = slug, dict(members)
        return made


REFUSAL_TEXTS = {
    "not-found": "Nothing of that is visible to you.",
    "insufficient-credit": "The credit is not enough: %(shortfall)s are missing.",
    "send-limit-exceeded": "That is over a send limit: %(used)s of %(limit)s SMS used, "
    "%(requested)s more asked for.",
    "invalid-amount": "The amount is not valid.",
    "adjustment-reference-reused": "That reference was used already, with another amount.",
    "as-of-in-future": "There are no figures for a moment in the future.",
    "schedule-beyond-credit": "The credit expires before the scheduled time.",
    "payment-reference-reused": "That payment reference was used already.",
    "username-taken": "That username is taken.",
    "registration-limit": "Too many registrations from this address; try again later.",
    "account-not-active": "The account is not active.",
    "invalid-limit": "A limit is a whole number above zero.",
    "api-key-not-found": "There is no such API key.",
    "invalid-role": "Choose one of the roles.",
    "invalid-stop-word": "A STOP word is a single word of letters or digits, at most 30 long; "
    "at most 20 of them.",
    "last-api-key": "The account's last API key cannot be revoked.",
    "email-taken": "That e-mail address is taken.",
    "last-owner": "The account needs at least one owner.",
    "invitation-closed": "The invitation is no longer valid.",
    "invitation-limit": "Too many invitations; try again later.",
    "user-not-found": "There is no such user.",
    "user-removed": "The user was removed.",
    "sender-blocked": "The sender ID %(sender)s is blocked for this account.",
    "idempotency-key-reused": "This form was sent already with other content; start again.",
    "not-cancellable": "The send cannot be cancelled any more.",
    "nothing-to-cancel": "Every message of the send has gone already.",
    "not-awaiting-review": "The send is not awaiting review.",
    "send-expired": "The send's validity period has passed.",
    "schedule-in-past": "The scheduled time is in the past.",
    "schedule-too-far": "That is further ahead than a send can be scheduled.",
    "too-many-recipients": "Too many recipients: %(count)s, at most %(limit)s.",
    "no-recipients": "No recipient can be sent to (%(skipped)s skipped).",
    "text-too-long": "The text is too long: %(characters)s characters, at most %(limit)s.",
    "template-syntax": "A brace at character %(position)s opens or closes no placeholder; "
    "write {{ or }} for a brace itself.",
    "unknown-field": "The placeholder {%(field)s} has no value for a recipient.",
    "invalid-sender": "The sender ID is not valid: up to 11 letters and digits (no umlauts, "
    "no spaces) or up to 16 digits.",
    "invalid-number": "That is not a valid phone number.",
    "no-price": "That destination is not offered.",
    "list-not-found": "There is no such list.",
    "recipient-not-found": "There is no such recipient in the list.",
    "import-not-found": "There is no such import.",
    "opt-out-not-found": "That number is not on the opt-out list.",
    "invalid-list-name": "A list's name has 1 to 100 characters.",
    "list-importing": "The list is being imported into; try again when the import is done.",
    "duplicate-recipient": "That number is in the list already.",
    "empty-file": "The file is empty.",
    "file-too-large": "The file is too large.",
    "unsupported-file-type": "The file is neither CSV nor TXT.",
    "opt-out-withdrawal": "Say why the number may be written to again.",
}
"""Refusals as the pages say them (``%(member)s``: the problem's members); the others are
said as the API says them."""
MONEY_MEMBERS = frozenset({"required", "available", "shortfall"})
"""Members of the credit's refusals that are amounts (1/10,000 EUR)."""
SKIPS = {"opted_out": "Opted out", "repeated": "Repeated in the list"}
"""Why a send skips a recipient (``services.send_verdicts``), as the pages name it."""
ENTRIES = {
    "purchase": "Top-up",
    "trial": "Trial credit",
    "goodwill": "Goodwill credit",
    "refund": "Refund",
    "correction": "Correction",
    "returned_expired": "Expired credit returned",
    "expiry": "Credit expired",
    "expired_reactivate": "Expired credit reactivated",
    "expired_offset": "Expired credit offset",
    "hold": "Held for a send",
    "capture": "SMS charged",
    "release": "Released",
    "close": "Reservation closed",
}
"""The statement's kinds of booking (``domain.ledger.postings``), as the customer reads them."""
HISTORY_EVENTS = {
    "scheduled": "Scheduled",
    "recorded": "Recorded for sending",
    "carrier_result": "The carrier's answer",
    "delivery_report": "Delivery report",
    "reply": "Reply",
}
"""A message's history entries (``api.history``), as the customer reads them."""


@functools.cache
def translations(language: str) -> gettext.NullTranslations:
    """The catalogue of a language (English: the texts as written)."""
    path = LOCALES / language / "LC_MESSAGES" / "messages.po"
    if not path.exists():
        return gettext.NullTranslations()
    with path.open("rb") as handle:
        catalog = read_po(handle, locale=LANGUAGES[language])
    compiled = io.BytesIO()
    write_mo(compiled, catalog)
    compiled.seek(0)
    return Translations(compiled)


def language_of(cookie: str | None, accept_language: str | None) -> str:
    """The cookie's language if it is offered, else German (the platform's customers are
    German businesses; English is a click away)."""
    if cookie in LANGUAGES:
        return str(cookie)
    del accept_language  # German first, whatever the browser prefers
    return DEFAULT_LANGUAGE


@dataclass(frozen=True)
class Texts:
    """What a template needs of its language: ``_`` and the formatters."""

    language: str

    @property
    def locale(self) -> Locale:
        return Locale.parse(LANGUAGES[self.language])

    def gettext(self, message: str, **values: Any) -> str:
        text = translations(self.language).gettext(message)
        return text % values if values else text

    def money(self, amount: int) -> str:
        """An amount in EUR with cents (``1.234,50 €``)."""
        return format_currency(Decimal(amount) / UNIT, "EUR", locale=self.locale)

    def price(self, amount: int) -> str:
        """A price per SMS, to the tenth of a cent where it has one (``0,0790 €``)."""
        return format_currency(
            Decimal(amount) / UNIT, "EUR", format="#,##0.00##\xa0¤", currency_digits=False,
            locale=self.locale,
        )  # fmt: skip

    def entry(self, kind: str) -> str:
        """A statement line's kind of booking."""
        return self.gettext(ENTRIES[kind]) if kind in ENTRIES else kind

    def refusal(self, detail: RefusalDetail) -> str:
        """A refusal in the reader's language, its members formatted for them."""
        wanted = REFUSAL_TEXTS.get(detail.slug)
        if wanted is None:
            return str(detail)
        money = detail.slug == "insufficient-credit"
        values = {
            k: self.money(v) if money and k in MONEY_MEMBERS and isinstance(v, int)
            else self.number(v) if isinstance(v, int) and not isinstance(v, bool)
            else str(v)
            for k, v in detail.members.items()
        }  # fmt: skip
        try:
            return self.gettext(wanted) % values
        except (KeyError, ValueError, TypeError):  # a member missing: what the API says
            return str(detail)

    def skip(self, reason: str) -> str:
        """Why a send skips recipients (a preview's error codes as they are)."""
        return self.gettext(SKIPS[reason]) if reason in SKIPS else reason.replace("_", " ")

    def happened(self, event: str) -> str:
        """A message history entry's kind."""
        return self.gettext(HISTORY_EVENTS[event]) if event in HISTORY_EVENTS else event

    def number(self, value: int | float | Decimal) -> str:
        return format_decimal(value, locale=self.locale)

    def when(self, moment: datetime) -> str:
        """A moment in Europe/Berlin, short (``04.12.26, 09:30``)."""
        return format_datetime(moment.astimezone(BERLIN), "short", locale=self.locale)

    def duration(self, seconds: float) -> str:
        """A span of time, rounded as one says it (``3 Minuten``)."""
        return format_timedelta(timedelta(seconds=seconds), locale=self.locale)

    def clock(self, moment: datetime) -> str:
        """The time of day of a moment in Europe/Berlin (``09:30:05``)."""
        return format_time(moment.astimezone(BERLIN), "medium", locale=self.locale)

    def day(self, value: date) -> str:
        return format_date(value, "medium", locale=self.locale)

    def template_globals(self) -> dict[str, Any]:
        return {
            "_": self.gettext,
            "money": self.money,
            "price": self.price,
            "number": self.number,
            "entry": self.entry,
            "happened": self.happened,
            "skip": self.skip,
            "duration": self.duration,
            "when": self.when,
            "day": self.day,
            "language": self.language,
            "languages": sorted(LANGUAGES),
        }
