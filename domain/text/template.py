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

_MAX_PLANS = 256
_Plan = tuple[tuple[str | None, str | None], ...]
_TOKEN = re.compile(r"\{\{|\}\}|\{[^{}]*\}|[{}]")
_NOT_NAME = re.compile(r"[^\w-]")


def canonical_field(name: str) -> str:
    """The key a field name is matched by: casefolded, stripped, aliases resolved."""
    key = name.strip().casefold()
    return ALIASES.get(key, key)


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

    __slots__ = ("_format", "_plans", "literal_text", "placeholders", "source")

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
        self._plans: dict[tuple[str, ...], _Plan | str] = {}

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
        if not self.placeholders:
            return self.literal_text
        names = tuple(fields)
        plan = self._plans.get(names)
        if plan is None:
            plan = self._plan(names)
        if isinstance(plan, str):
            raise UnknownFieldError(plan)
        return self._format.format(
            *[
                default
                if name is None
                else fields[name]
                if default is None
                else value
                if (value := fields[name]) and not value.isspace()
                else default
                for name, default in plan
            ]
        )

    def _plan(self, names: tuple[str, ...]) -> _Plan | str:
        """For each placeholder, the recipient's field name that fills it (``None``: use the
        default), or the name of a placeholder nothing can fill. Recipients of one list share
        their field names, so this is memoised per tuple of names."""
        by_key = {canonical_field(name): name for name in names}
        plan: _Plan | str = tuple((by_key.get(p.key), p.default) for p in self.placeholders)
        for placeholder, (name, _) in zip(self.placeholders, plan, strict=True):
            if name is None and placeholder.default is None:
                plan = placeholder.name
                break
        if len(self._plans) >= _MAX_PLANS:
            self._plans.clear()
        self._plans[names] = plan
        return plan
