"""Field types of the API schemas: decimals as strings, ISO 8601 times, bounded ids."""
from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal, InvalidOperation
from typing import Annotated

from pydantic import BeforeValidator, Field, PlainSerializer, WithJsonSchema

from matching import units

MAX_ID = 2**31 - 1
TONNES_PATTERN = r"^[0-9]{1,10}(\.[0-9]{1,3})?$"
MONEY_PATTERN = r"^-?[0-9]{1,10}(\.[0-9]{1,2})?$"
DECIMAL_OUT_PATTERN = r"^-?[0-9]+(\.[0-9]+)?$"


def _decimal_parser(pattern: str, what: str):
    """A validator accepting only strings that match `pattern`, returned as Decimal."""
    compiled = re.compile(pattern)

    def parse(value):
        if isinstance(value, Decimal):
            return value
        if not isinstance(value, str) or not compiled.match(value):
            raise ValueError(f"{what} must be a decimal string such as \"12.5\" (pattern {pattern})")
        try:
            return Decimal(value)
        except InvalidOperation as exc:  # pragma: no cover - the pattern already excludes these
            raise ValueError(what) from exc

    return parse


def format_decimal(value: Decimal | None) -> str | None:
    """A decimal as plain positional notation (never exponent form)."""
    return None if value is None else format(Decimal(value), "f")


def format_timestamp(value: dt.datetime | None) -> str | None:
    """An aware ISO 8601 timestamp in UTC (SQLite hands back naive UTC)."""
    if value is None:
        return None
    if value.tzinfo is None:
        value = value.replace(tzinfo=dt.UTC)
    return value.astimezone(dt.UTC).isoformat().replace("+00:00", "Z")


TonnesIn = Annotated[Decimal, BeforeValidator(_decimal_parser(TONNES_PATTERN, "tonnes")),
                     WithJsonSchema({"type": "string", "pattern": TONNES_PATTERN, "examples": ["1000.5"]})]
MoneyIn = Annotated[Decimal, BeforeValidator(_decimal_parser(MONEY_PATTERN, "yuan")),
                    WithJsonSchema({"type": "string", "pattern": MONEY_PATTERN, "examples": ["-12.50"]})]
DecimalOut = Annotated[Decimal, PlainSerializer(format_decimal, return_type=str),
                       WithJsonSchema({"type": "string", "pattern": DECIMAL_OUT_PATTERN, "examples": ["1000.000"]})]
Timestamp = Annotated[dt.datetime, PlainSerializer(format_timestamp, return_type=str),
                      WithJsonSchema({"type": "string", "format": "date-time"})]
Id = Annotated[int, Field(ge=1, le=MAX_ID)]
Code = Annotated[str, Field(min_length=1, max_length=40, pattern=r"^[a-z0-9_]+$")]


def _quantized(places: int):
    return lambda value: None if value is None else format(units.round_places(value, places), "f")


TonnesOut = Annotated[Decimal, PlainSerializer(_quantized(units.TONNE_PLACES), return_type=str),
                      WithJsonSchema({"type": "string", "pattern": DECIMAL_OUT_PATTERN, "examples": ["1000.000"]})]
MoneyOut = Annotated[Decimal, PlainSerializer(_quantized(units.YUAN_PLACES), return_type=str),
                     WithJsonSchema({"type": "string", "pattern": DECIMAL_OUT_PATTERN, "examples": ["-12.50"]})]
