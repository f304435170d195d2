"""Bases and province: utilisation dashboards, generation reports, targets, warnings, scenarios, evaluations."""
