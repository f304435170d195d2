"""The awards blueprint."""
