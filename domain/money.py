"""Money: integer amounts in units of 1/10,000 EUR (``0.0790 EUR`` is ``790``), never floats.

Credit is kept net of VAT. VAT is computed on a net amount and rounded half-up to the minor unit.
"""

from __future__ import annotations

from fractions import Fraction

MINOR_UNITS_PER_EUR = 10_000
MAX_AMOUNT = 10**12
"""The largest amount one request may move (100,000,000 EUR). Every amount column is a bigint
(at most 2^63 - 1, about 9.2 * 10^18), so even nine million such amounts on one account still
sum without overflow; anything larger is refused at the edge and by the ledger."""
VAT_RATE_DE = Fraction(19, 100)


def vat_on(net: int, rate: Fraction = VAT_RATE_DE) -> int:
    """VAT on a net amount, rounded half-up (away from zero) to the minor unit."""
    exact = Fraction(net) * rate
    sign = -1 if exact < 0 else 1
    return sign * int(abs(exact) + Fraction(1, 2))


def format_eur(amount: int) -> str:
    """``790`` -> ``"0.0790"``: the exact amount in EUR with four decimals."""
    sign = "-" if amount < 0 else ""
    whole, frac = divmod(abs(amount), MINOR_UNITS_PER_EUR)
    return f"{sign}{whole}.{frac:04d}"


def format_eur_de(amount: int) -> str:
    """``790`` -> ``"0,0790"``: as ``format_eur`` with the decimal comma, for the CSV files
    (``;``-separated, as German Excel reads them: it takes ``0.0790`` for a date or text)."""
    return format_eur(amount).replace(".", ",")


def parse_eur(text: str) -> int:
    """``"0.079"`` -> ``790``; more than four decimals is an error, never a silent rounding."""
    value = Fraction(text.strip())
    minor = value * MINOR_UNITS_PER_EUR
    if minor.denominator != 1:
        raise ValueError(f"{text!r} has more than four decimals")
    return int(minor)
