"""Domain errors raised by the matching package."""


class ProblemError(ValueError):
    """An input problem is malformed; the message names the offending entry."""

    def __init__(self, message: str, entry: str | None = None):
        self.detail = message
        self.entry = entry
        super().__init__(f"{entry}: {message}" if entry else message)

    def located(self, entry: str) -> "ProblemError":
        """Return a copy of this error attributed to ``entry`` (e.g. 'lots[3] (id "L4")')."""
        return ProblemError(self.detail, entry)


class SolverError(RuntimeError):
    """A solver did not reach a usable (optimal or feasible) answer."""
