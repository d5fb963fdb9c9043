"""Two pre-release drops of real packages for the drop-review tests.

Local distgits are git repositories made from real RDO specs (tests/fixtures/specs): python-osc-lib's
dalmatian spec, then the same with ``License: ASL 2.0`` (not SPDX: CheckLicenseTag turns red); python-stevedore's
yoga spec (``ASL 2.0``), then with ``Apache-2.0`` (RDO's SPDX change: fixed). python-oslo-middleware's distgit is
on a loopback port nothing listens on. The other rows are DLRN's own sample versions.csv
(tests/fixtures/dlrn/versions.csv); the second drop has openstack-nova's build failed (its row keeps the last
good build) and python-virtualbmc removed.
"""

from __future__ import annotations

import os
import subprocess
from dataclasses import dataclass
from pathlib import Path

FIXTURES = Path(__file__).parent / "fixtures"
HEADER = ("Project,Source Repo,Source Sha,Dist Repo,Dist Sha,Status,Last Success Timestamp,Component,"
          "Extended Sha,Pkg NVR")
UNREACHABLE = "https://127.0.0.1:1/rdo-packages/oslo-middleware-distgit.git"  # port 1: connection refused
# Upstream commits of the packages (the Source Sha column): the drops differ in their distgits only.
OSC_LIB_SOURCE = "c5e4b35c2b4bb0e5e4bd0f0c2f2e38d1a8b8f7e1"
STEVEDORE_SOURCE = "0c0b4b2b5d3f1a6e7c8d9e0f1a2b3c4d5e6f7a8b"
MIDDLEWARE_SOURCE = "5d3e1ca2aed9a1d48a5ac9d2c6e3b1f4a7b8c9d0"


def git(repo: Path, *args: str) -> str:
    """git in ``repo`` with a fixed author and date, so that the commits' hashes are the same every run."""
    env = {**os.environ, "GIT_AUTHOR_NAME": "RDO", "GIT_AUTHOR_EMAIL": "dev@lists.rdoproject.org",
           "GIT_COMMITTER_NAME": "RDO", "GIT_COMMITTER_EMAIL": "dev@lists.rdoproject.org",
           "GIT_AUTHOR_DATE": "2024-09-16T12:00:00Z", "GIT_COMMITTER_DATE": "2024-09-16T12:00:00Z"}
    return subprocess.run(["git", "-C", str(repo), *args], check=True, capture_output=True, text=True,
                          env=env).stdout.strip()


def commit_spec(repo: Path, name: str, text: str, message: str) -> str:
    """Commit ``text`` as ``name`` in ``repo`` (created on first use); the commit's hash."""
    if not repo.exists():
        repo.mkdir(parents=True)
        git(repo, "init", "-q", "-b", "rpm-master")
    (repo / name).write_text(text)
    git(repo, "add", name)
    git(repo, "commit", "-q", "-m", message)
    return git(repo, "rev-parse", "HEAD")


@dataclass
class Drops:
    """The two drops' versions.csv texts, and the distgits' commits."""

    first: str
    second: str
    osc_lib: tuple[str, str]
    stevedore: tuple[str, str]
    distgits: Path


def row(project: str, source_repo: str, source_sha: str, dist_repo: str, dist_sha: str, nvr: str,
        component: str, *, status: str = "SUCCESS", stamp: int = 1726488000) -> str:
    """A versions.csv row as DLRN's dumpshas2file writes it."""
    return f"{project},{source_repo},{source_sha},{dist_repo},{dist_sha},{status},{stamp},{component},None,{nvr}"


def make_drops(root: Path) -> Drops:
    specs = FIXTURES / "specs"
    osc, stevedore = root / "osc-lib-distgit", root / "stevedore-distgit"
    osc_spec = (specs / "python-osc-lib-3.1.0.spec").read_text()
    osc_a = commit_spec(osc, "python-osc-lib.spec", osc_spec, "Update to 3.1.0")
    osc_b = commit_spec(osc, "python-osc-lib.spec", osc_spec.replace("License:    Apache-2.0", "License:    ASL 2.0"),
                        "Use the old license tag")
    stevedore_spec = (specs / "python-stevedore-3.5.2.spec").read_text()
    st_c = commit_spec(stevedore, "python-stevedore.spec", stevedore_spec, "Update to 3.5.2")
    st_d = commit_spec(stevedore, "python-stevedore.spec",
                       stevedore_spec.replace("License:        ASL 2.0", "License:        Apache-2.0"),
                       "Use SPDX license identifiers")
    sample = (FIXTURES / "dlrn" / "versions.csv").read_text().splitlines()[1:]

    def drop(osc_sha: str, st_sha: str, middleware_sha: str, second: bool) -> str:
        rows = []
        for line in sample:
            if second and line.startswith("python-virtualbmc,"):
                continue  # removed from the second drop
            if second and line.startswith("openstack-nova,"):
                line = line.replace(",SUCCESS,", ",FAILED,")  # its build failed: the row keeps the last good one
            rows.append(line)
        rows += [row("python-osc-lib", "https://opendev.org/openstack/osc-lib", OSC_LIB_SOURCE, osc.as_uri(),
                     osc_sha, "python-osc-lib-3.1.0-1.el9", "clients"),
                 row("python-stevedore", "https://opendev.org/openstack/stevedore", STEVEDORE_SOURCE,
                     stevedore.as_uri(), st_sha, "python-stevedore-3.5.2-1.el9", "clients"),
                 row("python-oslo-middleware", "https://opendev.org/openstack/oslo.middleware", MIDDLEWARE_SOURCE,
                     UNREACHABLE, middleware_sha, "python-oslo-middleware-6.1.0-1.el9", "common")]
        return "\n".join([HEADER, *rows]) + "\n"

    return Drops(first=drop(osc_a, st_c, "1" * 40, False), second=drop(osc_b, st_d, "2" * 40, True),
                 osc_lib=(osc_a, osc_b), stevedore=(st_c, st_d), distgits=root)
