"""Lots: browse and read."""
