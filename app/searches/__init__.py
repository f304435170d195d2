"""Saved searches blueprint."""
