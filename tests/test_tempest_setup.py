"""Tempest set up from nothing against the lab, as a real site sets it up (regression.setup): the deploy's
overcloudrc, 'tempest init', python-tempestconf's 'discover-tempest-config' with the site's overrides, then
real Tempest 47 (the Ironic and Heat plugins) run by the regression stage. The lab's Keystone stands for the
overcloud's (the lab's overcloud has none: its nodes are fake); its Ironic and Heat are real."""

from __future__ import annotations

import json
import stat
from pathlib import Path

import pytest

from rdoflow.cli.exits import ExitStatus, exit_status_for
from rdoflow.config.site import SiteConfig
from rdoflow.flows.overcloud_deploy import overcloud_deploy
from rdoflow.flows.regression_run import regression_run
from tests.conftest import fast_knobs, logs_of
from tests.lab_undercloud import ready_undercloud, with_stack

LAB_KNOBS = fast_knobs(nodes=2, controllers=1)
LAB_KNOBS.suite.tempest = "real"
pytestmark = [pytest.mark.slow, pytest.mark.timeout(900)]
WORKDIR = "tempest-site"
# About 50 tests, a minute on a busy machine. softwareconfig_show_deployment_metadata expects a 403 that
# Heat's noauth never sends (a lab limit, not a regression: docs/lab.md).
INCLUDE = [r"^ironic_tempest_plugin\.tests\.api\.admin\.test_drivers", r"^heat_tempest_plugin\.tests\.api\."]
EXCLUDE = [r"softwareconfig_show_deployment_metadata"]


def _setup(keystone_v3: str, **changes) -> dict:
    """What a site writes for the lab: what tempestconf cannot discover (the fake drivers, the Heat plugin's
    accounts), passwords taken from the credentials file."""
    setup = {
        "credentials": "overcloudrc", "create": False, "plugins": ["ironic_tests", "heat"],
        "overrides": {
            "service_available": {name: False for name in ("nova", "neutron", "glance", "cinder", "swift")},
            "auth": {"admin_system": "all"},
            "enforce_scope": {"ironic": True},
            "baremetal": {"driver": "fake-hardware", "enabled_hardware_types": "fake-hardware",
                          **{f"enabled_{kind}_interfaces": "fake" for kind in ("boot", "deploy", "management",
                                                                               "power")},
                          "min_microversion": "1.1", "max_microversion": "latest"},
            "heat_plugin": {"auth_url": keystone_v3, "auth_version": 3, "region": "regionOne",
                            "username": "admin", "password": "env:OS_PASSWORD", "project_name": "admin",
                            "admin_username": "admin", "admin_password": "env:OS_PASSWORD",
                            "admin_project_name": "admin", "user_domain_name": "Default",
                            "project_domain_name": "Default", "skip_scenario_tests": True, "build_timeout": 120},
        },
    }
    return setup | changes


def _site(site: SiteConfig, keystone_v3: str, **changes) -> SiteConfig:
    data = site.model_dump(mode="json")
    data["regression"] |= {"kind": "tempest", "workdir": WORKDIR, "include": INCLUDE, "exclude": EXCLUDE,
                           "concurrency": 2, "setup": _setup(keystone_v3, **changes)}
    return SiteConfig.model_validate(data)


@pytest.fixture(scope="module")
def keystone(module_lab) -> str:
    return json.loads((Path(module_lab.dir) / "lab.json").read_text())["ports"]["keystone"]


@pytest.fixture(scope="module")
def deployed(module_lab, prefect_server, keystone):
    """The undercloud installed, the nodes introspected, an overcloud deployed: its rc file is in the home."""
    site = with_stack(ready_undercloud(module_lab), "overcloud", 1, 1)
    overcloud_deploy(site=site)
    return _site(site, f"http://127.0.0.1:{keystone}/v3")


@pytest.fixture(scope="module")
def first_run(deployed, tmp_path_factory):
    reports = tmp_path_factory.mktemp("reports")
    return regression_run(site=deployed, label="pre", report_dir=reports, return_state=True), reports


def test_tempest_is_set_up_from_nothing_and_the_real_selection_runs(module_lab, first_run):
    state, reports = first_run
    run = state.result()
    workspace = Path(module_lab.dir) / "home" / WORKDIR
    assert (workspace / ".stestr.conf").exists()  # tempest init made it
    conf = (workspace / "etc" / "tempest.conf").read_text()
    assert "debug = false" in conf and "[heat_plugin]" in conf
    assert stat.S_IMODE((workspace / "etc" / "tempest.conf").stat().st_mode) == 0o600
    assert run.counts["pass"] >= 40 and run.counts["fail"] == 0, run.failed
    assert run.expected == run.counts["tests"]
    password = (Path(module_lab.dir) / "keystone" / "admin-password").read_text().strip()
    assert f"= {password}" in conf  # set from the credentials file, as env:OS_PASSWORD asked
    logs = "\n".join(logs_of(state.state_details.flow_run_id))
    assert "set up, no workspace yet" in logs
    assert password not in logs
    assert not any(password in path.read_text(errors="replace") for path in reports.rglob("*") if path.is_file())


def test_a_second_run_finds_tempest_set_up_for_the_same_inputs(module_lab, deployed, first_run):
    from rdoflow.blocks.ssh import SSHHost
    from rdoflow.tasks.regression.tempest_setup import setup_tempest

    conf = Path(module_lab.dir) / "home" / WORKDIR / "etc" / "tempest.conf"
    before = conf.stat().st_mtime_ns
    done = setup_tempest(SSHHost.from_target(deployed.undercloud.ssh), deployed.regression)
    assert not done.changed and done.why.startswith("already set up for these inputs")
    assert conf.stat().st_mtime_ns == before


def test_a_plugin_tempest_does_not_have_is_rdoflow_s_failure_to_test(module_lab, deployed, keystone, first_run):
    site = _site(deployed, f"http://127.0.0.1:{keystone}/v3", plugins=["ironic_tests", "octavia-tempest-plugin"])
    error = regression_run(site=site, label="pre", return_state=True).result(raise_on_failure=False)
    assert type(error).__name__ == "TempestSetupFailed", error
    assert "Tempest plugin(s) not installed: octavia-tempest-plugin" in error.message
    assert exit_status_for(error) == ExitStatus.ERROR  # rdoflow could not test: the cloud is not judged


def test_a_credentials_file_that_is_not_there_is_named(module_lab, deployed, keystone, first_run):
    site = _site(deployed, f"http://127.0.0.1:{keystone}/v3", credentials="stackrc-of-another-cloud")
    error = regression_run(site=site, label="pre", return_state=True).result(raise_on_failure=False)
    assert type(error).__name__ == "TempestSetupFailed", error
    assert "stackrc-of-another-cloud" in error.message and "regression.setup" in error.message
