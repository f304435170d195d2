"""Exports blueprint: one download per table of my own records."""
