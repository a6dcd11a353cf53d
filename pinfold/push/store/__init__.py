"""Push's SQL."""
