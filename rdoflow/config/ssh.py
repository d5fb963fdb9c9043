"""Where an SSH host is and how its identity is checked: shared by the site config and the SSHHost block.

These models hold no secrets, so they may be flow parameters (which the Prefect
server stores and shows in clear); keys and passphrases live in the SSHHost block.
"""

from __future__ import annotations

import ipaddress
import re
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

HostKeyPolicy = Literal["verify", "trust-on-first-use"]

# A DNS name (labels of letters, digits, '-' and '_', none starting or ending with '-'), or an IP address
# below. Nothing else can be a host: not a shell word ('uc; touch x') nor an option ('-oProxyCommand=...').
_HOST_NAME = re.compile(r"(?=.{1,253}\.?$)[A-Za-z0-9_]([A-Za-z0-9_-]{0,61}[A-Za-z0-9_])?"
                        r"(\.[A-Za-z0-9_]([A-Za-z0-9_-]{0,61}[A-Za-z0-9_])?)*\.?")
_USERNAME = re.compile(r"[A-Za-z_][A-Za-z0-9_.-]{0,63}")


def _is_ip_address(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True


class SSHEndpoint(BaseModel):
    """An SSH server and the account used on it."""

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)  # 1e999 or .inf: a timeout that never ends

    host: str = Field(..., min_length=1, description="Host name or IP address of the SSH server.")
    port: int = Field(22, ge=1, le=65535, description="TCP port of the SSH server.")
    username: str = Field("stack", min_length=1, description="Account to log in as (TripleO uses 'stack').")
    private_key_file: Path | None = Field(
        None,
        description="Path to the private key file on the machine that runs the flow; "
        "leave empty to use the SSH agent or ~/.ssh keys.",
    )
    known_hosts: Path | None = Field(
        None,
        description="known_hosts file that holds the server's host key; empty means ~/.ssh/known_hosts.",
    )
    host_key_policy: HostKeyPolicy = Field(
        "verify",
        description="'verify' refuses unknown or changed host keys; 'trust-on-first-use' records an "
        "unknown key in known_hosts on first contact (a changed key is still refused).",
    )
    connect_timeout: float = Field(15.0, gt=0, description="Seconds to wait for the TCP connection and SSH handshake.")

    @field_validator("host")
    @classmethod
    def _host(cls, host: str) -> str:
        if host and not (_HOST_NAME.fullmatch(host) or _is_ip_address(host)):
            raise ValueError(f"expected a host name or an IP address, got {host!r}")
        return host

    @field_validator("username")
    @classmethod
    def _username(cls, username: str) -> str:
        if not _USERNAME.fullmatch(username):
            raise ValueError(f"expected an account name of letters, digits, '_', '.' and '-', got {username!r}")
        return username

    @property
    def address(self) -> str:
        """``user@host:port``, for messages."""
        return f"{self.username}@{self.host}:{self.port}"


class SSHTarget(SSHEndpoint):
    """An SSH host as a flow parameter: inline settings, or the name of a saved SSHHost block."""

    host: str = Field("", description="Host name or IP address of the SSH server (empty when 'block' is set).")
    block: str | None = Field(
        None,
        description="Name of a saved 'ssh-host' block to use instead of the inline settings "
        "(holds the private key as a secret).",
    )

    @model_validator(mode="after")
    def _host_or_block(self) -> SSHTarget:
        if not self.host and not self.block:
            raise ValueError("set either 'host' or 'block'")
        return self
