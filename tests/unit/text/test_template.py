from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from domain.text.exceptions import TemplateSyntaxError, UnknownFieldError
from domain.text.template import Template


@pytest.mark.parametrize(
    ("source", "fields", "text"),
    [
        ("Hallo {vorname}!", {"vorname": "Anna"}, "Hallo Anna!"),
        ("Hallo {vorname|Kunde}!", {"vorname": ""}, "Hallo Kunde!"),
        ("Hallo {vorname|Kunde}!", {"vorname": "  "}, "Hallo Kunde!"),
        ("Hallo {vorname|Kunde}!", {}, "Hallo Kunde!"),
        ("Hallo {vorname}!", {"vorname": ""}, "Hallo !"),
        ("Hallo { vorname | liebe Kundin }!", {}, "Hallo liebe Kundin!"),
        ("Hallo {VORNAME}!", {"Vorname": "Anna"}, "Hallo Anna!"),
        ("Hallo {first_name}!", {"vorname": "Anna"}, "Hallo Anna!"),
        ("Hallo {vorname}!", {"First_Name": "Anna"}, "Hallo Anna!"),
        ("{anrede} {nachname}", {"salutation": "Frau", "surname": "Weiß"}, "Frau Weiß"),
        ("Code {{1234}}", {}, "Code {1234}"),
        ("{{{code}}}", {"code": "42"}, "{42}"),
        (
            "Termin: {datum}, {uhrzeit} Uhr",
            {"datum": "1.2.", "uhrzeit": "9:00"},
            "Termin: 1.2., 9:00 Uhr",
        ),
        ("no placeholders", {"x": "y"}, "no placeholders"),
        ("{kunden-nr}/{kunden_nr}", {"kunden-nr": "1", "kunden_nr": "2"}, "1/2"),
    ],
)
def test_placeholders_are_filled_from_the_recipients_fields(
    source: str, fields: dict[str, str], text: str
) -> None:
    assert Template.compile(source).render(fields) == text


def test_a_field_the_recipient_lacks_is_an_error_naming_the_field() -> None:
    template = Template.compile("Hallo {Vorname}, Ihr Code ist {code}")
    with pytest.raises(UnknownFieldError) as raised:
        template.render({"vorname": "Anna"})
    assert raised.value.field == "code"
    assert "'code'" in str(raised.value)


@pytest.mark.parametrize(
    ("source", "position", "fragment"),
    [
        ("Hallo {vorname", 6, "not closed"),
        ("Hallo vorname}", 13, "has no '{'"),
        ("Hallo {}", 6, "needs a field name"),
        ("Hallo { |x}", 6, "needs a field name"),
        ("Hallo {a.b}", 8, "'.'"),
        ("{x.__class__}", 2, "'.'"),
        ("{a[0]}", 2, "'['"),
        ("{a{b}", 0, "not closed"),
        ("{a b}", 2, "' '"),
        ("{0!r}", 2, "'!'"),
        ("{x:>10}", 2, "':'"),
    ],
)
def test_malformed_templates_are_refused_with_the_position(
    source: str, position: int, fragment: str
) -> None:
    with pytest.raises(TemplateSyntaxError) as raised:
        Template.compile(source)
    assert raised.value.position == position
    assert fragment in raised.value.reason


def test_the_literal_text_is_what_every_rendering_contains() -> None:
    template = Template.compile("Hallo {vorname|Kunde}, {{ok}}")
    assert template.literal_text == "Hallo , {ok}"
    assert template.fields == frozenset({"vorname"})


field_names = st.from_regex(r"[a-z][a-z0-9_]{0,10}", fullmatch=True)
hostile_values = st.text(
    alphabet=st.sampled_from(list("{}[]()._|!:%$#\\'\"") + list("abc0 ")), max_size=30
)


@given(st.dictionaries(field_names, hostile_values, min_size=1, max_size=5))
def test_values_are_inserted_verbatim_and_never_evaluated(fields: dict[str, str]) -> None:
    names = sorted(fields)
    source = "<" + "|".join("{" + name + "}" for name in names) + ">"
    rendered = Template.compile(source).render(fields)
    assert rendered == "<" + "|".join(fields[name] for name in names) + ">"


@given(st.text(max_size=60))
def test_a_template_without_braces_renders_as_itself(text: str) -> None:
    plain = text.replace("{", "").replace("}", "")
    assert Template.compile(plain).render({"x": "{y}"}) == plain
