"""Per-environment parameter presets for the deployments in ``prefect.yaml``: one site config per file."""

from pathlib import Path

SITES = Path(__file__).resolve().parent / "sites"
