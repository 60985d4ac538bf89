"""Which replies are a wish to hear no more: the first word of the text, compared without case
or accents (``Stopp``, ``STOPP!``, ``abbestellen``...)."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable

MAX_WORDS = 20
"""An account's own STOP words at most."""
MAX_LENGTH = 30

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


class InvalidStopWordError(ValueError):
    """An account's STOP word is one word of letters and digits (1 to ``MAX_LENGTH``), and an
    account has at most ``MAX_WORDS`` of them."""


def stop_words(words: Iterable[str]) -> frozenset[str]:
    """An account's own STOP words as typed, checked and stored folded (``Schluß`` ->
    ``schluss``); ``InvalidStopWordError`` for one that is not a single word, or too many."""
    found = set()
    for typed in words:
        word = typed.strip()
        if not word:
            continue
        if len(word) > MAX_LENGTH or not _WORD.fullmatch(word):
            raise InvalidStopWordError(f"{word[:40]!r} is not a single word of letters or digits")
        found.add(folded(word))
    if len(found) > MAX_WORDS:
        raise InvalidStopWordError(f"{len(found)} STOP words; at most {MAX_WORDS}")
    return frozenset(found)
