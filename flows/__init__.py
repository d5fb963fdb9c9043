"""Prefect flows: composition only (which stage follows which, what a failure means)."""
