"""Is the installed undercloud usable? Its release, its client files on the host, its Ironic (and Heat) APIs.

Each verification is a ``Check`` (what was expected, what was found). File contents are parsed in
memory and never logged: a real stackrc or clouds.yaml may hold a password.
"""

from __future__ import annotations

import keystoneauth1.exceptions
import openstack.exceptions
from prefect import task
from prefect.cache_policies import NO_CACHE

from rdoflow.blocks.openstack import OpenStackCloud
from rdoflow.blocks.ssh import SSHHost
from rdoflow.config.releases import Release, profile, release_of_client
from rdoflow.config.site import CloudSite
from rdoflow.config.yamlsource import parse_yaml
from rdoflow.errors import ConfigError, ResourceFailed
from rdoflow.tasks.retries import TRANSIENT_RETRIES
from rdoflow.tasks.ssh.remote import read_remote
from rdoflow.tasks.undercloud.credentials import CLOUDS_YAML, site_cloud
from rdoflow.tasks.undercloud.install import STACKRC
from rdoflow.tasks.undercloud.model import Check

RELEASE_CHECK = "release matches the site"
API_ERRORS = (openstack.exceptions.SDKException, keystoneauth1.exceptions.ClientException)


def _passed(ok: bool) -> str:
    return "pass" if ok else "fail"


def check_client_files(host: SSHHost, cloud: str) -> list[Check]:
    """~/stackrc exists; ~/.config/openstack/clouds.yaml parses and names the site's cloud."""
    stackrc = read_remote(host, STACKRC)
    checks = [Check(name="stackrc written", expected=f"~/{STACKRC} on the host",
                    found=f"{len(stackrc)} bytes" if stackrc is not None else "no such file",
                    outcome=_passed(stackrc is not None))]
    raw = read_remote(host, CLOUDS_YAML)
    expected = f"~/{CLOUDS_YAML} with cloud '{cloud}'"
    if raw is None:
        return [*checks, Check(name="clouds.yaml written", expected=expected, found="no such file", outcome="fail")]
    try:
        clouds = (parse_yaml(raw, f"~/{CLOUDS_YAML}").data or {}).get("clouds") or {}
        names = sorted(clouds) if isinstance(clouds, dict) else []
    except (ConfigError, AttributeError) as exc:
        found = f"not a clouds.yaml: {str(exc).splitlines()[0]}"
        return [*checks, Check(name="clouds.yaml written", expected=expected, found=found, outcome="fail")]
    found = f"clouds: {', '.join(names)}" if names else "no clouds in it"
    return [*checks, Check(name="clouds.yaml written", expected=expected, found=found, outcome=_passed(cloud in names))]


def check_apis(cloud: OpenStackCloud, release: Release = Release.TRAIN) -> list[Check]:
    """Ironic lists its nodes, and Heat its stacks where the release keeps a Heat service on the
    undercloud (Train; since Wallaby each deploy starts an ephemeral Heat of its own)."""
    return [_ironic(cloud), *([_heat(cloud)] if profile(release).persistent_heat else [])]


def check_release(release: Release, version: str | None) -> Check:
    """The site's release is the one the undercloud's python3-tripleoclient belongs to (when rpm says)."""
    wanted = profile(release)
    expected = (f"python3-tripleoclient {wanted.client_majors.start}.x to {wanted.client_majors.stop - 1}.x "
                f"({wanted.title})")
    found = release_of_client(version)
    if found is None:
        return Check(name=RELEASE_CHECK, expected=expected, outcome="skip",
                     found=f"cannot tell from {version!r}" if version else "no version could be read")
    return Check(name=RELEASE_CHECK, expected=expected, outcome=_passed(found == release),
                 found=f"{version} ({profile(found).title}; set undercloud.release: {found.value})"
                 if found != release else version)


def _ironic(cloud: OpenStackCloud) -> Check:
    expected = "node list through openstacksdk"
    try:
        conn = cloud.connect()
        nodes = list(conn.baremetal.nodes())
        found = f"{len(nodes)} node(s) at {conn.baremetal.get_endpoint()}"
    except API_ERRORS as exc:
        return Check(name="Ironic API answers", expected=expected, found=_why(exc), outcome="fail")
    return Check(name="Ironic API answers", expected=expected, found=found, outcome="pass")


def _heat(cloud: OpenStackCloud) -> Check:
    # openstacksdk's orchestration proxy insists on version discovery, which Heat does not serve under
    # /v1/<project> (docs/undercloud-bootstrap.md, step 4); so the stacks are listed through the connection's own
    # authenticated session at the endpoint openstacksdk resolves for the cloud.
    expected = "stack list through openstacksdk"
    try:
        conn = cloud.connect()
        endpoint = conn.endpoint_for("orchestration")
        if not endpoint:
            return Check(name="Heat API answers", expected=expected, outcome="fail",
                         found="the cloud has no orchestration endpoint (catalog or override)")
        answer = conn.session.get(endpoint.rstrip("/") + "/stacks")
        stacks = answer.json().get("stacks", [])
        found = f"{len(stacks)} stack(s) at {endpoint}"
    except API_ERRORS as exc:
        return Check(name="Heat API answers", expected=expected, found=_why(exc), outcome="fail")
    except ValueError:
        return Check(name="Heat API answers", expected=expected, found="the answer is not JSON", outcome="fail")
    return Check(name="Heat API answers", expected=expected, found=found, outcome="pass")


def _why(exc: Exception) -> str:
    return f"{type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else 'no message'}"


def require_verified(checks: list[Check], address: str) -> None:
    """Fail the stage when a verification failed, listing each one."""
    failed = [check for check in checks if check.outcome == "fail"]
    if not failed:
        return
    mismatch = next((check for check in failed if check.name == RELEASE_CHECK), None)
    if mismatch is not None:  # the site describes another director than the host runs: bad input
        raise ConfigError("site", [f"site: undercloud.release: expected {mismatch.expected}, as the site says; "
                                   f"the undercloud on {address} has {mismatch.found}"],
                          hint="name the undercloud's release in the site config (docs/releases.md)")
    raise ResourceFailed(
        f"the undercloud on {address} failed {len(failed)} verification(s) after its install: {failed[0].name}",
        evidence=[f"{c.name}: expected {c.expected}, found {c.found}" for c in failed],
        hint="read the install's log in this run; run the stage with refresh to install again, and check that "
             "the site's cloud section (clouds.yaml, cloud name) points at this undercloud",
    )


@task(name="verify-undercloud", task_run_name="verify the undercloud on {host.host}", cache_policy=NO_CACHE,
      **TRANSIENT_RETRIES)
def verify_undercloud(host: SSHHost, cloud: CloudSite, release: Release = Release.TRAIN,
                      version: str | None = None) -> list[Check]:
    """The release, the client files and the APIs, each a check; retried only when the SSH connection fails."""
    return [check_release(release, version), *check_client_files(host, cloud.cloud),
            *check_apis(site_cloud(cloud, host), release)]
