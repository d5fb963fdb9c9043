"""Inputs checked once at the edge: site configs, YAML files with their lines, SSH endpoints."""
