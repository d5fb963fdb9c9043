"""Prefect Block types: where rdoflow reaches things, and the secrets to do it.

Register them with ``prefect block register -m blocks``.
"""

from blocks.openstack import OpenStackCloud
from blocks.ssh import SSHHost

__all__ = ["OpenStackCloud", "SSHHost"]
