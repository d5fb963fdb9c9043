"""Reading pre-release drops from a real HTTP server on 127.0.0.1 serving a DLRN-like tree."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest

from rdoflow.errors import ConfigError, TransientError
from rdoflow.tasks.prerelease.dlrn import (
    DropNotFound,
    DropServerUnavailable,
    compare,
    read_drop,
)
from tests.dlrn_tree import DlrnTree
from tests.loopback_http import hanging_server, serve_directory
from tests.yaml_bombs import billion_laughs, run_capped

COMMIT_A, DISTRO_A = "587ffdd6ff4e8ad6a36bb3bd55d2bd6ab2ee4b93", "8170b8686a01cdb3b9b8d0a7b3c3e3f7aabbccdd"
COMMIT_B, DISTRO_B = "0bf9d805e1b0a4b9c1f2a5d3e6b7c8d9e0f1a2b3", "1122334455667788990011223344556677889900"


@pytest.fixture
def dlrn(tmp_path):
    with serve_directory(tmp_path) as url:
        yield DlrnTree(tmp_path, url), url


def test_the_drop_behind_a_link_has_its_full_hash_time_components_and_repo(dlrn):
    tree, url = dlrn
    tree.promote(tree.build(COMMIT_A, DISTRO_A, 1732520000))
    drop = read_drop(url, "current-passed-ci", timeout=5)
    assert drop.full_hash == f"{COMMIT_A}_{DISTRO_A[:8]}"
    assert drop.timestamp == datetime(2024, 11, 25, 7, 33, 20, tzinfo=timezone.utc)
    assert [(c.project, c.component, c.branch) for c in drop.components] == [("python-osc-lib", None, "master")]
    assert drop.repo_url == f"{url}/58/7f/{COMMIT_A}_{DISTRO_A[:8]}"
    assert len(drop.md5) == 32


def test_a_component_build_adds_the_extended_hash(dlrn):
    tree, url = dlrn
    tree.promote(tree.build(COMMIT_A, DISTRO_A, 1732520000, extended="abcdef0123456789", component="common"))
    drop = read_drop(url, "current-passed-ci", timeout=5)
    assert drop.full_hash == f"{COMMIT_A}_{DISTRO_A[:8]}_abcdef01"
    assert drop.components[0].component == "common"


def test_the_link_moving_to_another_build_is_a_new_drop_and_back_is_a_rollback(dlrn):
    tree, url = dlrn
    old = tree.build(COMMIT_A, DISTRO_A, 1732520000)
    new = tree.build(COMMIT_B, DISTRO_B, 1732606400)
    tree.promote(old)
    first = read_drop(url, "current-passed-ci", timeout=5)
    seen = {"hash": first.full_hash, "timestamp": first.timestamp.isoformat()}
    assert compare(first, None) == "first" and compare(first, seen) == "unchanged"
    tree.promote(new)
    moved = read_drop(url, "current-passed-ci", timeout=5)
    assert (moved.full_hash, compare(moved, seen)) == (new, "new")
    tree.promote(old)
    assert compare(read_drop(url, "current-passed-ci", timeout=5),
                   {"hash": moved.full_hash, "timestamp": moved.timestamp.isoformat()}) == "rollback"


def test_a_malformed_commit_yaml_names_the_url_the_field_and_the_line(dlrn):
    tree, url = dlrn
    full = tree.build(COMMIT_A, DISTRO_A, 1732520000)
    tree.promote(full)
    commit_yaml = tree.root / "current-passed-ci" / "commit.yaml"
    commit_yaml.write_text(commit_yaml.read_text().replace("  dt_build: '1732520000'\n", "")
                           .replace(f"commit_hash: {COMMIT_A}", "commit_hash: abc"))
    with pytest.raises(ConfigError) as caught:
        read_drop(url, "current-passed-ci", timeout=5)
    source = f"{url}/current-passed-ci/commit.yaml"
    assert caught.value.problems == [f"{source}: commits[0].dt_build: required field is missing (line 2)",
                                     f"{source}: commits[0].commit_hash: expected at least 7 characters (line 5)"]


def test_commit_yaml_that_is_not_yaml_is_reported_with_its_position(dlrn):
    tree, url = dlrn
    (tree.root / "current-passed-ci").mkdir()
    (tree.root / "current-passed-ci" / "commit.yaml").write_text("commits: [\n")
    with pytest.raises(ConfigError, match=r"commit.yaml:2:1: not valid YAML"):
        read_drop(url, "current-passed-ci", timeout=5)


def test_a_billion_laughs_commit_yaml_is_refused_at_its_alias(dlrn):
    tree, url = dlrn
    (tree.root / "current-passed-ci").mkdir()
    (tree.root / "current-passed-ci" / "commit.yaml").write_text(billion_laughs(9))
    reader = ("from rdoflow.errors import ConfigError\n"
              "from rdoflow.tasks.prerelease.dlrn import read_drop\n"
              "try:\n"
              f"    read_drop({url!r}, 'current-passed-ci', timeout=5)\n"
              "except ConfigError as exc:\n"
              "    print(*exc.problems, sep='\\n')\n")
    result = run_capped(["-c", reader], cwd=tree.root)
    assert result.stdout.splitlines() == [f"{url}/current-passed-ci/commit.yaml: too many aliases: with this one "
                                          "they would repeat more than 1000 values (line 4)"], result.stderr[-800:]


def test_a_build_time_past_the_largest_float_is_refused_naming_the_field(dlrn):
    tree, url = dlrn
    tree.promote(tree.build(COMMIT_A, DISTRO_A, 1732520000))
    commit_yaml = tree.root / "current-passed-ci" / "commit.yaml"
    commit_yaml.write_text(commit_yaml.read_text().replace("dt_build: '1732520000'", "dt_build: '1e999'"))
    with pytest.raises(ConfigError) as caught:
        read_drop(url, "current-passed-ci", timeout=5)
    source = f"{url}/current-passed-ci/commit.yaml"
    assert caught.value.problems == [f"{source}: commits[0].dt_build: expected a finite number, got '1e999' (line 9)"]


def test_a_link_that_does_not_exist_is_not_found_and_not_retried(dlrn):
    _, url = dlrn
    with pytest.raises(DropNotFound, match=r"current-tripleo/commit.yaml: HTTP 404") as caught:
        read_drop(url, "current-tripleo", timeout=5)
    assert not isinstance(caught.value, TransientError)


def test_a_server_that_never_answers_is_a_transient_timeout():
    with hanging_server() as url:
        with pytest.raises(DropServerUnavailable, match=r"commit.yaml: no answer within 0.5 s"):
            read_drop(url, "current-passed-ci", timeout=0.5)


@pytest.mark.parametrize("base_url", ["dlrn.example/centos9-master", "ftp://dlrn.example/centos9", "http://",
                                      "https://dlrn example/x"])
def test_a_base_url_that_is_no_http_url_is_bad_input_and_not_retried(base_url):
    with pytest.raises(ConfigError) as caught:
        read_drop(base_url, "current-passed-ci", timeout=0.5)
    assert caught.value.problems[0].startswith(f"base_url: {base_url!r} is not an http(s) URL")
    assert not isinstance(caught.value, TransientError)
