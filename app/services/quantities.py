"""Tonnes and money as the services accept them: rounded by matching.units (the one place that rounds, half up
to the kilogram and the fen) and bounded so every figure and product fits its database column."""
from __future__ import annotations

from decimal import Decimal

from flask_babel import gettext as _

from matching import units
from matching.errors import ProblemError

MAX_TONNES = units.MAX_TONNES
MAX_YUAN_PER_TONNE = units.MAX_YUAN_PER_TONNE


def tonnes(value) -> Decimal:
    """`value` rounded to the kilogram."""
    return units.tonnes(value)


def yuan(value) -> Decimal:
    """`value` rounded to the fen."""
    return units.yuan(value)


def money_of(price, quantity) -> Decimal:
    """`price` × `quantity` rounded once, to the fen (an amount of price per tonne × tonnes)."""
    return units.money_of(price, quantity)


def ratio(value) -> Decimal:
    """A rate or share rounded to a hundredth of a percent (4 places)."""
    return units.ratio(value)


def round_places(value, places: int) -> Decimal:
    """`value` rounded to `places` decimals in the project's one rounding mode (for figures that are not t or yuan)."""
    return units.round_places(value, places)


def tonnes_problem(value, allow_zero: bool = False) -> str | None:
    """Why `value` is not an acceptable tonnage (positive, or ≥ 0, up to MAX_TONNES, at least a kilogram), or None."""
    try:
        rounded = units.tonnes(value)
    except ProblemError:
        return _("Tonnes must be a number.")
    if rounded < 0 or (rounded == 0 and not allow_zero):
        return _("Tonnes must be a positive number.") if not allow_zero else _("Tonnes cannot be negative.")
    if rounded > MAX_TONNES:
        return _("At most %(max)s t.", max=f"{MAX_TONNES:,}")
    return None


def price_problem(value) -> str | None:
    """Why `value` is not an acceptable price per tonne (within ±MAX_YUAN_PER_TONNE), or None."""
    try:
        rounded = units.yuan(value)
    except ProblemError:
        return _("The price must be a number.")
    if abs(rounded) > MAX_YUAN_PER_TONNE:
        return _("A price per tonne must lie between -%(max)s and %(max)s yuan.", max=f"{MAX_YUAN_PER_TONNE:,}")
    return None
