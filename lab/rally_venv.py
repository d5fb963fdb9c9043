"""The real Rally's venv: Rally 5.1.1 with rally-openstack 4.1.0, for ``kind: rally-task`` in the lab.

Pinned as /work/shared/notes/real-tempest.md verified them (installed in 1 min 14 s). Kept apart from
the lab's and Tempest's venvs: Rally's pins are its own. ``rally verify`` in the lab stays the stand-in
(lab/tripleo/rally_cmd.py); the lab host's ``rally`` sends the other subcommands here.
"""

from __future__ import annotations

from .venv import VenvSpec

RALLY = VenvSpec("rally", "Rally 5.1.1, rally-openstack 4.1.0", ("rally==5.1.1", "rally-openstack==4.1.0"))
