"""``rdoflow config validate``: the summary of a good site (exit 0), every problem of a bad one (exit 2),
never a traceback."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from rdoflow.config.site import load_site
from rdoflow.config.summary import describe_site
from tests.test_site_config import GOOD, SITES, SSH_FIELDS, write_site


def test_the_summary_says_what_the_site_holds():
    assert describe_site(load_site(GOOD)) == [
        "site: rdo-lab-east",
        "undercloud: stack@undercloud.lab.example.com:2222 (host keys: verify)",
        "undercloud minimums: 12 CPUs, 32 GiB RAM, 120 GiB free on /home",
        f"cloud: 'undercloud' from {SITES}/clouds.yaml, region regionOne",
        f"inventory: {SITES}/instackenv.json (3 nodes)",
        "overcloud: stack 'overcloud', Controller=1, Compute=2, 2 environment file(s)",
        "regression: tempest in /home/stack/tempest, 2 include and 1 exclude pattern(s), concurrency 2",
        "upgrade: undercloud then Controller then Compute",
        "policy: 2 known failure(s), 1 flaky pattern(s), slower above 2x and +10 s",
        "results: s3://ci-results/rdo-lab-east",
    ]


def rdoflow(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "rdoflow.cli.main", *args], cwd=cwd, capture_output=True,
                          text=True, timeout=120)


def test_config_validate_prints_each_problem_and_exits_2(tmp_path):
    (tmp_path / "site.yaml").write_text(
        "name: lab\nundercloud:\n  ssh:\n    host: uc\n    prot: 22\n    private_key_file: keys/undercloud_key\n"
    )
    result = rdoflow("config", "validate", "site.yaml", cwd=tmp_path)
    assert result.returncode == 2
    assert result.stderr.splitlines() == [
        f"site.yaml: undercloud.ssh.prot: unknown field; expected one of: {SSH_FIELDS} (did you mean 'port'?) "
        "(line 5)",
        f"site.yaml: undercloud.ssh.private_key_file: no such file: {tmp_path}/keys/undercloud_key (line 6)",
    ]
    assert result.stdout == ""


def test_config_validate_prints_the_summary_of_a_good_site_and_exits_0():
    result = rdoflow("config", "validate", "sites/good.yaml", cwd=SITES.parent)
    assert (result.returncode, result.stderr) == (0, "")
    assert result.stdout.splitlines() == describe_site(load_site(GOOD))


@pytest.mark.parametrize("content", ["", "name: [\n", "- a\n", b"\xff\xfe"], ids=["empty", "syntax", "list", "bytes"])
def test_config_validate_never_shows_a_traceback(tmp_path, content):
    write_site(tmp_path, content)
    result = rdoflow("config", "validate", "site.yaml", cwd=tmp_path)
    assert result.returncode == 2
    assert "Traceback" not in result.stdout + result.stderr
    assert result.stderr.startswith("site.yaml")


@pytest.mark.parametrize("host", ["uc", "undercloud.lab.example.com", "uc-1.example.com.", "192.0.2.10", "2001:db8::10",
                                  "fe80::1%eth0"])
def test_a_host_name_or_an_ip_address_is_a_valid_ssh_host(host):
    from rdoflow.config.ssh import SSHEndpoint

    assert SSHEndpoint(host=host, username="stack.admin_1").host == host
