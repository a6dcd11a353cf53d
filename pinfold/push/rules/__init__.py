"""Push's pure rules: no I/O."""
