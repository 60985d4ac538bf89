from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from domain.text.gsm import find_non_gsm
from domain.text.segments import Encoding, measure
from domain.text.smart import REPLACEMENTS, Replacement, normalize, suggest_replacements


def test_smart_quotes_dashes_and_ellipsis_are_reported_with_positions_and_replacements() -> None:
    report = suggest_replacements("„Hallo“ – bis gleich…")
    assert report.replacements == (
        Replacement(0, "„", '"'),
        Replacement(6, "“", '"'),
        Replacement(8, "–", "-"),
        Replacement(20, "…", "..."),
    )
    assert report.restores_gsm


def test_the_report_counts_the_parts_normalising_saves() -> None:
    text = "Sie haven’t " + "a" * 100  # 112 characters: 2 UCS-2 parts, 1 GSM part
    report = suggest_replacements(text)
    assert (report.segments_before, report.segments_after, report.segments_saved) == (2, 1, 1)
    assert measure(normalize(text)).encoding is Encoding.GSM7


def test_the_text_is_not_changed_unless_normalize_is_asked_for() -> None:
    text = "It’s\u00a0fine"
    suggest_replacements(text)
    assert measure(text).encoding is Encoding.UCS2
    assert normalize(text) == "It's fine"


def test_zero_width_characters_and_soft_hyphens_are_removed() -> None:
    assert normalize("Zero\u200bwidth\u00adtext\ufeff") == "Zerowidthtext"


def test_a_replacement_does_not_restore_gsm_when_another_character_forces_ucs2() -> None:
    report = suggest_replacements("“Łódź”")
    assert len(report.replacements) == 2
    assert not report.restores_gsm
    assert report.segments_saved == 0
    assert normalize("“Łódź”") == '"Łódź"'


def test_a_gsm_text_has_nothing_to_replace() -> None:
    report = suggest_replacements("Alles gut: 10 € [netto]")
    assert report.replacements == ()
    assert report.segments_saved == 0


@given(st.text(alphabet=st.sampled_from(sorted(REPLACEMENTS) + list("abc äß€")), min_size=1))
def test_normalising_leaves_only_gsm_characters_when_all_others_are_smart(text: str) -> None:
    assert find_non_gsm(normalize(text)) == -1
