"""The notifications blueprint."""
