"""Delivery adapters: each turns a ready message into an outcome; the sending pipeline decides the rest."""
