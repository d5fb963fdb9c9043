"""The lab's DLRN: drops published through DLRN's own API (commit import, promotion), read as rdoflow reads
RDO's trunk server. One DLRN for the module; its first drop is published once."""

from __future__ import annotations

import csv
import gzip
import hashlib
import io
import subprocess
import xml.etree.ElementTree as ET

import httpx
import pytest

from rdoflow.errors import ConfigError
from rdoflow.lab.dlrn_service import CATALOGUE, PASSWORD_FILE
from rdoflow.lab.drops import PackageBuild, publish_drop
from rdoflow.tasks.prerelease.distgit import checkout
from rdoflow.tasks.prerelease.dlrn import compare, read_drop
from tests.dlrn_lab import running_dlrn

HEADER = ["Project", "Source Repo", "Source Sha", "Dist Repo", "Dist Sha", "Status", "Last Success Timestamp",
          "Component", "Extended Sha", "Pkg NVR"]


@pytest.fixture(scope="module")
def dlrn(tmp_path_factory):
    with running_dlrn(tmp_path_factory.mktemp("dlrn") / "dlrn") as endpoint:
        yield endpoint


@pytest.fixture(scope="module")
def first(dlrn):
    return publish_drop(dlrn)


def versions(drop) -> dict[str, dict[str, str]]:
    text = httpx.get(f"{drop.repo_url}/versions.csv", timeout=30).text
    rows = list(csv.reader(io.StringIO(text)))
    assert rows[0] == HEADER
    return {row[0]: dict(zip(HEADER, row)) for row in rows[1:]}


def test_a_published_drop_is_what_read_drop_finds_behind_its_link(first):
    drop = read_drop(first.base_url, "current-passed-ci", timeout=30)
    assert drop.full_hash == first.full_hash
    assert drop.repo_url == first.repo_url
    assert [(c.project, c.commit_hash, c.distro_hash, c.extended_hash) for c in drop.components] == [
        (first.changed[-1], first.commit_hash, first.distro_hash, None)]
    repo = httpx.get(f"{first.repo_url}/delorean.repo", timeout=30).text
    assert drop.md5 == hashlib.md5(repo.encode()).hexdigest()


def test_the_first_drop_lists_every_package_of_the_lab_in_dlrns_versions_csv(dlrn, first):
    rows = versions(first)
    assert set(rows) == set(CATALOGUE)
    ironic = rows["openstack-ironic"]
    assert ironic["Source Repo"] == "https://opendev.org/openstack/ironic"
    assert ironic["Dist Repo"] == f"{dlrn.distgits_url}/ironic-distgit.git"  # the lab's own, served
    assert ironic["Status"] == "SUCCESS"
    assert ironic["Pkg NVR"] == f"openstack-ironic-21.1.1-0.{ironic['Pkg NVR'].split('-0.')[1]}"
    assert ironic["Pkg NVR"].endswith(f".{ironic['Source Sha'][:7]}.el9")
    assert {name: row["Pkg NVR"] for name, row in rows.items()} == first.nvrs


def test_a_drop_is_a_yum_repository_of_the_packages_binary_rpms(first):
    """createrepo_c's metadata, as dnf reads it: every binary RPM of every package, at the drop's versions."""
    repomd = ET.fromstring(httpx.get(f"{first.repo_url}/repodata/repomd.xml", timeout=30).content)
    ns = {"repo": "http://linux.duke.edu/metadata/repo", "common": "http://linux.duke.edu/metadata/common"}
    primary = repomd.find("repo:data[@type='primary']/repo:location", ns).get("href")
    packages = ET.fromstring(gzip.decompress(httpx.get(f"{first.repo_url}/{primary}", timeout=30).content))
    found = {(p.findtext("common:name", namespaces=ns), p.find("common:arch", ns).text,
              p.find("common:version", ns).get("ver")) for p in packages.findall("common:package", ns)}
    assert ("openstack-ironic-api", "noarch", "21.1.1") in found
    assert ("python3-tripleoclient", "noarch", "20.0.0") in found
    assert ("openstack-heat-engine", "noarch", "19.0.0") in found
    assert {name for name, _, _ in found} >= {binary for p in CATALOGUE.values() for binary in p.binaries}


def test_a_new_drop_moves_the_link_and_changes_only_the_packages_it_built(dlrn, first):
    before, seen = versions(first), read_drop(first.base_url, "current-passed-ci", timeout=30)
    second = publish_drop(dlrn, {"openstack-ironic": "21.4.1"})
    after = versions(second)
    assert second.changed == ("openstack-ironic",)
    assert after["openstack-ironic"]["Pkg NVR"].startswith("openstack-ironic-21.4.1-0.")
    assert after["openstack-ironic"]["Source Sha"] != before["openstack-ironic"]["Source Sha"]
    # What tells drops apart (Component is the drop's build's, on every row: DLRN's post-build writes it so).
    builds = {name: [row[key] for key in ("Source Sha", "Dist Sha", "Extended Sha", "Pkg NVR", "Status")]
              for name, row in after.items()}
    assert builds == {name: [row[key] for key in ("Source Sha", "Dist Sha", "Extended Sha", "Pkg NVR", "Status")]
                      for name, row in before.items()} | {"openstack-ironic": builds["openstack-ironic"]}
    drop = read_drop(second.base_url, "current-passed-ci", timeout=30)
    assert drop.full_hash == second.full_hash != first.full_hash
    assert compare(drop, {"hash": seen.full_hash, "timestamp": seen.timestamp.isoformat()}) == "new"


def test_each_build_is_a_commit_of_its_distgit_which_git_fetches_over_http_at_both_dist_shas(dlrn, first,
                                                                                               tmp_path):
    """versions.csv's Dist Repo and Dist Sha are a real distgit and commit: drop review's own fetch (git's dumb
    HTTP from the lab's web server, only http allowed) gets the spec each build was made from; a build that
    changes a tag changes the spec and nothing else."""
    before = versions(first)["python-ironicclient"]
    drop = publish_drop(dlrn, {"python-ironicclient": PackageBuild("5.0.2", tags={"License": "ASL 2.0"})})
    after = versions(drop)["python-ironicclient"]
    assert after["Dist Repo"] == before["Dist Repo"] == f"{dlrn.distgits_url}/ironicclient-distgit.git"
    assert after["Dist Sha"] == drop.distro_hash != before["Dist Sha"]
    specs = {}
    for side, row in (("old", before), ("new", after)):
        tree = checkout(row["Dist Repo"], row["Dist Sha"], tmp_path / side, protocols=["http"], timeout=60)
        assert sorted(path.name for path in tree.iterdir()) == ["python-ironicclient.spec"]
        specs[side] = (tree / "python-ironicclient.spec").read_text()
    assert "\nLicense:        Apache-2.0\n" in specs["old"] and "\nVersion:        5.0.1\n" in specs["old"]
    assert "\nLicense:        ASL 2.0\n" in specs["new"] and "\nVersion:        5.0.2\n" in specs["new"]
    tarball = httpx.get(f"{dlrn.sources_url}/python-ironicclient-5.0.2.tar.gz", timeout=30)
    assert tarball.status_code == 200 and tarball.content[:2] == b"\x1f\x8b"  # Source0, on the lab's mirror
    rpm = next(drop.path.glob("python3-ironicclient-5.0.2-*.noarch.rpm"))
    assert subprocess.run(["rpm", "-qp", "--qf", "%{LICENSE}", str(rpm)], capture_output=True, text=True,
                          check=True).stdout == "ASL 2.0"  # built from that spec


def test_a_drop_built_from_chosen_commits_carries_them_to_versions_csv(dlrn, first):
    source, distgit = "a" * 40, "b" * 40
    drop = publish_drop(dlrn, {"python-tripleoclient": PackageBuild("20.1.0", source, distgit)}, link="tripleo-ci-testing")
    row = versions(drop)["python-tripleoclient"]
    assert (row["Source Sha"], row["Dist Sha"]) == (source, distgit)
    assert row["Pkg NVR"].endswith(".aaaaaaa.el9")
    assert read_drop(drop.base_url, "tripleo-ci-testing", timeout=30).full_hash == f"{source}_{distgit[:8]}"


def test_a_package_the_lab_does_not_have_and_a_bad_version_are_bad_input_naming_both(dlrn, first):
    with pytest.raises(ConfigError) as caught:
        publish_drop(dlrn, {"openstack-nova": "27.0.0", "openstack-heat": "19.0.0-1",
                            "openstack-ironic": PackageBuild("21.4.2", tags={"License": "%{lic}"})})
    problems = "\n".join(caught.value.problems)
    assert "'openstack-nova' is not a package of the lab" in problems and "openstack-ironic" in problems
    assert "packages.openstack-heat: version '19.0.0-1' is not an RPM version" in problems
    assert "packages.openstack-ironic.tags.License: expected a spec tag" in problems


def test_the_ci_password_is_private_and_on_no_command_line_or_log(dlrn, first):
    password_file = dlrn.root / PASSWORD_FILE
    assert password_file.stat().st_mode & 0o777 == 0o600
    assert dlrn.password and dlrn.password not in repr(dlrn)
    for path in dlrn.root.rglob("*"):
        if path.is_file() and path != password_file and path.suffix != ".rpm":
            assert dlrn.password.encode() not in path.read_bytes(), path
    commands = subprocess.run(["ps", "-eo", "args"], capture_output=True, text=True, check=True).stdout
    assert dlrn.password not in commands
