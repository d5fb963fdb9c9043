"""The parts of applying a drop that need no lab: the steps per release, the drop's ContainerImagePrepare,
what changed between two package sets, how a failed update is named, the lab's drop repositories (real
rpmbuild, createrepo_c and rpm), and reading the drop's delorean.repo from a DLRN server on loopback."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
import yaml

from rdoflow.config.site import SiteConfig
from rdoflow.errors import ConfigError
from rdoflow.lab.rpms import drop_repo
from rdoflow.outcome import CommandResult, Outcome
from rdoflow.tasks.overcloud.commands import update_steps
from rdoflow.tasks.prerelease.apply import drop_path, drop_steps
from rdoflow.tasks.prerelease.dlrn import DropNotFound, read_drop
from rdoflow.tasks.prerelease.images import base_entries, drop_prepare
from rdoflow.tasks.prerelease.packages import (
    changes,
    fetch_repo_file,
    parse_packages,
    repo_baseurls,
    update_failed,
)
from tests.dlrn_tree import DlrnTree
from tests.loopback_http import serve_directory

HASH = "587ffdd6ff4e8ad6a36bb3bd55d2bd6ab2ee4b93_8170b868"
SITE = SiteConfig.model_validate({"name": "lab", "undercloud": {"ssh": {"host": "uc"}, "release": "zed"},
                                  "overcloud": {"roles": {"Controller": 1, "Compute": 2}}})


def test_the_minor_update_runs_each_role_in_order_and_converges_only_where_the_client_can():
    zed = update_steps(SITE.overcloud, SITE.upgrade, 600, "zed", ["images.yaml"])
    assert [step.name for step in zed] == ["undercloud upgrade", "update prepare", "update run Controller",
                                           "update run Compute"]
    prepare = zed[1].argv
    assert prepare[:4] == ["openstack", "overcloud", "update", "prepare"]
    assert prepare[prepare.index("overcloud-baremetal-deployed-overcloud.yaml") + 1:][:2] == ["-e", "images.yaml"]
    assert zed[3].argv == ["openstack", "overcloud", "update", "run", "--limit", "Compute", "--stack", "overcloud", "-y"]
    assert zed[3].hosts == 2 and not zed[1].drives_stack  # Zed's ephemeral Heat is gone when prepare ends
    assert [s.name for s in update_steps(SITE.overcloud, SITE.upgrade, 600, "wallaby")][-1] == "update run Compute"
    train = update_steps(SITE.overcloud, SITE.upgrade, 600, "train")
    assert train[-1].name == "update converge" and train[-1].drives_stack


def test_the_site_chooses_the_major_upgrade_which_then_takes_the_drops_images():
    site = SITE.model_copy(update={"drop": SITE.drop.model_copy(update={"apply": "upgrade"})})
    steps = drop_steps(site, "rdoflow-container-images-overcloud.yaml")
    assert [step.name for step in steps][:2] == ["undercloud upgrade", "upgrade prepare"]
    assert "rdoflow-container-images-overcloud.yaml" in steps[1].argv
    assert [step.name for step in drop_steps(SITE, "x.yaml")][1] == "update prepare"  # the default: update


def test_the_drops_prepare_file_tags_every_entry_with_the_drops_hash():
    base = """parameter_defaults:
  ContainerImagePrepare:
  - push_destination: true
    tag_from_label: '{version}-{release}'
    set: {namespace: quay.io/tripleozedcentos9, name_prefix: openstack-, tag: current-tripleo}
  - push_destination: true
    includes: [ceph]
    set: {ceph_namespace: quay.io/ceph, ceph_tag: v6}
"""
    entries = yaml.safe_load(drop_prepare(base_entries(base, "uc:~/cpp.yaml", SITE.drop.containers), HASH))
    prepared = entries["parameter_defaults"]["ContainerImagePrepare"]
    assert [entry["set"]["tag"] for entry in prepared] == [HASH, HASH]
    assert "tag_from_label" not in prepared[0] and prepared[1]["set"]["ceph_tag"] == "v6"
    assert prepared[0]["set"]["namespace"] == "quay.io/tripleozedcentos9"
    site_set = base_entries(None, "uc:~/cpp.yaml", SITE.drop.containers.model_copy(
        update={"set": {"namespace": "registry.example.com/rdo"}, "push_destination": False}))
    assert site_set == [{"push_destination": False, "set": {"namespace": "registry.example.com/rdo"}}]


def test_a_prepare_file_without_container_image_prepare_is_named_with_what_was_expected():
    with pytest.raises(ConfigError) as raised:
        base_entries("parameter_defaults: {ContainerImagePrepare: {tag: x}}\n", "uc:~/cpp.yaml", SITE.drop.containers)
    assert raised.value.problems == ["uc:~/cpp.yaml: parameter_defaults.ContainerImagePrepare: expected a list of "
                                     "entries (set, push_destination, ...), as 'openstack tripleo container image "
                                     "prepare default' writes"]


def test_what_changed_is_each_package_with_its_old_and_new_nvr():
    before = parse_packages("python3-tripleoclient\t(none)\t20.0.0\t1.el9\tnoarch\n"
                            "gpg-pubkey\t(none)\t8483c65d\t5ccc5b19\t(none)\n"
                            "kernel\t(none)\t5.14.0\t360.el9\tx86_64\n"
                            "openstack-heat-engine\t1\t19.0.0\t1.el9\tnoarch\n")
    after = parse_packages("python3-tripleoclient\t(none)\t20.0.5\t1.el9\tnoarch\n"
                           "kernel\t(none)\t5.14.0\t360.el9\tx86_64\n"
                           "kernel\t(none)\t5.14.0\t362.el9\tx86_64\n"
                           "tripleo-ansible\t(none)\t6.0.1\t1.el9\tnoarch\n")
    found = {c.name: (c.old, c.new, c.kind) for c in changes(before, after, [])}
    assert found == {
        "python3-tripleoclient": ("python3-tripleoclient-20.0.0-1.el9.noarch",
                                  "python3-tripleoclient-20.0.5-1.el9.noarch", "updated"),
        "kernel.x86_64": ("kernel-5.14.0-360.el9.x86_64",
                          "kernel-5.14.0-360.el9.x86_64, kernel-5.14.0-362.el9.x86_64", "updated"),
        "openstack-heat-engine": ("openstack-heat-engine-1:19.0.0-1.el9.noarch", None, "removed"),
        "tripleo-ansible": (None, "tripleo-ansible-6.0.1-1.el9.noarch", "installed"),
    }
    assert [c.name for c in changes(before, after, ["python3-*", "tripleo-*"])] == ["python3-tripleoclient",
                                                                                   "tripleo-ansible"]


# What dnf 4.14 (Debian's, on the lab host's package root) printed for a drop whose repository's port is closed.
UNREACHABLE = """Errors during downloading metadata for repository 'delorean':
  - Curl error (7): Couldn't connect to server for http://127.0.0.1:9/58/7f/{hash}/repodata/repomd.xml [Failed to connect to 127.0.0.1 port 9 after 0 ms: Couldn't connect to server]
Error: Failed to download metadata for repo 'delorean': Cannot download repomd.xml: Cannot download repodata/repomd.xml: All mirrors were tried
""".format(hash=HASH)  # noqa: E501


def _failed(stderr: str, stdout: str = "") -> CommandResult:
    return CommandResult(argv=["sudo", "dnf", "-y", "update"], status=Outcome.FAIL, exit_status=1, stdout=stdout,
                         stderr=stderr, duration=1.0)


def test_an_unreachable_repository_is_named_by_its_url_and_other_dnf_errors_by_dnfs_words():
    error = update_failed(_failed(UNREACHABLE), previous_kept=True)
    assert error.message == (f"sudo dnf -y update could not reach the repository 'delorean' at "
                             f"http://127.0.0.1:9/58/7f/{HASH}: Curl error (7): Couldn't connect to server")
    assert error.hint.endswith("the host's previous repo file was put back")
    conflict = update_failed(_failed("Error: \n Problem: package x-2 requires y >= 3, but none of the providers "
                                     "can be installed\n", "Error: Transaction test error:\n"), previous_kept=False)
    assert conflict.message == "sudo dnf -y update failed: Transaction test error:"
    assert "put back" not in conflict.hint


def test_a_repository_urls_password_is_never_recorded():
    secret = UNREACHABLE.replace("http://127.0.0.1:9/", "https://ci:s3cr3t@127.0.0.1:9/")
    error = update_failed(_failed(secret), previous_kept=False)
    assert "s3cr3t" not in error.message + " ".join(error.evidence) and "https://ci:**********@127.0.0.1:9/" in error.message
    assert repo_baseurls("[rhos]\nbaseurl=https://ci:s3cr3t@cdn.example.com/rhos-17\n", "rhos.repo") == \
        ["https://ci:**********@cdn.example.com/rhos-17"]


def test_a_drop_repository_is_real_rpms_and_their_metadata(tmp_path, monkeypatch):
    """Real rpmbuild, createrepo_c and rpm; the cache is this test's own (not a stand-in: the setting users have)."""
    monkeypatch.setenv("RDOFLOW_CACHE", str(tmp_path / "cache"))
    repo = drop_repo(tmp_path / "drop", {"python3-tripleoclient": "20.0.5-0.20261207.587ffdd.el9",
                                         "openstack-heat-engine": "19.0.2-1.el9"})
    rpm = repo / "python3-tripleoclient-20.0.5-0.20261207.587ffdd.el9.noarch.rpm"
    header = subprocess.run(["rpm", "-qp", "--qf", "%{NAME} %{VERSION} %{RELEASE} %{ARCH}", str(rpm)],
                            capture_output=True, text=True, check=True).stdout
    assert header == "python3-tripleoclient 20.0.5 0.20261207.587ffdd.el9 noarch"
    assert (repo / "repodata/repomd.xml").is_file()
    assert len(list((tmp_path / "cache/lab-rpms").glob("*.rpm"))) == 2  # built once, linked from the cache
    with pytest.raises(ConfigError) as raised:
        drop_repo(tmp_path / "bad", {"python3-tripleoclient": "20.0.5", "bad name": "1-1"})
    assert raised.value.problems == [
        "versions.python3-tripleoclient: '20.0.5' is not VERSION-RELEASE, e.g. 20.0.1-1.el9",
        "versions: 'bad name' is not an RPM package name (letters, digits, '._+-')"]


@pytest.fixture
def dlrn(tmp_path):
    with serve_directory(tmp_path) as url:
        yield DlrnTree(tmp_path, url), url


def test_the_drops_repo_file_is_read_beside_its_commit_yaml_and_must_be_the_drops(dlrn):
    tree, url = dlrn
    full = tree.build("587ffdd6ff4e8ad6a36bb3bd55d2bd6ab2ee4b93", "8170b868d2a6c6b5d0b1e0e9f1a4b3c2d1e0f9a8", 1_797_000_000)
    tree.promote(full)
    drop = read_drop(url, "current-passed-ci")
    assert f"baseurl={url}/58/7f/{full}" in fetch_repo_file(drop)
    assert read_drop(url, drop_path(full)).full_hash == full  # the same drop, by its hash
    other = tree.build("9c1d2e3f4a5b6c7d8e9f0a1b2c3d4e5f6a7b8c9d", "0f1e2d3c4b5a69788796a5b4c3d2e1f0a9b8c7d6", 1_797_100_000)
    tree.promote(other)  # the link moves after the drop was read
    with pytest.raises(DropNotFound) as raised:
        fetch_repo_file(drop)
    assert "the link moved while the drop was read" in raised.value.message
    big = tree.root / "58/7f" / full / "delorean.repo"
    big.write_text("[delorean]\nbaseurl=http://x\n" + "#" * (70 << 10))
    with pytest.raises(ConfigError, match="larger than 65536 bytes"):
        fetch_repo_file(read_drop(url, drop_path(full)).model_copy(update={"repo_url": None}))


@pytest.mark.parametrize("drop", ["../../etc", "/current", "current passed"])
def test_a_drop_that_is_neither_a_link_nor_a_hash_is_bad_input(drop):
    with pytest.raises(ConfigError, match="neither a DLRN hash nor a promotion link"):
        drop_path(drop)


def test_the_lab_site_applies_drops_to_its_own_package_root(tmp_path):
    from rdoflow.lab.config import LabConfig
    from rdoflow.lab.site import _drop

    drop = _drop(tmp_path, LabConfig(release="zed"))
    assert drop["repos_dir"] == str(tmp_path / "root/etc/yum.repos.d")
    assert drop["containers"]["push_destination"] is False and Path(drop["containers"]["roles_file"]).is_file()
