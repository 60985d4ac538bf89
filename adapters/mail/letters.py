"""The mails Kontor sends, written from Jinja2 templates: each a plain-text and an HTML part,
German first and English second (``templates/NAME.txt`` and ``templates/NAME.html``, whose
first line is the subject). A mail carries no secret but the link it exists for.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from typing import Any

from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape


@dataclass(frozen=True)
class Mail:
    to: str
    subject: str
    text: str
    html: str


@cache
def _environment(autoescape: bool) -> Environment:
    return Environment(
        loader=PackageLoader("adapters.mail", "templates"),
        autoescape=select_autoescape(default=autoescape, default_for_string=autoescape),
        undefined=StrictUndefined,
        keep_trailing_newline=True,
    )


def letter(template: str, to: str, **context: Any) -> Mail:
    """The mail ``template`` to ``to``, its templates filled with ``context``."""
    rendered = _environment(False).get_template(f"{template}.txt").render(**context)
    subject, _, text = rendered.partition("\n")
    html = _environment(True).get_template(f"{template}.html").render(**context)
    return Mail(to=to, subject=subject.strip(), text=text.lstrip("\n"), html=html)
