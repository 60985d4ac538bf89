"""Every text the application shows has its German translation (German is the first
language), and the catalogue holds no text the application no longer shows."""

from __future__ import annotations

import re
from pathlib import Path

from babel.messages.pofile import read_po

from api.web.i18n import ENTRIES, HISTORY_EVENTS, LOCALES, REFUSAL_TEXTS, SKIPS, Texts
from api.web.staff import ADJUSTMENTS
from domain.accounts.account import AccountKind, AccountState, Module, Salutation
from domain.accounts.contract import ContractType
from domain.accounts.user import ACCOUNT_ROLES
from domain.ledger.lots import PaymentMethod
from domain.ledger.postings import LedgerAccount
from domain.messaging.list_acceptance import JobState
from domain.messaging.records import Lane
from domain.messaging.send import SendState
from domain.messaging.states import MessageState
from domain.tariff import Tariff

WEB = Path(__file__).resolve().parents[3] / "api" / "web"
LITERAL = r'"((?:[^"\\]|\\.)+)"|\'((?:[^\'\\]|\\.)+)\''
CALLS = [re.compile(rf"(?:\b_|gettext)\(\s*(?:{LITERAL})"),
         re.compile(rf"\bfield\(\"\w+\",\s*(?:{LITERAL})"),
         re.compile(rf"\bused\((?:{LITERAL})")]  # fmt: skip
DYNAMIC = (
    [f"kind {k.value}" for k in AccountKind]
    + [f"salutation {s.value}" for s in Salutation]
    + [f"tariff {t.value}" for t in Tariff]
    + [f"state {c}" for c in ("grey", "green", "orange", "red")]
    + list(ENTRIES.values())
    + list(HISTORY_EVENTS.values())
    + [f"lane {lane.value}" for lane in Lane]
    + [f"send {state.value}" for state in SendState]
    + [f"message {state.value}" for state in MessageState]
    + [f"role {role.value}" for role in ACCOUNT_ROLES]
    + [f"account {state.value}" for state in AccountState]
    + [f"method {method.value}" for method in PaymentMethod]
    + [f"import {state}" for state in ("queued", "running", "done", "failed")]
    + [f"send {state}" for state in ("accepting", "refused")]  # a list campaign's job
    + [f"acceptance {state.value}" for state in JobState]
    + list(SKIPS.values())
    + list(REFUSAL_TEXTS.values())
    + [f"ledger {account.value}" for account in LedgerAccount]
    + [f"module {module.value}" for module in Module]
    + [f"contract {kind.value}" for kind in ContractType]
    + list(ADJUSTMENTS.values())
)
"""Texts the templates name by prefix and value (``_("state " ~ colour)``)."""


def shown_texts() -> set[str]:
    found = set(DYNAMIC)
    for path in [*WEB.glob("templates/*.html"), *WEB.glob("*.py")]:
        text = path.read_text()
        for call in CALLS:
            for match in call.finditer(text):
                text_found = match.group(1) or match.group(2)
                if not text_found.endswith(" "):  # a prefix: its texts are in DYNAMIC
                    found.add(text_found)
    return found


def test_every_text_shown_has_its_german_translation() -> None:
    with (LOCALES / "de" / "LC_MESSAGES" / "messages.po").open("rb") as handle:
        catalog = read_po(handle)
    translated = {m.id: m.string for m in catalog if m.id}
    shown = shown_texts()
    missing = sorted(t for t in shown if not translated.get(t))
    assert not missing, f"not translated: {missing}"
    unused = sorted(set(translated) - shown)
    assert not unused, f"translated but never shown: {unused}"


def test_figures_are_formatted_for_germany_and_in_berlin_time() -> None:
    from datetime import UTC, datetime

    german, english = Texts("de"), Texts("en")
    assert german.money(12_345_000) == "1.234,50\xa0€"
    assert english.money(12_345_000) == "€1,234.50"
    assert german.price(790) == "0,079\xa0€"
    assert german.number(100000) == "100.000"
    assert german.when(datetime(2026, 12, 4, 23, 30, tzinfo=UTC)) == "05.12.26, 00:30"
    assert german.gettext("Sign in") == "Anmelden"
    assert english.gettext("Sign in") == "Sign in"
