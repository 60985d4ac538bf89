"""Personalisation: message templates with placeholders filled from a recipient's fields.

Syntax (the only one; nothing is ever evaluated):

- ``{vorname}`` is replaced by the recipient's field ``vorname``.
- ``{vorname|Kunde}`` uses ``Kunde`` when the field is missing or empty (blank).
- ``{{`` and ``}}`` are a literal ``{`` and ``}``.

Field names are letters, digits, ``_`` and ``-``; spaces around the name and the default are
ignored. Names match case-insensitively (``{Vorname}`` finds ``VORNAME``), and a few common
names are aliases of each other (``ALIASES``: ``first_name`` finds ``vorname``, ``last_name``
``nachname`` and so on). A placeholder without a default whose field the recipient lacks is an
``UnknownFieldError`` for that recipient; an empty field without a default renders as nothing.

Values are inserted verbatim: a value containing ``{x}`` stays ``{x}``, there is no attribute
access, indexing, format spec or expression. A template is compiled once into a format string
of positional slots, so rendering 100,000 recipients is one ``str.format`` each; which field
fills which slot is worked out once per set of field names (a list's recipients share them).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

from domain.text.exceptions import TemplateSyntaxError, UnknownFieldError

_ALIAS_GROUPS: dict[str, tuple[str, ...]] = {
    "vorname": ("first_name", "firstname", "first-name", "given_name"),
    "nachname": ("last_name", "lastname", "last-name", "surname", "familienname"),
    "anrede": ("salutation",),
    "titel": ("title",),
    "firma": ("company", "unternehmen"),
    "email": ("e-mail", "e_mail"),
}
ALIASES: dict[str, str] = {
    alias: canonical for canonical, aliases in _ALIAS_GROUPS.items() for alias in aliases
}
"""Alternative field name (casefolded) -> the canonical name it stands for."""

_MAX_BINDINGS = 256
_TOKEN = re.compile(r"\{\{|\}\}|\{[^{}]*\}|[{}]")
_NOT_NAME = re.compile(r"[^\w-]")


def canonical_field(name: str) -> str:
    """The key a field name is matched by: casefolded, stripped, aliases resolved."""
    key = name.strip().casefold()
    return ALIASES.get(key, key)


def canonical_fields(fields: Mapping[str, str]) -> dict[str, str]:
    """A recipient's fields keyed by ``canonical_field`` (do this once per recipient)."""
    return {canonical_field(name): value for name, value in fields.items()}


@dataclass(frozen=True, slots=True)
class Placeholder:
    name: str
    """As written in the template (used in error messages)."""
    key: str
    """``canonical_field(name)``."""
    default: str | None


def _placeholder(token: str, position: int) -> Placeholder:
    inner = token[1:-1]
    raw_name, bar, raw_default = inner.partition("|")
    name = raw_name.strip()
    if not name:
        raise TemplateSyntaxError(position, "a placeholder needs a field name")
    bad = _NOT_NAME.search(name)
    if bad is not None:
        offset = position + 1 + raw_name.index(name) + bad.start()
        raise TemplateSyntaxError(
            offset, f"{bad.group()!r} is not allowed in a field name (letters, digits, _ and -)"
        )
    return Placeholder(name, canonical_field(name), raw_default.strip() if bar else None)


class Template:
    """A compiled template: build it with ``Template.compile(text)``, then ``render`` per
    recipient."""

    __slots__ = ("_bindings", "_format", "literal_text", "placeholders", "source")

    def __init__(
        self,
        source: str,
        format_string: str,
        placeholders: tuple[Placeholder, ...],
        literal_text: str,
    ) -> None:
        self.source = source
        self._format = format_string
        self.placeholders = placeholders
        self.literal_text = literal_text
        """The text with every placeholder left out: what every rendering contains at least."""
        self._bindings: dict[tuple[str, ...], tuple[str | None, ...]] = {}

    @classmethod
    def compile(cls, source: str) -> Template:
        """Parse once; raises ``TemplateSyntaxError`` naming the position of the problem."""
        pieces: list[str] = []
        literal: list[str] = []
        placeholders: list[Placeholder] = []
        last = 0
        for match in _TOKEN.finditer(source):
            text = source[last : match.start()]
            pieces.append(text)
            literal.append(text)
            piece = match.group()
            if piece in ("{{", "}}"):
                pieces.append(piece)
                literal.append(piece[0])
            elif piece == "{":
                raise TemplateSyntaxError(match.start(), "'{' is not closed (write '{{' for '{')")
            elif piece == "}":
                raise TemplateSyntaxError(match.start(), "'}' has no '{' (write '}}' for '}')")
            else:
                placeholders.append(_placeholder(piece, match.start()))
                pieces.append("{}")
            last = match.end()
        pieces.append(source[last:])
        literal.append(source[last:])
        return cls(source, "".join(pieces), tuple(placeholders), "".join(literal))

    @property
    def fields(self) -> frozenset[str]:
        """Canonical names of the fields the template uses."""
        return frozenset(p.key for p in self.placeholders)

    def render(self, fields: Mapping[str, str]) -> str:
        """The text for one recipient; ``fields`` may use any case and aliases."""
        placeholders = self.placeholders
        if not placeholders:
            return self.literal_text
        names = tuple(fields)
        binding = self._bindings.get(names)
        if binding is None:
            binding = self._bind(names)
        args: list[str] = []
        for name, placeholder in zip(binding, placeholders, strict=True):
            if name is None:
                if placeholder.default is None:
                    raise UnknownFieldError(placeholder.name)
                args.append(placeholder.default)
                continue
            value = fields[name]
            if placeholder.default is not None and (not value or value.isspace()):
                value = placeholder.default
            args.append(value)
        return self._format.format(*args)

    def _bind(self, names: tuple[str, ...]) -> tuple[str | None, ...]:
        """Which of a recipient's field names fills each placeholder. Recipients of one list
        share their field names, so this is memoised per set of names."""
        by_key = {canonical_field(name): name for name in names}
        binding = tuple(by_key.get(p.key) for p in self.placeholders)
        if len(self._bindings) >= _MAX_BINDINGS:
            self._bindings.clear()
        self._bindings[names] = binding
        return binding
