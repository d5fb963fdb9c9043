"""The rdoflow command's own contract: version, help, unknown names, exit codes."""

from __future__ import annotations

import subprocess
import sys
from importlib.metadata import version
from pathlib import Path

import pytest

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
    from rdoflow.flows.catalog import FLOWS

    assert f"unknown flow 'overcloud-deplyo'; expected one of: {', '.join(sorted(FLOWS))}" in done.stderr
    assert "undercloud-preflight" in FLOWS


def test_a_site_file_that_does_not_exist_is_bad_input(tmp_path):
    done = _rdoflow("config", "validate", "missing.yaml", cwd=tmp_path)
    assert (done.returncode, done.stderr.strip()) == (2, "missing.yaml: no such file")


def test_param_values_are_read_by_the_parameter_type_and_text_stays_text(tmp_path):
    from rdoflow.cli.params import flow_parameters, parse_params
    from rdoflow.flows.catalog import load_flow

    flow = load_flow("watch-prerelease")
    given = parse_params(["base_url=http://127.0.0.1:1/x", "link=0123", "timeout=2.5",
                          "parameters={drop: '1e5'}"])
    parameters = flow_parameters(flow, "watch-prerelease", None, tmp_path, given)
    assert parameters["link"] == "0123"  # a text parameter keeps its leading zero
    assert parameters["timeout"] == 2.5 and parameters["parameters"] == {"drop": "1e5"}


def test_bad_params_are_each_named_before_anything_runs(tmp_path):
    from rdoflow.cli.params import flow_parameters, parse_params
    from rdoflow.errors import ConfigError
    from rdoflow.flows.catalog import load_flow

    with pytest.raises(ConfigError) as raised:
        parse_params(["refresh"])
    assert raised.value.problems == ["--param 'refresh': expected key=value, e.g. --param refresh=true"]
    flow = load_flow("watch-prerelease")
    with pytest.raises(ConfigError) as raised:
        flow_parameters(flow, "watch-prerelease", tmp_path / "site.yaml", tmp_path,
                        {"base_url": "http://x", "bogus": "1"})
    assert raised.value.problems[0].startswith("--param bogus: flow watch-prerelease has no such parameter; "
                                               "it takes: base_url, link")
    assert raised.value.problems[1].startswith("--site: flow watch-prerelease takes no site")
    with pytest.raises(ConfigError) as raised:
        flow_parameters(flow, "watch-prerelease", None, tmp_path, {"base_url": "http://x", "timeout": "soon"})
    assert any("timeout" in problem for problem in raised.value.problems), raised.value.problems


def test_the_nightly_without_a_site_runs_against_the_built_in_lab(tmp_path):
    from rdoflow.cli.params import flow_parameters
    from rdoflow.flows.catalog import load_flow

    flow = load_flow("nightly")
    parameters = flow_parameters(flow, "nightly", None, tmp_path, {}, {"lab": {"dir": "lab-here"}})
    assert parameters["lab"] == {"dir": "lab-here"} and "site" not in parameters


def test_a_lab_too_small_for_a_controller_and_a_compute_is_named(tmp_path):
    from rdoflow.cli.params import flow_parameters, parse_params
    from rdoflow.errors import ConfigError
    from rdoflow.flows.catalog import load_flow

    with pytest.raises(ConfigError) as raised:
        flow_parameters(load_flow("nightly"), "nightly", None, tmp_path, parse_params(["lab={nodes: 1}"]))
    assert any("lab.nodes" in problem and "greater than or equal to 2" in problem
               for problem in raised.value.problems), raised.value.problems


def test_a_stage_still_needs_a_site(tmp_path):
    from rdoflow.cli.params import flow_parameters
    from rdoflow.errors import ConfigError
    from rdoflow.flows.catalog import load_flow

    with pytest.raises(ConfigError) as raised:
        flow_parameters(load_flow("overcloud-deploy"), "overcloud-deploy", None, tmp_path, {})
    assert raised.value.problems == ["flow overcloud-deploy needs a site: give --site FILE"]


def test_the_nightly_given_both_a_site_and_the_lab_is_bad_input():
    from rdoflow.config.site import SiteConfig
    from rdoflow.errors import ConfigError
    from rdoflow.flows.nightly import nightly
    from rdoflow.tasks.pipeline.builtin_lab import LabOptions

    site = SiteConfig.model_validate({"name": "east", "undercloud": {"ssh": {"host": "uc"}}})
    with pytest.raises(ConfigError) as raised:
        nightly.fn(site=site, lab=LabOptions())
    assert raised.value.problems == ["nightly: give either a site or the lab's options, not both"]
