"""The lab as a site: today its undercloud host (a loopback sshd) and the site config that reaches it."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import yaml

from lab.sshd import LoopbackSSHD, start_sshd


def lab_site_config(server: LoopbackSSHD) -> dict:
    """A site config for the lab: its sshd, host keys verified, minimums a CI machine meets."""
    return {
        "name": "lab",
        "undercloud": {
            "ssh": server.endpoint().model_dump(mode="json"),
            # The lab shares this machine: ask for what a 2-core CI runner has, and
            # do not require an FQDN that a throwaway machine is rarely given.
            "minimums": {"cpus": 1, "ram_gb": 1, "disk_gb": 1, "disk_path": "/"},
            "require_fqdn": False,
        },
    }


@contextmanager
def running_lab(root: Path) -> Iterator[Path]:
    """Bring the lab up under ``root`` for the duration of the block; yields its site config file."""
    server = start_sshd(root / "undercloud-ssh")
    try:
        site_file = root / "site.yaml"
        site_file.write_text(yaml.safe_dump(lab_site_config(server), sort_keys=False))
        yield site_file
    finally:
        server.stop()
