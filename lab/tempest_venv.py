"""The real Tempest's venv: Tempest 47 with the Ironic and Heat plugins, for ``suite.tempest: real``.

Pinned as /work/shared/notes/real-tempest.md verified them together (``pip check`` clean), with the
lab's stestr. Kept apart from the lab's venv: Tempest's pins are not Ironic's and Heat's.
"""

from __future__ import annotations

from .venv import VenvSpec

TEMPEST = VenvSpec(
    "tempest", "Tempest 47.0.0, ironic-tempest-plugin 3.2.0, heat-tempest-plugin 3.0.0",
    ("tempest==47.0.0", "ironic-tempest-plugin==3.2.0", "heat-tempest-plugin==3.0.0",
     "python-tempestconf==3.5.4", "stestr==4.2.1"),
)
