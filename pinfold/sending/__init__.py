"""The one sending pipeline: queued messages → checks → render → deliver → outcomes and events."""
