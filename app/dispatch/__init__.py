"""Dispatch blueprint: a carrier's trucks, route planning of its loads, run sheets."""
