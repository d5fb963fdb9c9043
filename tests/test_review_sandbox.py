"""What a reviewed spec's parse-time shell can see of the host (nothing), and what its output becomes in a report.

The spec's ``%(…)`` runs under ``rpmbuild -bs`` in the real bubblewrap sandbox; the build fails (its Source0 is
not given) so the last lines it printed are the CheckBuildSRPM evidence: the channel a spec would leak through.
"""

from __future__ import annotations

import os
import secrets
import shutil
from pathlib import Path

import pytest

from rdoflow.reports.review import render_review
from rdoflow.tasks.review.packages import review_source
from rdoflow.tasks.review.sandbox import run_sandboxed
from rdoflow.tasks.review.sources import ReviewSettings, acquire

PROJECT = Path(__file__).resolve().parents[1]
SPEC = """Name: python-probe
Version: 1.0
Release: 1
%global probe %(sh %{_sourcedir}/probe.sh >&2)
Summary: A spec that looks around%{probe}
License: MIT
URL: https://example.invalid/probe
BuildArch: noarch
Source0: probe-1.0.tar.gz
Source1: probe.sh

%description
Probe.

%files

%changelog
* Mon Sep 16 2024 RDO <dev@example.invalid> 1.0-1
- Probe
"""


@pytest.fixture
def planted(monkeypatch):
    """A secret in each host place the sandbox must not show: /tmp, /run, $HOME and the environment."""
    secret = f"planted-{secrets.token_hex(8)}"
    places = [Path("/tmp") / secret, Path("/run") / secret, Path.home() / f".{secret}"]
    for place in places:
        place.write_text(f"{secret}-in-{place.parent}\n")
    monkeypatch.setenv("RDOFLOW_PROBE_SECRET", f"{secret}-in-env")
    yield secret, places
    for place in places:
        place.unlink(missing_ok=True)


def _probe_distgit(tmp_path: Path, places: list[Path]) -> Path:
    reads = {"shadow": "/etc/shadow", "gshadow": "/etc/gshadow", "project": str(PROJECT / "pyproject.toml"),
             "tmp": str(places[0]), "run": str(places[1]), "home": str(places[2]), "pid1": "/proc/1/environ"}
    script = ["line=PROBE"]
    script += [f'line="$line {name}=[$(head -c 400 {path} 2>/dev/null | tr "\\n\\0" "  ")]"'
               for name, path in reads.items()]
    script += ['line="$line env=[$RDOFLOW_PROBE_SECRET]"', 'echo "$line"']
    distgit = tmp_path / "distgit"
    distgit.mkdir()
    (distgit / "python-probe.spec").write_text(SPEC)
    (distgit / "probe.sh").write_text("\n".join(script) + "\n")
    return distgit


def _report(distgit: Path, tmp_path: Path) -> tuple[str, str]:
    review = review_source(acquire(str(distgit), tmp_path / "work"), ReviewSettings(fetch_sources=False))
    built = next(item for item in review.items if item.check == "CheckBuildSRPM")
    return "\n".join(built.evidence), render_review(review)


def test_a_specs_shell_reads_nothing_of_the_host(tmp_path, planted):
    secret, places = planted
    evidence, report = _report(_probe_distgit(tmp_path, places), tmp_path)
    assert "PROBE shadow=" in evidence  # the probe ran, and its line is in the review
    for name in ("shadow", "gshadow", "project", "tmp", "run", "home", "pid1", "env"):
        assert f"{name}=[]" in evidence, evidence
    shadow = Path("/etc/shadow")
    if os.access(shadow, os.R_OK):
        assert shadow.read_text().split(":")[0] + ":" not in evidence
    assert f"{secret}-in-" not in report and "root_package" not in report


def test_the_sandbox_has_no_project_no_home_no_tmp_and_no_environment(tmp_path, planted):
    secret, places = planted
    ran = run_sandboxed(["sh", "-c", f"ls -A / /etc; cat {PROJECT}/pyproject.toml {' '.join(map(str, places))} "
                                     "/etc/shadow /proc/1/environ; env"], tmp_path, timeout=60)
    listed = ran.stdout.split()
    assert f"{secret}-in-" not in ran.stdout + ran.stderr and "root_package" not in ran.stdout
    # (/root may hold the interpreter, bound read-only by itself: pyenv's is /root/.pyenv/versions/X)
    assert not {"shadow", "gshadow", "ssh", "ssl", "home", "run"} & set(listed), listed
    assert "RDOFLOW_PROBE_SECRET" not in ran.stdout


def test_a_spec_that_prints_without_end_is_cut_and_its_credentials_masked(tmp_path):
    distgit = tmp_path / "distgit"
    distgit.mkdir()
    (distgit / "python-probe.spec").write_text(SPEC)
    (distgit / "probe.sh").write_text("yes 'noise noise noise noise noise noise noise noise' | head -c 50000000\n"
                                      "echo 'password: hunter2-secret'\necho '<b>`escaped`</b>'\n")
    _, report = _report(distgit, tmp_path)
    assert "hunter2-secret" not in report and "password: **********" in report
    assert "`escaped`" not in report
    assert len(report.encode()) < 64 << 10


def test_output_is_bounded_while_read_keeping_the_tail(tmp_path):
    ran = run_sandboxed(["sh", "-c", "yes 0123456789 | head -c 50000000; echo; echo the-last-line"], tmp_path,
                        timeout=120)
    assert ran.stdout.splitlines()[-1] == "the-last-line"
    assert len(ran.stdout) <= 4 << 20 and ran.dropped_lines > 4_000_000


def test_the_review_tools_still_work_in_the_empty_sandbox(tmp_path):
    shutil.copyfile(PROJECT / "tests" / "fixtures" / "sdists" / "osc-lib-3.1.0.tar.gz", tmp_path / "osc.tar.gz")
    ran = run_sandboxed(["sh", "-c", "rpm --version && rpmbuild --version && licensecheck --version && "
                                     "python3 -c 'import sys; print(sys.version)' && tar tzf osc.tar.gz | head -1"],
                        tmp_path, timeout=60)
    assert ran.exit_status == 0, ran.tail(10)


def test_a_specs_shell_sees_the_sandboxs_own_users_not_the_hosts(tmp_path):
    """/etc/passwd and /etc/group in the sandbox are its own (root, the build user, nobody): a spec's
    ``%(cat /etc/passwd)`` does not list the host's accounts, and the tools still map names to ids."""
    import grp
    import pwd

    host_users = {entry.pw_name for entry in pwd.getpwall()} - {"root", "nobody", pwd.getpwuid(os.getuid()).pw_name}
    host_groups = {entry.gr_name for entry in grp.getgrall()} - {"root", "nobody", "nogroup",
                                                                  grp.getgrgid(os.getgid()).gr_name}
    assert host_users and host_groups, "this host has no other accounts to hide"
    distgit = tmp_path / "distgit"
    distgit.mkdir()
    (distgit / "python-probe.spec").write_text(SPEC)
    (distgit / "probe.sh").write_text('echo "USERS [$(cut -d: -f1 /etc/passwd | tr "\\n" " ")]"\n'
                                      'echo "GROUPS [$(cut -d: -f1 /etc/group | tr "\\n" " ")]"\n'
                                      'echo "ME [$(id -un):$(id -gn)]"\n')
    evidence, _ = _report(distgit, tmp_path)
    users = next(line for line in evidence.splitlines() if "USERS [" in line).split("[", 1)[1].rstrip("]").split()
    groups = next(line for line in evidence.splitlines() if "GROUPS [" in line).split("[", 1)[1].rstrip("]").split()
    assert "root" in users and "nobody" in users, evidence
    assert not host_users & set(users), users
    assert not host_groups & set(groups), groups
    me = f"[{pwd.getpwuid(os.getuid()).pw_name}:{grp.getgrgid(os.getgid()).gr_name}]"
    assert f"ME {me}" in evidence, evidence
