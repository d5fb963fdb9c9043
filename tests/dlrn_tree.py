"""A DLRN-like tree on disk, as a DLRN server publishes it, for the pre-release tests to serve over HTTP.

Builds live under ``<h[0:2]>/<h[2:4]>/<commit>_<distro[:8]>/`` with commit.yaml, delorean.repo and
delorean.repo.md5; a promotion link (``current-passed-ci``) is a symlink to one of them. Field
names and string-typed values follow the real commit.yaml copies in tripleo-repos' test fakes.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

COMMIT_YAML = """commits:
- artifacts: repos/{p1}/{p2}/{commit}_{short}/python-osc-lib-3.1.0-0.{built}.{commit7}.el9.src.rpm
  civotes: '[]'
  commit_branch: master
  commit_hash: {commit}
  component: {component}
  distgit_dir: /home/dlrn/data/python-osc-lib_distro/
  distro_hash: {distro}
  dt_build: '{built}'
  dt_commit: '{built}.0'
  dt_distro: '{built}'
  extended_hash: {extended}
  id: '{id}'
  notes: OK
  project_name: python-osc-lib
  promotions: '[]'
  repo_dir: /home/dlrn/data/python-osc-lib
  status: SUCCESS
"""


class DlrnTree:
    """Write builds and move promotion links under ``root``."""

    def __init__(self, root: Path, server: str = "http://127.0.0.1"):
        self.root, self.server = root, server

    def build(self, commit: str, distro: str, built: int, *, extended: str = "None", component: str = "None") -> str:
        """Publish one build; returns its full hash."""
        short = distro[:8]
        path = self.root / commit[:2] / commit[2:4] / f"{commit}_{short}"
        path.mkdir(parents=True, exist_ok=True)
        (path / "commit.yaml").write_text(COMMIT_YAML.format(
            p1=commit[:2], p2=commit[2:4], commit=commit, commit7=commit[:7], short=short, distro=distro,
            built=built, extended=extended, component=component, id=built % 10000))
        repo = (f"[delorean]\nname=delorean-python-osc-lib-{commit}\n"
                f"baseurl={self.server}/{commit[:2]}/{commit[2:4]}/{commit}_{short}\n"
                "enabled=1\ngpgcheck=0\npriority=1\n")
        (path / "delorean.repo").write_text(repo)
        (path / "delorean.repo.md5").write_text(hashlib.md5(repo.encode()).hexdigest() + "\n")
        return f"{commit}_{short}"

    def promote(self, full_hash: str, link: str = "current-passed-ci") -> None:
        """Point ``link`` at a build, replacing the link atomically as DLRN does."""
        commit = full_hash.split("_")[0]
        target = Path(commit[:2]) / commit[2:4] / full_hash
        staging = self.root / f".{link}.new"
        staging.unlink(missing_ok=True)
        os.symlink(target, staging)
        os.replace(staging, self.root / link)
