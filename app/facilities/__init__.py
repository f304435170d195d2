"""Facilities: create and edit located plants and yards, and the offline base map."""
