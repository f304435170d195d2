"""The bids blueprint."""
