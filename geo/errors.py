"""Exceptions raised by the geo package."""

from __future__ import annotations


class OutOfRegionError(ValueError):
    """A coordinate lies outside Heilongjiang and its service area."""


class UnknownPlaceError(KeyError):
    """A place name matches no prefecture or county (or matches several)."""

    def __str__(self) -> str:
        # KeyError.__str__ quotes its argument; show the message as written.
        return str(self.args[0]) if self.args else ""
