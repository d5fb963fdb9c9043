"""The rdoflow command's own contract: version, help, unknown names, exit codes."""

from __future__ import annotations

import subprocess
import sys
from importlib.metadata import version
from pathlib import Path

RDOFLOW = str(Path(sys.executable).with_name("rdoflow"))


def _rdoflow(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([RDOFLOW, *args], cwd=cwd, capture_output=True, text=True, timeout=120)


def test_version_prints_the_installed_version():
    done = _rdoflow("--version")
    assert (done.returncode, done.stdout.strip()) == (0, f"rdoflow {version('rdoflow')}")


def test_help_lists_the_commands():
    done = _rdoflow("--help")
    assert done.returncode == 0
    for command in ("config", "run", "nightly"):
        assert command in done.stdout


def test_an_unknown_flow_is_bad_input_that_lists_the_known_ones(tmp_path):
    (tmp_path / "site.yaml").write_text("name: lab\nundercloud: {ssh: {host: uc}}\n")
    done = _rdoflow("run", "overcloud-deplyo", "--site", "site.yaml", cwd=tmp_path)
    assert done.returncode == 2
    assert "unknown flow 'overcloud-deplyo'; expected one of: nightly, node-introspection, package-review, undercloud-preflight, watch-prerelease" in done.stderr


def test_a_site_file_that_does_not_exist_is_bad_input(tmp_path):
    done = _rdoflow("config", "validate", "missing.yaml", cwd=tmp_path)
    assert (done.returncode, done.stderr.strip()) == (2, "missing.yaml: no such file")
