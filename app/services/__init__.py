"""Use cases: each function owns its transaction and its audit event."""
