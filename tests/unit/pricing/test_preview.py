from __future__ import annotations

import pytest

from domain.phone.number import NumberType
from domain.pricing.exceptions import NoPriceListError
from domain.pricing.preview import Preview, Recipient, preview_messages
from domain.tariff import Tariff
from domain.text.exceptions import InvalidSenderError, TemplateSyntaxError
from domain.text.segments import Encoding, ForcingCharacter
from tests.unit.pricing.factories import JAN_2025, NOW, preview_rules

RULES = preview_rules()
MOBILE = "+491712345678"


def _preview(
    text: str,
    recipients: list[Recipient],
    *,
    tariff: Tariff = Tariff.QUALITY,
    month_volume: int = 0,
    sender: str | None = "Kontor",
    normalize_text: bool = False,
    registered: dict[str, frozenset[str]] | None = None,
) -> Preview:
    return preview_messages(
        text,
        recipients,
        rules=RULES,
        tariff=tariff,
        month_volume=month_volume,
        now=NOW,
        sender=sender,
        normalize_text=normalize_text,
        registered_senders=registered or {},
    )


def test_a_long_name_pushes_one_recipient_into_a_second_part() -> None:
    text = "a" * 150 + " {name}"
    preview = _preview(
        text, [Recipient(MOBILE, {"name": "Bo"}), Recipient("0171 2345679", {"name": "Maximilian"})]
    )
    short, long = preview.recipients
    assert (short.characters, short.segments, short.price) == (153, 1, 790)
    assert (long.characters, long.segments, long.price) == (161, 2, 1_580)
    assert (preview.totals.net, preview.totals.parts) == (2_370, 3)


def test_every_field_of_a_sendable_recipient_is_filled() -> None:
    (row,) = _preview("Hallo {vorname|Kunde}!", [Recipient("0171/2345678")]).recipients
    assert row._asdict() == {
        "to_e164": "+491712345678",
        "to_display": "00491712345678",
        "region": "DE",
        "number_type": NumberType.MOBILE,
        "text": "Hallo Kunde!",
        "encoding": Encoding.GSM7,
        "characters": 12,
        "units": 12,
        "segments": 1,
        "price": 790,
        "delivery_reports": True,
        "ucs2_characters": (),
        "error": None,
        "error_code": None,
    }


def test_an_invalid_number_is_refused_but_its_text_is_still_measured() -> None:
    preview = _preview("Hallo", [Recipient("0171"), Recipient(MOBILE)])
    bad, good = preview.recipients
    assert bad.error_code == "invalid-number"
    assert (bad.to_e164, bad.number_type, bad.price) == (None, None, None)
    assert (bad.encoding, bad.characters, bad.segments) == (Encoding.GSM7, 5, 1)
    assert good.error is None
    assert (preview.recipients_ok, preview.recipients_failed, preview.totals.net) == (1, 1, 790)


def test_a_missing_field_without_default_is_an_error_for_that_recipient_only() -> None:
    preview = _preview(
        "Code: {code}", [Recipient(MOBILE, {"code": "1234"}), Recipient("+491712345679")]
    )
    ok, missing = preview.recipients
    assert ok.text == "Code: 1234"
    assert missing.error_code == "unknown-field"
    assert "'code'" in (missing.error or "")
    assert (missing.to_e164, missing.text, missing.segments, missing.price) == (
        "+491712345679",
        None,
        None,
        None,
    )


def test_a_rendered_text_over_1500_characters_is_refused_with_the_exact_count() -> None:
    (row,) = _preview("{body}", [Recipient(MOBILE, {"body": "x" * 1_501})]).recipients
    assert row.error_code == "text-too-long"
    assert "1,501 characters" in (row.error or "")
    assert (row.characters, row.encoding, row.segments, row.price) == (
        1_501,
        Encoding.GSM7,
        None,
        None,
    )


def test_ucs2_recipients_list_the_characters_that_forced_it() -> None:
    (row,) = _preview("Hallo {name}", [Recipient(MOBILE, {"name": "Łukasz"})]).recipients
    assert row.encoding is Encoding.UCS2
    assert row.ucs2_characters == (ForcingCharacter(6, "Ł"),)


def test_smart_characters_are_reported_and_only_replaced_when_asked() -> None:
    text = "„Termin“ – morgen… " + "a" * 60
    plain = _preview(text, [Recipient(MOBILE)])
    assert plain.recipients[0].encoding is Encoding.UCS2
    assert plain.recipients[0].segments == 2
    assert [r.character for r in plain.replacements.replacements] == ["„", "“", "–", "…"]
    assert plain.replacements.restores_gsm
    assert plain.replacements.segments_saved == 1
    normalized = _preview(text, [Recipient(MOBILE)], normalize_text=True)
    (row,) = normalized.recipients
    assert (row.encoding, row.segments, row.price) == (Encoding.GSM7, 1, 790)
    assert row.text == '"Termin" - morgen... ' + "a" * 60


def test_volume_tiers_continue_across_recipients_from_the_month_volume() -> None:
    preview = _preview("Hi", [Recipient(MOBILE)] * 3, month_volume=9_999)
    assert [r.price for r in preview.recipients] == [790, 740, 740]


def test_refused_recipients_do_not_count_towards_the_tiers() -> None:
    preview = _preview(
        "Hi", [Recipient("+850 191 234 5678"), Recipient(MOBILE)], month_volume=9_999
    )
    assert [r.price for r in preview.recipients] == [None, 790]


def test_german_fixed_line_numbers_are_priced_only_in_a_tariff_with_fixed_line_sms() -> None:
    quality = _preview("Hi", [Recipient("030 1234567")]).recipients[0]
    assert (quality.number_type, quality.price) == (NumberType.FIXED_LINE, 990)
    economy = _preview("Hi", [Recipient("030 1234567")], tariff=Tariff.ECONOMY).recipients[0]
    assert (economy.error_code, economy.price) == ("fixed-line-not-offered", None)


def test_foreign_numbers_use_their_country_rate_or_the_worldwide_rate() -> None:
    austria, usa = _preview(
        "Hi", [Recipient("+43 664 1234567"), Recipient("+1 201 555 0123")]
    ).recipients
    assert (austria.region, austria.price, austria.delivery_reports) == ("AT", 890, False)
    assert (usa.region, usa.price, usa.delivery_reports) == ("US", 1_490, True)


def test_blocked_countries_and_unregistered_senders_are_refused() -> None:
    north_korea = Recipient("+850 191 234 5678")
    india = Recipient("+91 98123 45678")
    preview = _preview("Hi", [north_korea, india])
    assert [r.error_code for r in preview.recipients] == [
        "destination-blocked",
        "sender-not-registered",
    ]
    registered = _preview("Hi", [india], registered={"IN": frozenset({"Kontor"})})
    assert registered.recipients[0].price == 1_490


def test_vat_is_shown_separately_on_the_total_net() -> None:
    preview = _preview("Hi", [Recipient(MOBILE)] * 5)
    assert (preview.totals.net, preview.totals.vat, preview.totals.gross) == (3_950, 751, 4_701)


def test_request_level_problems_raise() -> None:
    with pytest.raises(TemplateSyntaxError):
        _preview("Hallo {name", [Recipient(MOBILE)])
    with pytest.raises(InvalidSenderError, match="'ä'"):
        _preview("Hallo", [Recipient(MOBILE)], sender="Bäckerei")
    with pytest.raises(NoPriceListError):
        preview_messages(
            "Hi",
            [],
            rules=RULES,
            tariff=Tariff.QUALITY,
            month_volume=0,
            now=JAN_2025.replace(year=2024),
        )
