"""Voting a drop's result back to DLRN's real API on 127.0.0.1 and reading it back; how each refusal reads.

One DLRN for the module (the lab's, started on its own), with one drop published through it."""

from __future__ import annotations

import json
import subprocess
import uuid
from pathlib import Path

import pytest
from pydantic import SecretStr, ValidationError

from rdoflow.blocks.dlrn import DlrnApiCredentials
from rdoflow.lab.dlrn_service import CI_USER, DLRN
from rdoflow.lab.drops import publish_drop
from rdoflow.lab.sshd import free_ports
from rdoflow.lab.venv import venv_dir
from rdoflow.tasks.prerelease.dlrn import read_drop
from rdoflow.tasks.prerelease.vote import (
    MAX_ANSWER,
    DlrnApiError,
    DlrnApiUnavailable,
    UnknownBuild,
    VoteLoginRefused,
    VoteTarget,
    read_votes,
    report_result,
)
from rdoflow.tasks.retries import is_transient
from tests.dlrn_lab import running_dlrn
from tests.loopback_http import flooding

REPORT = "https://ci.example.org/rdoflow/runs/{}/report.html"


@pytest.fixture(scope="module")
def dlrn(tmp_path_factory):
    with running_dlrn(tmp_path_factory.mktemp("dlrn") / "dlrn") as endpoint:
        yield endpoint


@pytest.fixture(scope="module")
def drop(dlrn):
    published = publish_drop(dlrn)
    return read_drop(published.base_url, published.link, timeout=30)


@pytest.fixture(scope="module")
def api(dlrn):
    return DlrnApiCredentials(url=dlrn.api_url, username=dlrn.username, password=SecretStr(dlrn.password))


def job() -> str:
    return f"rdoflow-nightly-{uuid.uuid4().hex[:8]}"


def test_a_success_is_voted_on_the_drops_build_and_read_back(api, drop):
    job_id = job()
    vote = report_result(api, VoteTarget.for_drop(drop), job_id=job_id, success=True,
                         info_url=REPORT.format(job_id), notes="verdict: green", timestamp=1796659000)
    assert (vote.job_id, vote.success, vote.url, vote.notes, vote.user, vote.timestamp) == (
        job_id, True, REPORT.format(job_id), "verdict: green", CI_USER, 1796659000)
    assert (vote.commit_hash, vote.distro_hash) == (drop.components[0].commit_hash, drop.components[0].distro_hash)
    assert vote in read_votes(api, VoteTarget.for_drop(drop))


def test_a_failure_is_voted_as_failure_with_the_reports_url(api, drop):
    job_id = job()
    vote = report_result(api, VoteTarget.for_drop(drop), job_id=job_id, success=False, info_url=REPORT.format(job_id))
    assert (vote.success, vote.url) == (False, REPORT.format(job_id))


def test_dlrnapi_client_reads_the_vote_rdoflow_made(api, drop, dlrn):
    """The field's own client (``dlrnapi repo-status``, from the lab's DLRN venv) lists rdoflow's vote."""
    job_id = job()
    report_result(api, VoteTarget.for_drop(drop), job_id=job_id, success=True, info_url=REPORT.format(job_id))
    build = drop.components[0]
    done = subprocess.run([str(venv_dir(DLRN) / "bin/dlrnapi"), "--url", dlrn.api_url, "repo-status",
                           "--commit-hash", build.commit_hash, "--distro-hash", build.distro_hash],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    listed = {vote["job_id"]: vote for vote in json.loads(done.stdout)}
    assert (listed[job_id]["success"], listed[job_id]["url"]) == (True, REPORT.format(job_id))


def test_a_vote_already_made_for_the_same_report_is_not_made_twice(api, drop):
    job_id, target = job(), VoteTarget.for_drop(drop)
    first = report_result(api, target, job_id=job_id, success=True, info_url=REPORT.format(job_id))
    again = report_result(api, target, job_id=job_id, success=True, info_url=REPORT.format(job_id))
    assert again == first
    assert [vote.job_id for vote in read_votes(api, target)].count(job_id) == 1


def test_a_wrong_password_is_a_refused_login_naming_the_user_and_the_url_not_the_password(api, drop):
    wrong = "not-the-" + api.password.get_secret_value()
    refused = api.model_copy(update={"password": SecretStr(wrong)})
    with pytest.raises(VoteLoginRefused) as caught:
        report_result(refused, VoteTarget.for_drop(drop), job_id=job(), success=True, info_url="https://ci/1")
    shown = caught.value.render()
    assert f"refused the login of user '{CI_USER}'" in shown and api.url in shown and "HTTP 401" in shown
    assert wrong not in shown and api.password.get_secret_value() not in shown
    assert not is_transient(caught.value)


def test_an_unknown_build_is_refused_with_dlrns_message(api, drop):
    target = VoteTarget(commit_hash="0" * 40, distro_hash=drop.components[0].distro_hash)
    with pytest.raises(UnknownBuild) as caught:
        report_result(api, target, job_id=job(), success=True, info_url="https://ci/2")
    assert "commit_hash+distro_hash+extended_hash combination not found" in caught.value.message
    assert "0" * 40 in caught.value.message
    assert not is_transient(caught.value)


def test_an_unknown_aggregate_hash_is_refused_with_dlrns_message(api):
    with pytest.raises(UnknownBuild, match="aggregate_hash not found"):
        report_result(api, VoteTarget(aggregate_hash="d41d8cd98f00b204e9800998ecf8427e"), job_id=job(),
                      success=False, info_url="https://ci/3")


def test_an_api_that_is_down_is_transient():
    port = free_ports(1)[0]  # nothing listens on it
    api = DlrnApiCredentials(url=f"http://127.0.0.1:{port}", username=CI_USER, password=SecretStr("unused"), timeout=5)
    with pytest.raises(DlrnApiUnavailable) as caught:
        report_result(api, VoteTarget(commit_hash="a" * 40, distro_hash="b" * 40), job_id=job(), success=True,
                      info_url="https://ci/4")
    assert f"127.0.0.1:{port}" in caught.value.message
    assert is_transient(caught.value)


def test_an_answer_larger_than_the_bound_is_not_read_whole():
    """A hostile server (a stand-in: DLRN itself answers no such thing) floods repo_status."""
    with flooding(MAX_ANSWER * 4) as url:
        api = DlrnApiCredentials(url=url, username=CI_USER, password=SecretStr("unused"), timeout=30)
        with pytest.raises(DlrnApiError, match=f"more than {MAX_ANSWER} bytes"):
            read_votes(api, VoteTarget(commit_hash="a" * 40, distro_hash="b" * 40))


def test_a_target_is_a_builds_hashes_or_an_aggregate_hash_not_both():
    with pytest.raises(ValidationError, match="not both"):
        VoteTarget(commit_hash="a" * 40, distro_hash="b" * 40, aggregate_hash="c" * 32)
    with pytest.raises(ValidationError, match="needs its commit_hash and distro_hash"):
        VoteTarget(commit_hash="a" * 40)


def test_the_block_keeps_the_password_secret_and_wants_an_http_url():
    block = DlrnApiCredentials(url="https://trunk.example.org/api-centos9-master/", username="ci",
                               password=SecretStr("s3cret"))
    assert block.url == "https://trunk.example.org/api-centos9-master"
    assert "s3cret" not in repr(block) and "s3cret" not in str(block.model_dump())
    with pytest.raises(ValidationError, match="not an http"):
        DlrnApiCredentials(url="trunk.example.org", username="ci", password=SecretStr("s3cret"))


def test_the_password_reaches_no_log_of_the_server(api, drop, dlrn):
    report_result(api, VoteTarget.for_drop(drop), job_id=job(), success=True, info_url="https://ci/5")
    logs = list(Path(dlrn.root).glob("*.log"))
    assert any(b"rdoflow-ci" in log.read_bytes() for log in logs)  # DLRN logs the login, by user name
    assert not [log for log in logs if api.password.get_secret_value().encode() in log.read_bytes()]
