"""Prefect Block types: where rdoflow reaches things, and the secrets to do it.

Register them with ``prefect block register -m rdoflow.blocks``.
"""

from rdoflow.blocks.dlrn import DlrnApiCredentials
from rdoflow.blocks.openstack import OpenStackCloud
from rdoflow.blocks.ssh import SSHHost

__all__ = ["DlrnApiCredentials", "OpenStackCloud", "SSHHost"]
