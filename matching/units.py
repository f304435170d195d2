"""Exact conversions between user quantities and integer kilograms / fen."""

from __future__ import annotations

import math
from decimal import ROUND_HALF_EVEN, Decimal, InvalidOperation

from .errors import ProblemError

KG_PER_TONNE = 1000
FEN_PER_YUAN = 100
_TONNE_QUANTUM = Decimal("0.001")
_YUAN_QUANTUM = Decimal("0.01")


def to_decimal(value, what: str) -> Decimal:
    """Convert an int, float, str or Decimal to a finite Decimal, else raise ProblemError."""
    if isinstance(value, bool) or value is None:
        raise ProblemError(f"{what} must be a number, got {value!r}")
    if isinstance(value, float):
        if not math.isfinite(value):
            raise ProblemError(f"{what} must be finite, got {value!r}")
        # str() gives the shortest repr, so 0.1 becomes exactly 0.1 rather than its binary value.
        value = str(value)
    if isinstance(value, int):
        return Decimal(value)
    try:
        result = Decimal(value.strip() if isinstance(value, str) else value)
    except (InvalidOperation, TypeError, ValueError, AttributeError):
        raise ProblemError(f"{what} must be a number, got {value!r}") from None
    if not result.is_finite():
        raise ProblemError(f"{what} must be finite, got {value!r}")
    return result


def tonnes(value, what: str = "tonnes") -> Decimal:
    """Return ``value`` as Decimal tonnes rounded to the kilogram."""
    return to_decimal(value, what).quantize(_TONNE_QUANTUM, rounding=ROUND_HALF_EVEN)


def yuan(value, what: str = "amount") -> Decimal:
    """Return ``value`` as Decimal yuan rounded to the fen."""
    return to_decimal(value, what).quantize(_YUAN_QUANTUM, rounding=ROUND_HALF_EVEN)


def kg_of(t: Decimal) -> int:
    """Integer kilograms of a Decimal tonnage already rounded to the kilogram."""
    return int(t.scaleb(3))


def fen_of(y: Decimal) -> int:
    """Integer fen of a Decimal yuan amount already rounded to the fen."""
    return int(y.scaleb(2))


def tonnes_from_kg(kg: int) -> Decimal:
    """Exact Decimal tonnes for an integer number of kilograms."""
    return Decimal(int(kg)).scaleb(-3)


def yuan_from_fen(fen: int) -> Decimal:
    """Exact Decimal yuan for an integer number of fen."""
    return Decimal(int(fen)).scaleb(-2)


# Bounds that keep every stored figure inside its column (tonnes Numeric(14, 3), money Numeric(14, 2)) including
# products: one award of MAX_TONNES at MAX_YUAN_PER_TONNE is 5e11 yuan, below the money column's 1e12.
MAX_TONNES = Decimal("10000000")  # 10 Mt: above any real lot, bid, load or monthly report line
MAX_YUAN_PER_TONNE = Decimal("50000")  # a price or reserve per tonne, either sign
