"""Pinfold's benchmark: throughput against one server process, and a ratio against moto."""
