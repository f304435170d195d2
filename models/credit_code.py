"""Unified social credit code (统一社会信用代码) validation per GB 32100-2015."""
from __future__ import annotations

# GB 32100-2015 §4: the code alphabet excludes I, O, Z, S, V.
ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)
VALUES = {ch: i for i, ch in enumerate(ALPHABET)}


class CreditCodeError(ValueError):
    """A unified social credit code that fails GB 32100 validation; `kind` and `params` let a UI translate it."""

    def __init__(self, message: str, kind: str, **params: object) -> None:
        super().__init__(message)
        self.kind = kind
        self.params = params


def check_character(first17: str) -> str:
    """Return the 18th (check) character for the first 17 characters of a code."""
    total = sum(VALUES[ch] * w for ch, w in zip(first17, WEIGHTS, strict=True))
    return ALPHABET[(31 - total % 31) % 31]


def normalise_credit_code(code: str) -> str:
    """Return the code upper-cased and stripped, or raise CreditCodeError saying why."""
    code = (code or "").strip().upper()
    if len(code) != 18:
        raise CreditCodeError(f"must be 18 characters, got {len(code)}", "length", length=len(code))
    bad = sorted({ch for ch in code if ch not in VALUES})
    if bad:
        raise CreditCodeError(f"contains characters not allowed: {''.join(bad)}", "characters", bad="".join(bad))
    expected = check_character(code[:17])
    if code[17] != expected:
        raise CreditCodeError(f"check character should be {expected}, got {code[17]}", "check",
                              expected=expected, got=code[17])
    return code


def make_credit_code(body17: str) -> str:
    """Append the check character to a 17-character body (used for demo data)."""
    return body17 + check_character(body17)
