"""Prefect tasks, one module per domain: plain functions that do the work and thin @task wrappers."""
