"""Clients of the platform services (Label Studio, Grafana, ...)."""
