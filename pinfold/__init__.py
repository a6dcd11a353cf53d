"""Pinfold: self-hosted, multi-tenant customer engagement with Pinpoint-compatible APIs."""

__version__ = "0.1.0"
