"""The clearing blueprint."""
