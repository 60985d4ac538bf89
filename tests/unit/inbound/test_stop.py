"""STOP replies: the first word, without case, accents or punctuation."""

from __future__ import annotations

import pytest

from domain.inbound.stop import InvalidStopWordError, is_stop, stop_words


@pytest.mark.parametrize(
    "text",
    ["STOP", "stop", "Stopp!", " STOPP bitte", "Abmelden", "ABBESTELLEN.", "unsubscribe me",
     "Stöpp", "„Stop“"],
)  # fmt: skip
def test_a_stop_word_first_is_a_stop(text: str) -> None:
    assert is_stop(text)


@pytest.mark.parametrize("text", ["", "Bitte nicht stop", "Stoppuhr", "Ja gerne", "!!!", "OK"])
def test_anything_else_is_no_stop(text: str) -> None:
    assert not is_stop(text)


def test_an_account_adds_its_own_words() -> None:
    assert not is_stop("Ende")
    assert is_stop("ENDE", extra=["ende"])
    assert is_stop("Schluss jetzt", extra=["Schluß", "schluss"])


def test_an_account_s_own_words_are_single_words_kept_folded() -> None:
    assert stop_words(["Schluß", " ENDE ", ""]) == {"schluss", "ende"}
    for bad in (["zwei Worte"], ["!"], ["x" * 31], [f"w{n}" for n in range(21)]):
        with pytest.raises(InvalidStopWordError):
            stop_words(bad)
