"""Seasonal planning pages: a year of months, kiln calendars, base yards and what-ifs."""
