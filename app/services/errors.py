"""Errors a service raises for the view (or API) to show the user."""
from __future__ import annotations


class ServiceError(Exception):
    """A use case refused; `field` names the form field at fault, when there is one."""

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field


class PermissionDenied(ServiceError):
    """The user may not do this."""


class Throttled(ServiceError):
    """Too many attempts; try again after `retry_after` seconds."""

    def __init__(self, message: str, retry_after: int) -> None:
        super().__init__(message)
        self.retry_after = retry_after
