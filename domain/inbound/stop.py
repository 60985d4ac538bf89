"""Which replies are a wish to hear no more: the first word of the text, compared without case
or accents (``Stopp``, ``STOPP!``, ``abbestellen``...)."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable

STOP_WORDS = frozenset({"stop", "stopp", "abmelden", "abbestellen", "unsubscribe"})
"""The words every account honours; an account may add its own."""
_WORD = re.compile(r"[^\W_]+")


def folded(word: str) -> str:
    """A word without case and accents (``Ärger`` -> ``arger``)."""
    decomposed = unicodedata.normalize("NFKD", word.casefold())
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def first_word(text: str) -> str:
    found = _WORD.search(text)
    return folded(found.group()) if found else ""


def is_stop(text: str, extra: Iterable[str] = ()) -> bool:
    """Whether a reply's first word is one of ``STOP_WORDS`` or of ``extra``."""
    word = first_word(text)
    return bool(word) and (word in STOP_WORDS or word in {folded(w) for w in extra})
