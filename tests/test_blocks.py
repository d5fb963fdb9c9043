"""The SSHHost, OpenStackCloud and DlrnApiCredentials blocks: registration with a real Prefect server, validation, secrets kept secret."""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from pathlib import Path

import pytest
from prefect.testing.standard_test_suites import BlockStandardTestSuite
from pydantic import SecretStr, ValidationError

from rdoflow.blocks import DlrnApiCredentials, OpenStackCloud, SSHHost
from rdoflow.config.ssh import SSHTarget

PREFECT = str(Path(sys.executable).with_name("prefect"))


def _cli_env() -> dict[str, str]:
    from prefect.settings import PREFECT_API_URL

    return os.environ | {"PREFECT_API_URL": PREFECT_API_URL.value()}


class TestSSHHostMeetsPrefectsBlockStandards(BlockStandardTestSuite):
    test_has_a_valid_image = None  # downloads the logo; these blocks have none, and this machine has no internet

    @pytest.fixture
    def block(self):
        return SSHHost


class TestOpenStackCloudMeetsPrefectsBlockStandards(BlockStandardTestSuite):
    test_has_a_valid_image = None

    @pytest.fixture
    def block(self):
        return OpenStackCloud


class TestDlrnApiCredentialsMeetsPrefectsBlockStandards(BlockStandardTestSuite):
    test_has_a_valid_image = None

    @pytest.fixture
    def block(self):
        return DlrnApiCredentials


@pytest.mark.usefixtures("prefect_server")
def test_prefect_block_register_finds_every_block_type():
    from prefect.client.orchestration import get_client

    done = subprocess.run([PREFECT, "block", "register", "-m", "rdoflow.blocks"], env=_cli_env(),
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr
    with get_client(sync_client=True) as client:
        names = {client.read_block_type_by_slug(slug).name
                 for slug in ("ssh-host", "openstack-cloud", "dlrn-api-credentials")}
    assert names == {"SSH Host", "OpenStack Cloud", "DLRN API Credentials"}


@pytest.mark.usefixtures("prefect_server")
def test_a_saved_ssh_host_keeps_its_key_secret_and_loads_back(sshd):
    key_text = sshd.client_key_file.read_text()
    name = f"uc-{uuid.uuid4().hex[:8]}"
    SSHHost(host="127.0.0.1", port=sshd.port, private_key=SecretStr(key_text)).save(name)
    shown = subprocess.run([PREFECT, "block", "inspect", f"ssh-host/{name}"], env=_cli_env(),
                           capture_output=True, text=True, timeout=120)
    assert shown.returncode == 0, shown.stderr
    assert key_text.splitlines()[1] not in shown.stdout and "********" in shown.stdout
    loaded = SSHHost.from_target(SSHTarget(block=name))
    assert loaded.private_key.get_secret_value() == key_text and loaded.port == sshd.port


def test_an_ssh_host_takes_one_key_source_only(tmp_path):
    with pytest.raises(ValidationError, match="either as 'private_key' or as 'private_key_file'"):
        SSHHost(host="uc", private_key=SecretStr("k"), private_key_file=tmp_path / "id")


def test_an_ssh_target_needs_a_host_or_a_block():
    with pytest.raises(ValidationError, match="set either 'host' or 'block'"):
        SSHTarget()


def test_host_keys_are_verified_unless_asked_otherwise():
    assert SSHHost(host="uc").host_key_policy == "verify"
    with pytest.raises(ValidationError):
        SSHHost(host="uc", host_key_policy="accept-anything")


def test_a_cloud_from_clouds_yaml_becomes_a_connection(tmp_path):
    clouds = tmp_path / "clouds.yaml"
    clouds.write_text(
        "clouds:\n  undercloud:\n    auth_type: none\n    baremetal_endpoint_override: http://127.0.0.1:6385\n"
        "    orchestration_endpoint_override: http://127.0.0.1:8004/v1/admin\n"
    )
    conn = OpenStackCloud(cloud="undercloud", clouds_yaml=clouds).connect()
    assert conn.config.name == "undercloud"
    assert conn.config.get_endpoint("baremetal") == "http://127.0.0.1:6385"


def test_explicit_password_auth_is_passed_to_openstacksdk_but_never_shown():
    cloud = OpenStackCloud(auth_url="https://keystone.example:5000/v3", username="admin",
                           password=SecretStr("Adm1nPass"), project_name="admin")
    conn = cloud.connect()
    assert conn.config.config["auth"]["password"] == "Adm1nPass"
    assert "Adm1nPass" not in repr(cloud) and "Adm1nPass" not in cloud.model_dump_json()


def test_password_auth_without_credentials_is_refused():
    with pytest.raises(ValidationError, match="give 'cloud', or 'auth_url', 'username' and 'password'"):
        OpenStackCloud(auth_url="https://keystone.example:5000/v3")


def test_no_auth_needs_endpoint_overrides():
    with pytest.raises(ValidationError, match="needs 'endpoint_overrides'"):
        OpenStackCloud(auth_type="none")
    conn = OpenStackCloud(auth_type="none", endpoint_overrides={"baremetal": "http://127.0.0.1:6385"}).connect()
    assert conn.config.get_endpoint("baremetal") == "http://127.0.0.1:6385"
