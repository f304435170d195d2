"""Administration: verify organisations."""
