"""The shipments blueprint."""
