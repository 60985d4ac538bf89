"""Hypothesis strategies for message texts."""

from __future__ import annotations

from hypothesis import strategies as st

from domain.text.gsm import BASIC_CHARACTERS, EXTENSION_CHARACTERS

basic_characters = st.sampled_from(sorted(BASIC_CHARACTERS))
extension_characters = st.sampled_from(sorted(EXTENSION_CHARACTERS))
gsm_characters = st.one_of(basic_characters, basic_characters, extension_characters)
gsm_texts = st.text(alphabet=gsm_characters, min_size=1, max_size=700)

non_gsm_bmp = st.characters(min_codepoint=0x100, max_codepoint=0xFFFF, exclude_categories=["Cs"])
astral = st.characters(min_codepoint=0x10000, max_codepoint=0x10FFFF)
any_characters = st.one_of(gsm_characters, non_gsm_bmp, astral)
ucs2_texts = st.tuples(
    st.text(alphabet=any_characters, max_size=400), st.one_of(non_gsm_bmp, astral)
).map(lambda pair: pair[0] + pair[1])
texts = st.one_of(gsm_texts, ucs2_texts)
