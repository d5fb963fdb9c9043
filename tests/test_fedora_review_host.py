"""The fedora-review backend over SSH, against the real loopback sshd.

fedora-review itself cannot exist on this Debian machine (it needs mock and a Fedora userland,
and is in neither Debian nor PyPI), so the review host runs a stand-in script with fedora-review's
command line: it reads the uploaded SRPM with the real rpm, and writes a real fedora-review
0.6.1 review.txt into review-NAME/, as fedora-review does. Everything else is the real path:
the SRPM built by rpmbuild in the sandbox, SFTP upload, the remote command, the download, the parser.
"""

from __future__ import annotations

import hashlib
import shutil
from pathlib import Path

import pytest

from rdoflow.config.ssh import SSHTarget
from rdoflow.tasks.review.fedora_review import FedoraReviewFailed
from rdoflow.tasks.review.packages import review_source
from rdoflow.tasks.review.sources import ReviewSettings, acquire

FIXTURES = Path(__file__).parent / "fixtures"
STANDIN = """#!/bin/bash
# Stand-in for fedora-review (see the test module's docstring).
set -eu
echo "$@" > {calls}
while [ $# -gt 0 ]; do case "$1" in -n) srpm=$2; shift 2;; *) shift;; esac; done
name=$(rpm -qp --qf '%{{NAME}}' "$srpm")
{write}
"""


def _standin(tmp_path: Path, write: str) -> Path:
    script = tmp_path / "fedora-review"
    script.write_text(STANDIN.format(calls=tmp_path / "calls", write=write))
    script.chmod(0o755)
    return script


def _distgit(tmp_path: Path) -> Path:
    distgit = tmp_path / "distgit"
    distgit.mkdir()
    shutil.copyfile(FIXTURES / "specs" / "python-osc-lib-3.1.0.spec", distgit / "python-osc-lib.spec")
    shutil.copyfile(FIXTURES / "sdists" / "osc-lib-3.1.0.tar.gz", distgit / "osc-lib-3.1.0.tar.gz")
    return distgit


def _settings(sshd, tmp_path: Path, script: Path) -> ReviewSettings:
    return ReviewSettings(backend="fedora-review", fetch_sources=False, fedora_review_command=str(script),
                          review_host=SSHTarget(**sshd.endpoint().model_dump()),
                          review_workdir=str(tmp_path / "host"), mock_config="dlrn-centos9stream-x86_64")


def test_the_srpm_is_reviewed_on_the_host_and_its_report_read(sshd, tmp_path):
    report = FIXTURES / "fedora-review" / "gasnet-0.6.1.review.txt"
    script = _standin(tmp_path, f'mkdir -p "review-$name" && cp {report} "review-$name/review.txt"')
    source = acquire(str(_distgit(tmp_path)), tmp_path / "work")
    review = review_source(source, _settings(sshd, tmp_path, script))
    assert (review.backend, review.package, review.sha256) == ("fedora-review", source.ref, source.sha256)
    assert review.items[0].text == "Package does not use a name that already exists."
    assert review.failed and len(review.lint_errors()) == 52
    uploaded = tmp_path / "host" / "python-osc-lib-3.1.0-1.el9" / "python-osc-lib-3.1.0-1.el9.src.rpm"
    built = tmp_path / "work" / "work" / "SRPMS" / uploaded.name
    assert hashlib.sha256(uploaded.read_bytes()).digest() == hashlib.sha256(built.read_bytes()).digest()
    assert (tmp_path / "calls").read_text().split() == [
        "-v", "--rpm-spec", "-n", uploaded.name, "-m", "dlrn-centos9stream-x86_64"]
    assert (tmp_path / "host" / uploaded.parent.name / "review-python-osc-lib" / "review.txt").exists()


def test_a_host_run_that_leaves_no_report_is_an_error_with_its_output(sshd, tmp_path):
    script = _standin(tmp_path, 'echo "mock: chroot dlrn-centos9stream-x86_64 not found" >&2; exit 30')
    source = acquire(str(_distgit(tmp_path)), tmp_path / "work")
    with pytest.raises(FedoraReviewFailed) as caught:
        review_source(source, _settings(sshd, tmp_path, script))
    assert "exited 30" in caught.value.evidence[0]
    assert "stderr: mock: chroot dlrn-centos9stream-x86_64 not found" in caught.value.evidence
