"""prefect.yaml registers with a real Prefect server, and the flows' parameters become a described form."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

PROJECT = Path(__file__).resolve().parent.parent
PREFECT = str(Path(sys.executable).with_name("prefect"))




def _undescribed(schema: dict) -> list[str]:
    """Every property, in the schema and its definitions, that has no description."""
    missing = []
    for owner, definition in [("parameters", schema), *schema.get("definitions", {}).items()]:
        for name, prop in definition.get("properties", {}).items():
            if not prop.get("description"):
                missing.append(f"{owner}.{name}")
    return missing


@pytest.fixture(scope="module")
def deployed(prefect_server) -> dict:
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.actions import WorkPoolCreate
    from prefect.settings import PREFECT_API_URL

    with get_client(sync_client=True) as client:
        client.create_work_pool(WorkPoolCreate(name="rdoflow", type="process"), overwrite=True)
    env = os.environ | {"PREFECT_API_URL": PREFECT_API_URL.value()}
    done = subprocess.run([PREFECT, "--no-prompt", "deploy", "--all"], cwd=PROJECT, env=env,
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr
    with get_client(sync_client=True) as client:
        return _deployments(client)


def test_every_deployment_in_prefect_yaml_registers_without_prompting(deployed):
    assert {d.work_pool_name for d in deployed.values()} == {"rdoflow"}


def _deployments(client) -> dict:
    """Every deployment of prefect.yaml (tagged rdoflow, unlike other tests' own) by its full name, FLOW/DEPLOYMENT."""
    flows = {flow.id: flow.name for flow in client.read_flows()}
    return {f"{flows[d.flow_id]}/{d.name}": d for d in client.read_deployments() if "rdoflow" in d.tags}


def test_every_flow_of_the_catalog_has_a_deployment_for_runs_from_the_ui(deployed):
    from rdoflow.flows.catalog import FLOWS

    assert set(FLOWS) <= {name.split("/")[0] for name in deployed}


def test_every_parameter_of_every_deployment_is_described_for_the_ui_form(deployed):
    undescribed = {name: _undescribed(d.parameter_openapi_schema) for name, d in deployed.items()}
    assert {name: fields for name, fields in undescribed.items() if fields} == {}


def test_the_ui_form_describes_every_field_of_the_site(deployed):
    schema = deployed["upgrade-regression/upgrade-regression"].parameter_openapi_schema
    assert schema["required"] == ["site"]
    assert {"SiteConfig", "UndercloudSite", "SSHTarget", "ComparisonPolicy"} <= set(schema["definitions"])
    assert _undescribed(schema) == []


def test_choices_render_as_dropdowns(deployed):
    definitions = deployed["undercloud-preflight/adhoc"].parameter_openapi_schema["definitions"]
    assert definitions["SSHTarget"]["properties"]["host_key_policy"]["enum"] == ["verify", "trust-on-first-use"]
    assert definitions["RegressionSite"]["properties"]["kind"]["enum"] == ["tempest", "rally", "rally-task", "scripts"]


@pytest.mark.parametrize("preset", sorted(p.name for p in (PROJECT / "deployments" / "sites").glob("*.yaml")))
def test_every_shipped_site_preset_is_valid(preset):
    from rdoflow.config.site import load_site
    from rdoflow.deployments import SITES

    assert load_site(SITES / preset).name == Path(preset).stem
