"""What a drop changed: DLRN's versions.csv read and compared, packages mapped through rdoinfo, distgits fetched
at a commit, and the last drop tested kept in the results store. DLRN's files are served on 127.0.0.1."""

from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path

import pytest

from rdoflow.errors import ConfigError
from rdoflow.tasks.prerelease.changes import (
    DropMoved,
    diff_versions,
    parse_versions_csv,
    read_drop_versions,
    read_versions,
)
from rdoflow.tasks.prerelease.distgit import (
    DistgitFetchFailed,
    DistgitRefused,
    checkout,
)
from rdoflow.tasks.prerelease.drop_review import plan_review, reviewed_baseline
from rdoflow.tasks.prerelease.model import PackageChange
from rdoflow.tasks.prerelease.origins import (
    load_rdoinfo,
    origin_from_rdoinfo,
    package_origins,
)
from rdoflow.tasks.prerelease.tested import TestedDrop, TestedDrops
from tests.dlrn_tree import DlrnTree
from tests.drop_fixtures import FIXTURES, OSC_LIB_SOURCE, commit_spec, make_drops
from tests.loopback_http import serve_directory

SAMPLE = (FIXTURES / "dlrn" / "versions.csv").read_text()
RDOINFO = FIXTURES / "rdoinfo"


@pytest.fixture(scope="module")
def drops(tmp_path_factory):
    return make_drops(tmp_path_factory.mktemp("distgits"))


def test_dlrns_own_versions_csv_reads_into_one_row_per_package():
    versions = parse_versions_csv(SAMPLE, "versions.csv")
    assert len(versions.packages) == 13
    ironic = versions.packages["openstack-ironic"]
    assert (ironic.source_repo, ironic.dist_repo, ironic.component) == (
        "https://opendev.org/openstack/ironic", "https://github.com/rdo-packages/ironic-distgit.git", "baremetal")
    assert ironic.source_sha == "06895641fb8a44caf4574919bd518f0de76cba3d"
    assert (ironic.last_success, ironic.extended_sha) == (None, None)  # DLRN wrote 'None' for both
    assert ironic.nvr == "openstack-ironic-21.1.1-0.20230110104845.0689564.el9"
    assert versions.packages["python-glean"].last_success == datetime(2022, 9, 10, 7, 50, 7, tzinfo=timezone.utc)


def test_a_file_without_dlrns_header_is_refused_naming_line_1():
    with pytest.raises(ConfigError) as caught:
        parse_versions_csv(SAMPLE.replace("Pkg NVR", "NVR", 1), "http://dlrn/versions.csv")
    assert caught.value.problems == [
        "http://dlrn/versions.csv: line 1: expected DLRN's header Project,Source Repo,Source Sha,Dist Repo,Dist Sha,"
        "Status,Last Success Timestamp,Component,Extended Sha,Pkg NVR, found 'Project,Source Repo,Source Sha,Dist "
        "Repo,Dist Sha,Status,Last Success Timestamp,Component,Extended Sha,NVR'"]


def test_bad_rows_are_named_by_the_file_their_line_and_the_column():
    lines = SAMPLE.splitlines()
    lines[2] = lines[2].replace("6c3cbd1511b39e5a713477ff659c7d62b23250a7", "--upload-pack=touch")
    lines[4] = lines[4].replace(",SUCCESS,", ",BROKEN,").replace(",1672787935,", ",yesterday,")
    lines[6] = lines[6].rsplit(",", 1)[0]  # one column short
    lines.append(lines[1])  # openstack-ironic again
    with pytest.raises(ConfigError) as caught:
        parse_versions_csv("\n".join(lines) + "\n", "u/versions.csv")
    assert caught.value.problems == [
        "u/versions.csv: line 3: Source Sha: expected a git commit hash (7 to 64 lowercase hex digits), "
        "found '--upload-pack=touch'",
        "u/versions.csv: line 5: Status: expected SUCCESS, FAILED or RETRY, found 'BROKEN'",
        "u/versions.csv: line 5: Last Success Timestamp: expected seconds since 1970 or None, found 'yesterday'",
        "u/versions.csv: line 7: expected 10 columns (Project,Source Repo,Source Sha,Dist Repo,Dist Sha,Status,"
        "Last Success Timestamp,Component,Extended Sha,Pkg NVR), found 9",
        "u/versions.csv: line 15: Project: 'openstack-ironic' already on line 2"]


def test_a_row_that_is_not_csv_is_named_by_its_line():
    with pytest.raises(ConfigError, match=r"versions.csv: line 3: not CSV as DLRN writes it: ',' expected after '\"'"):
        parse_versions_csv(SAMPLE.replace("openstack-ironic-inspector,", '"openstack-ironic"-inspector,'),
                           "versions.csv")


def test_a_nul_byte_in_a_name_is_refused_as_a_bad_column():
    with pytest.raises(ConfigError, match=r"line 3: Project: expected a package name .*found 'openstack-ironic-\\x00"):
        parse_versions_csv(SAMPLE.replace("openstack-ironic-inspector,", "openstack-ironic-\0inspector,"),
                           "versions.csv")


def test_a_versions_csv_past_the_bound_is_refused_without_reading_it_whole(tmp_path):
    (tmp_path / "current-passed-ci").mkdir()
    (tmp_path / "current-passed-ci" / "versions.csv").write_text(SAMPLE * 200)  # 720 KB
    with serve_directory(tmp_path) as url:
        with pytest.raises(ConfigError) as caught:
            read_versions(url, "current-passed-ci", timeout=5, max_bytes=64 << 10)
    assert caught.value.problems == [f"{url}/current-passed-ci/versions.csv: larger than 65536 bytes; expected a "
                                     "DLRN metadata file"]


def test_two_drops_differ_by_package_added_removed_changed_and_status_only(drops):
    first = parse_versions_csv(drops.first, "1")
    second = parse_versions_csv(drops.second, "2")
    changes = {change.project: change for change in diff_versions(first, second)}
    assert {name: (change.kind, change.fields) for name, change in changes.items()} == {
        "openstack-nova": ("changed", ["Status"]),
        "python-oslo-middleware": ("changed", ["Dist Sha"]),
        "python-osc-lib": ("changed", ["Dist Sha"]),
        "python-stevedore": ("changed", ["Dist Sha"]),
        "python-virtualbmc": ("removed", [])}
    assert not changes["openstack-nova"].content_changed and changes["python-osc-lib"].content_changed
    assert (changes["python-osc-lib"].old.dist_sha, changes["python-osc-lib"].new.dist_sha) == drops.osc_lib
    reverse = {change.project: change.kind for change in diff_versions(second, first)}
    assert reverse["python-virtualbmc"] == "added"


def _drop_tree(root: Path, drops, text: str, distro: str) -> str:
    tree = DlrnTree(root)
    full = tree.build(OSC_LIB_SOURCE, distro, 1726488000)
    (root / OSC_LIB_SOURCE[:2] / OSC_LIB_SOURCE[2:4] / full / "versions.csv").write_text(text)
    tree.promote(full)
    return full


def test_the_drop_and_its_versions_csv_are_read_from_the_build_the_link_points_at(tmp_path, drops):
    full = _drop_tree(tmp_path, drops, drops.first, drops.osc_lib[0])
    with serve_directory(tmp_path) as url:
        drop, versions = read_drop_versions(url, "current-passed-ci", timeout=5)
        assert drop.full_hash == full and len(versions.packages) == 16
        second = _drop_tree(tmp_path, drops, drops.second, drops.osc_lib[1])  # the link moves on
        drop, versions = read_drop_versions(url, "current-passed-ci", full, timeout=5)  # the drop under test
    assert (drop.full_hash, drop.link, versions.packages["python-osc-lib"].dist_sha) == (
        full, "current-passed-ci", drops.osc_lib[0])
    assert second != full


def test_a_versions_csv_that_disagrees_with_commit_yaml_means_the_link_moved(tmp_path, drops):
    full = _drop_tree(tmp_path, drops, drops.first, drops.osc_lib[0])
    build = tmp_path / OSC_LIB_SOURCE[:2] / OSC_LIB_SOURCE[2:4] / full
    (build / "versions.csv").write_text(drops.second)  # another drop's file
    with serve_directory(tmp_path) as url:
        with pytest.raises(DropMoved, match="python-osc-lib is at c5e4b35c2b4b/"):
            read_drop_versions(url, "current-passed-ci", timeout=5)


def _drop(full: str = "c5e4b35c2b4bb0e5e4bd0f0c2f2e38d1a8b8f7e1_8170b868"):
    from rdoflow.tasks.prerelease.dlrn import Drop

    return Drop(base_url="http://dlrn", link="current-passed-ci", full_hash=full,
                timestamp=datetime(2024, 9, 16, tzinfo=timezone.utc), components=[])


def test_the_first_drop_is_the_baseline_and_reviews_nothing_unless_the_site_asks_for_all(drops):
    versions = parse_versions_csv(drops.first, "1")
    baseline = plan_review(_drop(), versions, None)
    assert (baseline.baseline, baseline.changes, baseline.packages, baseline.verdict) == (True, [], 16, "pass")
    everything = plan_review(_drop(), versions, None, "review-all")
    assert not everything.baseline and len(everything.changes) == 16
    assert {change.kind for change in everything.changes} == {"added"}


def test_a_drop_reviewed_again_is_compared_with_what_it_was_compared_with_first(tmp_path, drops):
    store = TestedDrops(str(tmp_path / "results"))
    first, second = parse_versions_csv(drops.first, "1"), parse_versions_csv(drops.second, "2")
    assert store.baseline_for("current-passed-ci", "d1") is None
    tested_first = TestedDrop(link="current-passed-ci", drop="d1", base_url="http://dlrn", versions=first)
    store.remember(tested_first, plan_review(_drop("d1"), first, None), None)
    assert store.baseline_for("current-passed-ci", "d2").drop == "d1"
    assert store.baseline_for("current-passed-ci", "d1") is None  # d1 was the first: a rerun is a first again
    store.remember(TestedDrop(link="current-passed-ci", drop="d2", base_url="http://dlrn", versions=second),
                   plan_review(_drop("d2"), second, tested_first), tested_first)
    again = store.baseline_for("current-passed-ci", "d2")
    assert again.drop == "d1" and again.versions == first  # not d2 against itself
    assert [review.drop for review in store.reviews("current-passed-ci")] == ["d1", "d2"]


def test_a_package_that_could_not_be_reviewed_stays_changed_for_the_next_drop(drops):
    first, second = parse_versions_csv(drops.first, "1"), parse_versions_csv(drops.second, "2")
    baseline = reviewed_baseline(first, second, ["python-oslo-middleware"])
    assert baseline.packages["python-oslo-middleware"] == first.packages["python-oslo-middleware"]
    assert baseline.packages["python-osc-lib"] == second.packages["python-osc-lib"]
    assert [c.project for c in diff_versions(baseline, second)] == ["python-oslo-middleware"]
    new_package = reviewed_baseline(None, second, ["python-osc-lib"])
    assert "python-osc-lib" not in new_package.packages  # new then, so new again next time


def test_a_baseline_file_that_rdoflow_did_not_write_is_a_config_error(tmp_path):
    directory = tmp_path / "drops" / "link=current-passed-ci"
    directory.mkdir(parents=True)
    (directory / "last-tested.json").write_text('{"link": "current-passed-ci"}')
    with pytest.raises(ConfigError, match="not a drop baseline rdoflow wrote: drop: Field required"):
        TestedDrops(str(tmp_path)).last("current-passed-ci")


def test_rdoinfo_names_the_distgit_upstream_and_maintainers_and_the_drop_fills_in_the_rest(drops):
    changes = diff_versions(parse_versions_csv(drops.first, "1"), parse_versions_csv(drops.second, "2"))
    info = load_rdoinfo(RDOINFO, info_files="rdo.yml", release="caracal")
    origins = {change.project: origin_from_rdoinfo(change, info) for change in changes}
    osc = origins["python-osc-lib"]
    assert (osc.known_from, osc.maintainers, osc.upstream, osc.component) == (
        "rdoinfo", ["amoralej@redhat.com"], "https://opendev.org/openstack/osc-lib", "clients")
    assert osc.distgit == (drops.distgits / "osc-lib-distgit").as_uri()  # where DLRN built the Dist Sha
    assert osc.rdoinfo_distgit == "https://github.com/rdo-packages/osc-lib-distgit.git"
    assert osc.review_origin == "ssh://review.rdoproject.org:29418/openstack/osc-lib-distgit.git"
    assert origins["openstack-nova"].maintainers == ["sbauza@redhat.com", "gibi@redhat.com"]
    without = package_origins(changes, None)
    assert (without["python-osc-lib"].known_from, without["python-osc-lib"].maintainers) == ("drop", [])
    assert without["python-osc-lib"].upstream == "https://opendev.org/openstack/osc-lib"


def test_a_package_rdoinfo_does_not_know_keeps_the_drops_columns():
    info = load_rdoinfo(RDOINFO, info_files="rdo.yml")
    row = parse_versions_csv(SAMPLE, "s").packages["openstack-ironic"].model_copy(update={"project": "python-zz"})
    origin = origin_from_rdoinfo(PackageChange(project="python-zz", kind="added", new=row), info)
    assert (origin.known_from, origin.distgit) == ("drop", "https://github.com/rdo-packages/ironic-distgit.git")


def test_rdoinfo_yaml_that_would_build_python_objects_is_refused(tmp_path):
    (tmp_path / "rdo.yml").write_text("packages: !!python/object/apply:os.system ['touch pwned']\n")
    with pytest.raises(ConfigError, match=r"rdo.yml: not valid YAML: could not determine a constructor"):
        load_rdoinfo(tmp_path, info_files="rdo.yml")
    assert not (tmp_path / "pwned").exists() and not Path("pwned").exists()


def test_an_rdoinfo_import_outside_its_directory_is_refused(tmp_path):
    (tmp_path / "rdo.yml").write_text("import:\n- ../../etc/passwd\npackages: []\n")
    with pytest.raises(ConfigError, match=r"import '../../etc/passwd' is outside the rdoinfo directory"):
        load_rdoinfo(tmp_path, info_files="rdo.yml")


def test_rdoinfo_from_a_git_url_is_cloned_and_read(tmp_path):
    from tests.drop_fixtures import git

    repo = tmp_path / "rdoinfo"
    commit_spec(repo, "LICENSE", (RDOINFO / "LICENSE").read_text(), "rdoinfo")
    for path in sorted(RDOINFO.rglob("*.yml")):
        relative = path.relative_to(RDOINFO)
        (repo / relative.parent).mkdir(parents=True, exist_ok=True)
        (repo / relative).write_text(path.read_text())
    git(repo, "add", ".")
    git(repo, "commit", "-q", "-m", "all")
    change = PackageChange(project="python-osc-lib", kind="added",
                           new=parse_versions_csv(SAMPLE, "s").packages["python-glean"])
    origins = package_origins([change], repo.as_uri(), info_files="rdo.yml", protocols=["file"])
    assert origins["python-osc-lib"].maintainers == ["amoralej@redhat.com"]
    with pytest.raises(ConfigError, match="the file protocol is not allowed"):
        package_origins([change], repo.as_uri(), info_files="rdo.yml")


def test_a_distgit_is_checked_out_at_the_commit_the_drop_names(tmp_path, drops):
    tree = checkout((drops.distgits / "osc-lib-distgit").as_uri(), drops.osc_lib[0], tmp_path / "co",
                    protocols=["file"])
    assert sorted(p.name for p in tree.iterdir()) == ["python-osc-lib.spec"]
    assert "License:    Apache-2.0" in (tree / "python-osc-lib.spec").read_text()  # the first commit, not HEAD


def test_a_symlink_in_a_distgit_is_checked_out_as_a_plain_file(tmp_path):
    repo = tmp_path / "evil-distgit"
    commit_spec(repo, "python-evil.spec", "Name: python-evil\n", "spec")
    (repo / "sources").symlink_to("/etc/passwd")
    from tests.drop_fixtures import git

    git(repo, "add", "sources")
    git(repo, "commit", "-q", "-m", "link")
    tree = checkout(repo.as_uri(), git(repo, "rev-parse", "HEAD"), tmp_path / "co", protocols=["file"])
    assert not (tree / "sources").is_symlink() and (tree / "sources").read_text() == "/etc/passwd"


@pytest.mark.parametrize(("url", "sha", "reason"), [
    ("ext::sh -c touch% /tmp/pwned", "a" * 40, "not a URL"),
    ("file:///etc", "a" * 40, "the file protocol is not allowed"),
    ("https://github.com/rdo-packages/osc-lib-distgit.git", "--upload-pack=touch", "is not a git commit hash"),
    (None, "a" * 40, "the drop names no distgit"),
])
def test_distgits_the_site_does_not_allow_are_refused_before_git_runs(tmp_path, url, sha, reason):
    with pytest.raises(DistgitRefused, match=reason):
        checkout(url, sha, tmp_path / "co")
    assert not (tmp_path / "co").exists()


def test_an_unreachable_distgit_fails_with_gits_own_words(tmp_path):
    with pytest.raises(DistgitFetchFailed) as caught:
        checkout("https://127.0.0.1:1/rdo-packages/oslo-middleware-distgit.git", "2" * 40, tmp_path / "co",
                 timeout=60)
    assert caught.value.message.endswith("git fetch failed (exit 128)")
    assert any("Failed to connect to 127.0.0.1 port 1" in line for line in caught.value.evidence)


def test_a_sites_drop_review_section_reads_rdoinfo_from_the_site_dir_and_names_bad_choices(tmp_path):
    from rdoflow.config.site import load_site

    site = tmp_path / "site.yaml"
    site.write_text("name: lab\nundercloud:\n  ssh: {host: uc.example.com}\ndrop_review:\n"
                    "  base_url: https://trunk.rdoproject.org/centos9-master\n  rdoinfo: rdoinfo\n"
                    "  release: caracal\n")
    options = load_site(site).drop_review
    assert (options.rdoinfo, options.link, options.first_drop) == (str(tmp_path / "rdoinfo"), "current-passed-ci",
                                                                   "baseline")
    assert options.distgit_protocols == ["https", "http", "git"]
    site.write_text(site.read_text() + "  first_drop: everything\n  distgit_protocols: [ext]\n")
    with pytest.raises(ConfigError) as caught:
        load_site(site)
    assert [problem.split(": ", 2)[1] for problem in caught.value.problems] == [
        "drop_review.first_drop", "drop_review.distgit_protocols[0]"]


def test_a_drop_dlrn_no_longer_has_is_not_found_naming_where_it_was_looked_for(tmp_path, drops):
    from rdoflow.tasks.prerelease.dlrn import DropNotFound

    full = _drop_tree(tmp_path, drops, drops.first, drops.osc_lib[0])
    with serve_directory(tmp_path) as url:
        with pytest.raises(DropNotFound) as caught:
            read_drop_versions(url, "current-passed-ci", "0bf9d805e1b0a4b9c1f2a5d3e6b7c8d9e0f1a2b3_11223344",
                               timeout=5)
    assert caught.value.message == (
        f"drop 0bf9d805e1b0a4b9c1f2a5d3e6b7c8d9e0f1a2b3_11223344: current-passed-ci now points at {full}, and the "
        "build is not at 0b/f9/0bf9d805e1b0a4b9c1f2a5d3e6b7c8d9e0f1a2b3_11223344 under " + url)
