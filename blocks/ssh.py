"""The SSHHost block: where an SSH server is, how its host key is checked, and the key to log in with."""

from __future__ import annotations

from contextlib import suppress
from pathlib import Path

from prefect.blocks.core import Block
from pydantic import Field, SecretStr, model_validator

from rdoflow.config.ssh import SSHEndpoint, SSHTarget


class SSHHost(Block, SSHEndpoint):
    """An SSH server reached with a key; host keys are verified unless told otherwise."""

    _block_type_name = "SSH Host"
    _block_type_slug = "ssh-host"
    _description = (
        "An SSH server (the undercloud, a review host) and the key to log in with. "
        "Host keys are verified against known_hosts by default."
    )
    _documentation_url = "https://docs.paramiko.org/en/stable/api/client.html"
    _code_example = """
    ```python
    from rdoflow.blocks import SSHHost

    ssh_host_block = SSHHost.load("BLOCK_NAME")
    ```
    """

    private_key: SecretStr | None = Field(
        None,
        description="Private key in OpenSSH or PEM text; kept secret. Use this or private_key_file.",
    )
    key_passphrase: SecretStr | None = Field(None, description="Passphrase of the private key, if it has one.")

    @model_validator(mode="after")
    def _one_key_source(self) -> SSHHost:
        if self.private_key is not None and self.private_key_file is not None:
            raise ValueError("give the key either as 'private_key' or as 'private_key_file', not both")
        return self

    def secret_values(self) -> list[str]:
        """Every secret this block holds, so that output can be redacted of them: a key given as a file
        is as secret as one given inline (a file that cannot be read holds nothing to mask)."""
        values = [s.get_secret_value() for s in (self.private_key, self.key_passphrase) if s is not None]
        if self.private_key_file is not None:
            with suppress(OSError, UnicodeDecodeError):
                values.append(Path(self.private_key_file).expanduser().read_text())
        return values

    @classmethod
    def from_target(cls, target: SSHTarget) -> SSHHost:
        """The block a flow parameter names, or one built from its inline settings."""
        if target.block:
            return cls.load(target.block)
        return cls(**target.model_dump(exclude={"block"}))
