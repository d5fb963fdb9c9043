"""The DlrnApiCredentials block: a DLRN API (RDO's trunk server, or the lab's) and the CI account that votes on it."""

from __future__ import annotations

from prefect.blocks.core import Block
from pydantic import Field, SecretStr, field_validator


class DlrnApiCredentials(Block):
    """DLRN's API and the account rdoflow reports results with, as ``dlrnapi --url URL`` with
    ``DLRNAPI_USERNAME`` and ``DLRNAPI_PASSWORD`` does."""

    _block_type_name = "DLRN API Credentials"
    _block_type_slug = "dlrn-api-credentials"
    _description = (
        "A DLRN API (e.g. https://trunk.rdoproject.org/api-centos9-master) and the CI account that reports "
        "results to it; the password is kept secret."
    )
    _documentation_url = "https://dlrn.readthedocs.io/en/latest/api.html"
    _code_example = """
    ```python
    from rdoflow.blocks import DlrnApiCredentials

    dlrn_api_credentials_block = DlrnApiCredentials.load("BLOCK_NAME")
    ```
    """

    url: str = Field(..., description="The API's base URL, without /api (what 'dlrnapi --url' takes).")
    username: str = Field(..., min_length=1, description="The CI account ('dlrn-user create' made it).")
    password: SecretStr = Field(..., description="The account's password; kept secret.")
    verify: bool = Field(True, description="Verify TLS certificates.")
    timeout: float = Field(60.0, gt=0, le=600, description="Seconds to wait for each answer (a vote's login "
                                                            "alone costs DLRN about 0.3 s of hashing).")

    @field_validator("url")
    @classmethod
    def _http_url(cls, value: str) -> str:
        if not value.startswith(("http://", "https://")) or " " in value:
            raise ValueError(f"{value!r} is not an http(s) URL; expected e.g. https://trunk.rdoproject.org/"
                             "api-centos9-master")
        return value.rstrip("/")
