"""Smart characters: typographic look-alikes that push a text into UCS-2 for no visible gain.

Word processors and phones put curly quotes, dashes, ellipses, non-breaking and zero-width
spaces into texts. Each has a GSM 03.38 equivalent (zero-width characters and the soft hyphen
have none and are removed). ``suggest_replacements`` reports which replacements would bring a
text back to GSM-7 and how many parts that saves; ``normalize`` applies them. The engine never
changes a text unless the customer asks for ``normalize``.
"""

from __future__ import annotations

from dataclasses import dataclass

from domain.text.gsm import find_non_gsm
from domain.text.segments import size_of

REPLACEMENTS: dict[str, str] = {
    # quotes and apostrophes
    "\u2018": "'",  # ‘ left single quotation mark
    "\u2019": "'",  # ’ right single quotation mark (also the typographic apostrophe)
    "\u201a": "'",  # ‚ single low-9 quotation mark (German opening quote)
    "\u201b": "'",  # ‛ single high-reversed-9 quotation mark
    "\u2032": "'",  # ′ prime
    "\u00b4": "'",  # ´ acute accent, typed as an apostrophe
    "`": "'",  # grave accent, typed as an apostrophe
    "\u2039": "'",  # ‹
    "\u203a": "'",  # ›
    "\u201c": '"',  # “
    "\u201d": '"',  # ”
    "\u201e": '"',  # „ double low-9 quotation mark (German opening quote)
    "\u201f": '"',  # ‟
    "\u2033": '"',  # ″ double prime
    "\u00ab": '"',  # «
    "\u00bb": '"',  # »
    # dashes and minus
    "\u2010": "-",  # hyphen
    "\u2011": "-",  # non-breaking hyphen
    "\u2012": "-",  # figure dash
    "\u2013": "-",  # – en dash
    "\u2014": "-",  # — em dash
    "\u2015": "-",  # ― horizontal bar
    "\u2212": "-",  # − minus sign
    # ellipsis and bullet
    "\u2026": "...",  # …
    "\u2022": "-",  # • bullet
    # spaces
    "\t": " ",
    "\u00a0": " ",  # no-break space
    "\u2000": " ",
    "\u2001": " ",
    "\u2002": " ",
    "\u2003": " ",
    "\u2004": " ",
    "\u2005": " ",
    "\u2006": " ",
    "\u2007": " ",
    "\u2008": " ",
    "\u2009": " ",  # thin space
    "\u200a": " ",  # hair space
    "\u202f": " ",  # narrow no-break space
    "\u205f": " ",
    "\u3000": " ",
    # invisible characters without an equivalent: removed
    "\u00ad": "",  # soft hyphen
    "\u200b": "",  # zero-width space
    "\u200c": "",  # zero-width non-joiner
    "\u200d": "",  # zero-width joiner
    "\u2060": "",  # word joiner
    "\ufeff": "",  # zero-width no-break space (byte order mark)
}

_TABLE = str.maketrans(REPLACEMENTS)


@dataclass(frozen=True, slots=True)
class Replacement:
    position: int
    character: str
    replacement: str


@dataclass(frozen=True, slots=True)
class ReplacementReport:
    """What ``normalize`` would change, and what it gains."""

    replacements: tuple[Replacement, ...]
    restores_gsm: bool
    """True when the normalised text is GSM-7 although the original is not."""
    segments_before: int
    segments_after: int

    @property
    def segments_saved(self) -> int:
        return self.segments_before - self.segments_after


def normalize(text: str) -> str:
    """The text with every smart character replaced by its GSM equivalent."""
    if find_non_gsm(text) < 0:
        return text
    return text.translate(_TABLE)


def suggest_replacements(text: str) -> ReplacementReport:
    """Which smart characters the text has, and what replacing them would save.

    Segment counts are for the text as given and as normalised; this is a report, so the length
    rule of ``measure`` is not applied (an ellipsis may push a normalised text over it).
    """
    before = size_of(text)
    replacements = tuple(
        Replacement(position, character, REPLACEMENTS[character])
        for position, character in enumerate(text)
        if character in REPLACEMENTS
    )
    if not replacements:
        return ReplacementReport((), False, before.segments, before.segments)
    normalized = normalize(text)
    if not normalized:  # nothing but invisible characters: nothing would be left to send
        return ReplacementReport(replacements, False, before.segments, before.segments)
    after = size_of(normalized)
    restores = before.encoding is not after.encoding
    return ReplacementReport(replacements, restores, before.segments, after.segments)
