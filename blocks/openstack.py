"""The OpenStackCloud block: a clouds.yaml cloud, or explicit credentials, turned into an openstacksdk Connection."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

import openstack
import openstack.config
from openstack.connection import Connection
from prefect.blocks.core import Block
from prefect.types import SecretDict
from pydantic import Field, SecretStr, model_validator

from rdoflow.config.site import CloudSite


class OpenStackCloud(Block):
    """An OpenStack cloud (the undercloud's Ironic and Heat, or the overcloud) for openstacksdk."""

    _block_type_name = "OpenStack Cloud"
    _block_type_slug = "openstack-cloud"
    _description = (
        "An OpenStack cloud for openstacksdk: a cloud named in clouds.yaml, or explicit "
        "credentials with the password kept secret."
    )
    _documentation_url = "https://docs.openstack.org/openstacksdk/latest/user/config/configuration.html"
    _code_example = """
    ```python
    from rdoflow.blocks import OpenStackCloud

    openstack_cloud_block = OpenStackCloud.load("BLOCK_NAME")
    conn = openstack_cloud_block.connect()
    ```
    """

    cloud: str | None = Field(None, description="Name of a cloud in clouds.yaml (leave empty for explicit auth).")
    clouds_yaml: Path | None = Field(
        None, description="clouds.yaml to read the cloud from; empty means openstacksdk's usual search path."
    )
    auth_type: Literal["password", "none", "http_basic"] = Field(
        "password", description="Keystone password auth, no auth (standalone Ironic/Heat), or HTTP basic."
    )
    auth_url: str | None = Field(None, description="Keystone URL, for password auth.")
    username: str | None = Field(None, description="User name, for password or HTTP basic auth.")
    password: SecretStr | None = Field(None, description="Password; kept secret.")
    project_name: str | None = Field(None, description="Project (tenant) to scope to.")
    user_domain_name: str = Field("Default", description="Domain of the user.")
    project_domain_name: str = Field("Default", description="Domain of the project.")
    region_name: str | None = Field(None, description="Region to use.")
    interface: Literal["public", "internal", "admin"] = Field("public", description="Endpoint interface.")
    endpoint_overrides: dict[str, str] = Field(
        default_factory=dict,
        description="Service type to endpoint URL, e.g. baremetal: http://127.0.0.1:6385 (needed with no auth).",
    )
    verify: bool = Field(True, description="Verify TLS certificates.")
    entry: SecretDict | None = Field(
        None, description="One cloud of a clouds.yaml itself, as the undercloud's install wrote it (read over SSH "
        "when the site says cloud.from_undercloud); kept secret, never saved by rdoflow.")

    @model_validator(mode="after")
    def _cloud_or_credentials(self) -> OpenStackCloud:
        if self.cloud or self.entry is not None:
            return self
        if self.auth_type == "password" and not (self.auth_url and self.username and self.password):
            raise ValueError("give 'cloud', or 'auth_url', 'username' and 'password' for password auth")
        if self.auth_type == "none" and not self.endpoint_overrides:
            raise ValueError("auth_type 'none' needs 'endpoint_overrides' (there is no catalog to ask)")
        return self

    @classmethod
    def from_site(cls, cloud: CloudSite) -> OpenStackCloud:
        """The block a site's ``cloud`` section names, or one for its clouds.yaml cloud."""
        if cloud.block:
            return cls.load(cloud.block)
        return cls(cloud=cloud.cloud, clouds_yaml=cloud.clouds_yaml, region_name=cloud.region)

    def connect(self) -> Connection:
        """An openstacksdk Connection; nothing is sent until the first API call."""
        if self.entry is not None:  # read as openstacksdk reads a clouds.yaml cloud, without any file
            config = openstack.config.OpenStackConfig(config_files=[], vendor_files=[], load_envvars=False)
            return Connection(config=config.get_one(**self.entry.get_secret_value()))
        if self.cloud:
            files = [str(self.clouds_yaml)] if self.clouds_yaml else None
            region = openstack.config.OpenStackConfig(config_files=files).get_one(
                cloud=self.cloud, region_name=self.region_name
            )
            return Connection(config=region)
        overrides = {f"{service.replace('-', '_')}_endpoint_override": url for service, url in self.endpoint_overrides.items()}
        return Connection(
            auth_type=self.auth_type,
            auth=self._auth(),
            region_name=self.region_name,
            interface=self.interface,
            verify=self.verify,
            **overrides,
        )

    def _auth(self) -> dict[str, str]:
        if self.auth_type == "none":
            return {}
        auth = {"username": self.username or "", "password": self.password.get_secret_value() if self.password else ""}
        if self.auth_type == "password":
            auth |= {
                "auth_url": self.auth_url or "",
                "project_name": self.project_name or "",
                "user_domain_name": self.user_domain_name,
                "project_domain_name": self.project_domain_name,
            }
        return auth
