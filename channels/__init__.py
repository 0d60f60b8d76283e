"""Delivery of notify jobs: one module per method (apprise, plivo)."""
