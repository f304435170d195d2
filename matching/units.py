"""Exact conversions between user quantities and integer kilograms / fen: the one place that rounds.

Every rounding in the project goes through `round_places` with one mode, half up (四舍五入): the rule
Chinese invoices and settlement statements use, so a figure rounded on entry, in a clearing or on an
award never disagrees with the paper a trader holds. Nothing else calls `Decimal.quantize`. (Price guidance
rounds its band *outwards* to 5 yuan, floor and ceiling: that widens a privacy band, it is not a rounding of
an amount, and lives in `app/services/guidance.py`.)
"""

from __future__ import annotations

import math
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from .errors import ProblemError

KG_PER_TONNE = 1000
FEN_PER_YUAN = 100
ROUNDING = ROUND_HALF_UP
TONNE_PLACES = 3  # the kilogram
YUAN_PLACES = 2  # the fen
KM_PLACES = 3  # the metre
RATIO_PLACES = 4  # rates and shares: a hundredth of a percent


def to_decimal(value, what: str) -> Decimal:
    """Convert an int, float, str or Decimal to a finite Decimal, else raise ProblemError."""
    if type(value) is Decimal and value.is_finite():  # the common case (a clearing writes tens of thousands)
        return value
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


def round_places(value, places: int, what: str = "value") -> Decimal:
    """Return ``value`` as a Decimal rounded half up to ``places`` decimal places (0: a whole number)."""
    quantum = _QUANTA.get(places) or Decimal(1).scaleb(-places)
    return to_decimal(value, what).quantize(quantum, rounding=ROUNDING)


_QUANTA = {places: Decimal(1).scaleb(-places) for places in range(9)}


def tonnes(value, what: str = "tonnes") -> Decimal:
    """Return ``value`` as Decimal tonnes rounded to the kilogram."""
    return round_places(value, TONNE_PLACES, what)


def yuan(value, what: str = "amount") -> Decimal:
    """Return ``value`` as Decimal yuan rounded to the fen."""
    return round_places(value, YUAN_PLACES, what)


def money_of(price, quantity, what: str = "amount") -> Decimal:
    """Yuan of ``price`` (per tonne, km …) times ``quantity``, exact until rounded once to the fen."""
    return yuan(to_decimal(price, what) * to_decimal(quantity, what), what)


def km(value, what: str = "km") -> Decimal:
    """Return ``value`` as Decimal km rounded to the metre."""
    return round_places(value, KM_PLACES, what)


def ratio(value, what: str = "ratio") -> Decimal:
    """Return a rate or share (0.5791 for 57.91 %) rounded to a hundredth of a percent."""
    return round_places(value, RATIO_PLACES, what)


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
