"""Composing one recipient's message: render, normalise when asked, measure.

The same steps, in the same order, for the preview and for the send path (the campaign
expander records the composed text, its encoding and its parts on the message; the carrier
sender later encodes exactly that text with ``domain.text.parts.encode_parts``). Raises the
text errors: ``UnknownFieldError``, ``EmptyTextError``, ``TextTooLongError``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import NamedTuple

from domain.text.segments import TextSize, check_length, size_of
from domain.text.smart import normalize
from domain.text.template import Template


class ComposedText(NamedTuple):
    text: str
    size: TextSize


def compose(
    template: Template, fields: Mapping[str, str], *, normalize_text: bool = False
) -> ComposedText:
    text = template.render(fields)
    if normalize_text:
        text = normalize(text)
    size = size_of(text)
    check_length(text)
    return ComposedText(text, size)
