"""Form validators shared by the blueprints' forms."""
from __future__ import annotations

from wtforms.validators import NumberRange


class IntRange(NumberRange):
    """NumberRange for IntegerFields: an integer too large for a float is out of range, not an OverflowError."""

    def __call__(self, form, field):
        data = field.data
        if isinstance(data, int) and abs(data) > 2**53:
            field.data = float("inf") if data > 0 else float("-inf")
            try:
                return super().__call__(form, field)
            finally:
                field.data = data
        return super().__call__(form, field)
