"""The GSM 03.38 (3GPP TS 23.038) default alphabet and its extension table, table-driven.

Every basic character costs one septet; the ten extension characters ``^ { } \\ [ ~ ] | €`` and
form feed cost two (the escape septet 0x1B, then the character's code). German umlauts and ß
are basic characters. Septets are kept *unpacked*, one per byte, because that is what SMPP
``data_coding`` 0 carries; the SMSC packs them for the air interface.

This is our own implementation on purpose: the libraries we looked at get it wrong (gsm0338's
incremental codec is broken, aiosmpplib counts characters rather than septets, smpplib splits
escape pairs across parts), and the property tests in ``tests/unit/text`` decide.
"""

from __future__ import annotations

import re

from domain.text.exceptions import InvalidEncodingError, NotGsmError

ESCAPE = 0x1B

# Index = septet value. Position 0x1B is the escape to the extension table, not a character.
BASIC_TABLE = (
    "@£$¥èéùìòÇ\nØø\rÅå"
    "Δ_ΦΓΛΩΠΨΣΘΞ\x1bÆæßÉ"
    " !\"#¤%&'()*+,-./"
    "0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNO"
    "PQRSTUVWXYZÄÖÑÜ§"
    "¿abcdefghijklmno"
    "pqrstuvwxyzäöñüà"
)

EXTENSION_TABLE: dict[int, str] = {
    0x0A: "\f",
    0x14: "^",
    0x28: "{",
    0x29: "}",
    0x2F: "\\",
    0x3C: "[",
    0x3D: "~",
    0x3E: "]",
    0x40: "|",
    0x65: "€",
}

BASIC_CHARACTERS = frozenset(c for i, c in enumerate(BASIC_TABLE) if i != ESCAPE)
EXTENSION_CHARACTERS = frozenset(EXTENSION_TABLE.values())
GSM_CHARACTERS = BASIC_CHARACTERS | EXTENSION_CHARACTERS

_ENCODE: dict[str, bytes] = {c: bytes([i]) for i, c in enumerate(BASIC_TABLE) if i != ESCAPE}
_ENCODE.update({c: bytes([ESCAPE, code]) for code, c in EXTENSION_TABLE.items()})
_ENCODE_TABLE = str.maketrans({c: b.decode("latin-1") for c, b in _ENCODE.items()})

# One regex pass answers "is every character GSM?" and finds the first one that is not.
_NOT_GSM = re.compile("[^" + re.escape("".join(sorted(GSM_CHARACTERS))) + "]")
_EXTENSION = re.compile("[" + re.escape("".join(sorted(EXTENSION_CHARACTERS))) + "]")
# Extension or non-GSM characters: one pass tells the encoding and, for GSM, the septets.
_NOT_BASIC = re.compile("[^" + re.escape("".join(sorted(BASIC_CHARACTERS))) + "]")


def find_non_gsm(text: str) -> int:
    """Position of the first character outside GSM 03.38, or -1 when the whole text is GSM."""
    match = _NOT_GSM.search(text)
    return -1 if match is None else match.start()


def non_gsm_positions(text: str) -> list[tuple[int, str]]:
    """Every character (with its code point position) that GSM-7 cannot carry."""
    return [(m.start(), m.group()) for m in _NOT_GSM.finditer(text)]


def gsm_septets(text: str) -> int:
    """Septets of the text if every character is GSM, else -1 (one regex pass, the hot path)."""
    special = _NOT_BASIC.findall(text)
    if not special:
        return len(text)
    if EXTENSION_CHARACTERS.issuperset(special):
        return len(text) + len(special)
    return -1


def count_septets(text: str) -> int:
    """Septets of a GSM text: one per character plus one per extension character."""
    return len(text) + len(_EXTENSION.findall(text))


def septets_of(character: str) -> int:
    """Septets one GSM character takes: 2 for the extension table, else 1."""
    return 2 if character in EXTENSION_CHARACTERS else 1


def encode_gsm7(text: str) -> bytes:
    """The unpacked septets (one per byte) of a GSM text; raises ``NotGsmError`` otherwise."""
    position = find_non_gsm(text)
    if position >= 0:
        raise NotGsmError(position, text[position])
    return text.translate(_ENCODE_TABLE).encode("latin-1")


def decode_gsm7(septets: bytes) -> str:
    """The text of unpacked septets; an escape must be followed by an extension code."""
    out: list[str] = []
    escaped = False
    for index, septet in enumerate(septets):
        if septet > 0x7F:
            raise InvalidEncodingError(f"byte {septet:#04x} at {index} is not a septet")
        if escaped:
            character = EXTENSION_TABLE.get(septet)
            if character is None:
                raise InvalidEncodingError(f"escape followed by {septet:#04x} at {index}")
            out.append(character)
            escaped = False
        elif septet == ESCAPE:
            escaped = True
        else:
            out.append(BASIC_TABLE[septet])
    if escaped:
        raise InvalidEncodingError("the septets end in the middle of an escape sequence")
    return "".join(out)
