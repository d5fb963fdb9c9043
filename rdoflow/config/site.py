"""A site: everything the pipelines need to know about one environment, read from a YAML file and checked once.

The models are also flow parameters (the Prefect UI renders them as a form and
the server stores them in clear), so they hold no secrets: passwords and keys
live in Blocks, and a site only names those blocks.
"""

from __future__ import annotations

import math
import os
import re
from pathlib import Path
from typing import Annotated, Any, Literal
from urllib.parse import urlsplit

from pydantic import (
    AfterValidator,
    AliasChoices,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)

from rdoflow.config.catalogue import Regex, load_catalogue
from rdoflow.config.releases import Release
from rdoflow.config.ssh import SSHTarget
from rdoflow.config.upgrade_checks import Validations, WorkloadCheck
from rdoflow.config.yamlsource import (
    Problem,
    YamlDocument,
    raise_problems,
    read_yaml,
    shown,
    validation_problems,
)
from rdoflow.errors import ConfigError

# Validation context key: the directory of the site file, against which its relative paths are read.
SITE_DIR = "site_dir"
SLUG = re.compile(r"^[a-z0-9]([a-z0-9-]*[a-z0-9])?$")
# The keys of undercloud.conf's [auth] section: the passwords and keys TripleO generates.
_SECRET_KEY = re.compile(r"password|secret|token|cookie|encryption_key|hash_suffix", re.IGNORECASE)


def site_path(value: str | Path, site_dir: Path) -> Path:
    """An absolute path for a path written in a site file: ``~`` expanded, relative to the file's directory."""
    return Path(os.path.abspath(site_dir / Path(value).expanduser()))


def _from_site_dir(path: Path | None, info: ValidationInfo) -> Path | None:
    # Only load_site passes the site directory; parameters from the UI or an API
    # call are taken as they are (absolute, or relative to the worker's directory).
    site_dir = (info.context or {}).get(SITE_DIR)
    return path if path is None or site_dir is None else site_path(path, site_dir)


def _ini_value(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        raise ValueError(f"expected a finite number, got {shown(value)}")
    if isinstance(value, (str, int, float)):
        return value
    raise ValueError(f"expected a string, number or true/false, got {shown(value)}")


def _not_a_secret(key: str) -> str:
    if _SECRET_KEY.search(key):
        raise ValueError(
            "secrets do not belong in the site config (the Prefect UI shows it in clear); leave them out "
            "and TripleO generates them into undercloud-passwords.conf"
        )
    return key


def _bug_number(value: Any) -> Any:
    # Skip lists write Launchpad numbers bare (lp: 1798516); a whole number reads back unchanged.
    return str(value) if isinstance(value, int) and not isinstance(value, bool) else value


def _once(patterns: list[str]) -> list[str]:
    return list(dict.fromkeys(patterns))


def _unique(names: list[str]) -> list[str]:
    repeated = sorted({name for name in names if names.count(name) > 1})
    if repeated:
        raise ValueError(f"each role may appear once; repeated: {', '.join(repeated)}")
    return names


# Every section refuses keys it does not know and numbers that are not finite: YAML reads 1e999 as
# the string '1e999', which pydantic turns into inf, and .inf and .nan as themselves; a timeout of
# inf never ends, a minimum of inf always fails.
SECTION = ConfigDict(extra="forbid", allow_inf_nan=False)

# The catalogue's names, for the fields that choose among them and their descriptions in the UI's form.
_SELECTIONS = tuple(load_catalogue().selections)
_AREAS = tuple(load_catalogue().selectable())
SitePath = Annotated[Path, AfterValidator(_from_site_dir)]
IniValue = Annotated[str | int | float | bool, BeforeValidator(_ini_value)]
IniSection = dict[Annotated[str, AfterValidator(_not_a_secret)], IniValue]
RoleCounts = dict[str, Annotated[int, Field(ge=0)]]


class UndercloudMinimums(BaseModel):
    """What the undercloud host must have before `openstack undercloud install` is tried."""

    model_config = SECTION

    ram_gb: float = Field(24, ge=0, title="RAM (GiB)", description="Memory the host must have, in GiB.")
    cpus: int = Field(8, ge=1, title="CPUs", description="CPU cores the host must have.")
    disk_gb: float = Field(100, ge=0, title="Free disk (GiB)", description="Free space needed on 'disk_path', GiB.")
    disk_path: str = Field("/", min_length=1, description="Path on the undercloud whose file system is measured.")


class UndercloudSite(BaseModel):
    """The undercloud (director) host: how to reach it, what it must have and how to install it."""

    model_config = SECTION

    ssh: SSHTarget = Field(..., description="How to reach the undercloud over SSH (inline, or a saved block).")
    release: Release = Field(
        Release.TRAIN, description="The TripleO release of the undercloud: 'wallaby' (RHOSP 17.1), 'zed' or "
        "'train' (RHOSP 16.2). It chooses how the stages talk to the director (docs/releases.md); the "
        "bootstrap checks it against the undercloud's python3-tripleoclient.",
    )
    hostname: str | None = Field(
        None, description="Fully qualified host name the undercloud must report ('hostname -f'); empty: not checked."
    )
    require_fqdn: bool = Field(
        True, title="Require FQDN",
        description="Fail the preflight when the host name is not fully qualified, as TripleO requires.",
    )
    minimums: UndercloudMinimums = Field(
        default_factory=UndercloudMinimums, description="Resources the preflight checks before installing."
    )
    conf: dict[str, IniSection] = Field(
        default_factory=lambda: {"DEFAULT": {}},
        description="undercloud.conf settings: section name, then key and value (e.g. DEFAULT: {local_ip: "
        "192.168.24.1/24}). Passwords are left out; TripleO generates them.",
    )
    install_timeout: int = Field(7200, gt=0, description="Seconds 'openstack undercloud install' (or upgrade) takes.")

    @field_validator("ssh")
    @classmethod
    def _key_files_from_site_dir(cls, ssh: SSHTarget, info: ValidationInfo) -> SSHTarget:
        files = {name: _from_site_dir(getattr(ssh, name), info) for name in ("private_key_file", "known_hosts")}
        return ssh.model_copy(update=files)


class CloudSite(BaseModel):
    """How the flows reach the OpenStack APIs (Ironic, Heat) of the undercloud."""

    model_config = SECTION

    cloud: str = Field("undercloud", min_length=1, description="Name of the cloud entry in clouds.yaml.")
    clouds_yaml: SitePath | None = Field(
        None, description="clouds.yaml on the machine that runs the flow; empty: the usual places "
        "(./clouds.yaml, ~/.config/openstack/clouds.yaml, /etc/openstack/clouds.yaml)."
    )
    block: str | None = Field(
        None, description="Name of a saved OpenStack cloud block to use instead (holds the credentials)."
    )
    region: str | None = Field(None, description="Region name, when the cloud has more than one.")
    from_undercloud: bool = Field(
        False, description="Take the cloud (endpoints and credentials) from the clouds.yaml the undercloud's "
        "install wrote (~/.config/openstack/clouds.yaml on the undercloud, read over SSH at each stage), "
        "instead of a copy on the machine that runs the flow.",
    )

    @model_validator(mode="after")
    def _one_source(self) -> CloudSite:
        if self.from_undercloud and (self.clouds_yaml or self.block):
            given = "clouds_yaml" if self.clouds_yaml else "block"
            raise ValueError(f"from_undercloud and {given} both name where the cloud comes from: keep one")
        return self


class InventorySite(BaseModel):
    """The bare-metal nodes to import and introspect, and how hard to try."""

    model_config = SECTION

    file: SitePath | None = Field(
        None, description="instackenv.json or nodes.yaml on the machine that runs the flow (the file "
        "'openstack overcloud node import' takes); relative to the site file."
    )
    concurrency: int = Field(10, ge=1, description="Nodes introspected at the same time.")
    node_timeout: int = Field(1800, gt=0, description="Seconds one node may take to be inspected.")
    retries: int = Field(1, ge=0, description="Extra inspection attempts for a node that failed.")
    introspect_with: Literal["rdoflow", "tripleo"] = Field(
        "rdoflow", description="Who drives the inspection: 'rdoflow' (manage → inspect → provide through "
        "Ironic's API, at most 'concurrency' nodes at a time, a timed-out node aborted and retried) or "
        "'tripleo' ('openstack overcloud node introspect --provide' on the undercloud). Either way each "
        "node's outcome is read from Ironic and ironic-inspector, not from the command's word.",
    )
    # Not named "required", as it was at first: Prefect's server drops every key of that name from a
    # parameter schema before it checks a deployment's defaults, so a site with it could not be a
    # deployment's parameter. Files that still say "required" are read the same.
    min_available: RoleCounts = Field(
        default_factory=dict, validation_alias=AliasChoices("min_available", "required"),
        description="Minimum number of available nodes per role (profile), e.g. {control: 3, compute: 2}; "
        "fewer fails the stage.",
    )


class OvercloudSite(BaseModel):
    """The overcloud deployment: the Heat stack, its templates and how many nodes per role."""

    model_config = SECTION

    stack: str = Field("overcloud", min_length=1, description="Name of the Heat stack (--stack).")
    templates: str = Field(
        "/usr/share/openstack-tripleo-heat-templates",
        min_length=1,
        description="Directory of the heat templates on the undercloud (--templates).",
    )
    environment_files: list[str] = Field(
        default_factory=list, description="Environment files on the undercloud, in order (-e each)."
    )
    roles: RoleCounts = Field(
        default_factory=dict, description="Node count per role, e.g. {Controller: 3, Compute: 2}; empty: "
        "the templates' defaults."
    )
    profiles: dict[str, str] = Field(
        default_factory=dict, description="Ironic profile (the nodes' 'profile' capability) of a role whose "
        "nodes 'overcloud node provision' chooses (Wallaby and later), e.g. {ComputeHCI: compute-hci}; the "
        "default roles' are known (Controller: control, Compute: compute, CephStorage: ceph-storage...).",
    )
    timeout: int = Field(240, gt=0, description="Minutes the deployment may take (--timeout).")
    extra_args: list[str] = Field(
        default_factory=list, description="More arguments for 'openstack overcloud deploy', one per item."
    )


ENV_REFERENCE = re.compile(r"^env:([A-Za-z_][A-Za-z0-9_]*)$")


def _tempest_overrides(sections: dict[str, dict[str, Any]]) -> dict[str, dict[str, Any]]:
    for section, values in sections.items():
        for key, value in values.items():
            if _SECRET_KEY.search(key) and not (isinstance(value, str) and ENV_REFERENCE.match(value)):
                raise ValueError(f"{section}.{key}: a secret does not belong in the site config (the Prefect UI "
                                 "shows it in clear); write env:NAME to take it from the credentials file's "
                                 "variable NAME on the undercloud, e.g. env:OS_PASSWORD")
    return sections


class TempestSetup(BaseModel):
    """Tempest set up where it runs, as on a real site: ``tempest init`` makes the workspace, and
    python-tempestconf's ``discover-tempest-config`` writes its tempest.conf from the cloud's credentials."""

    model_config = SECTION

    credentials: str = Field(
        "overcloudrc", min_length=1,
        description="File on the undercloud with the OS_* variables of the cloud under test (TripleO's deploy "
        "writes ~/<stack>rc); relative to the home. It is sourced there, never read by rdoflow.",
    )
    create: bool = Field(
        True, description="Let discover-tempest-config create the flavors, image and accounts Tempest needs "
        "(--create); off for a cloud without Nova and Glance.",
    )
    deployer_input: str | None = Field(
        None, description="A deployer input file on the undercloud (--deployer-input), e.g. "
        "tempest-deployer-input.conf, which Train's deploy writes.",
    )
    overrides: Annotated[dict[str, dict[str, IniValue]], AfterValidator(_tempest_overrides)] = Field(
        default_factory=dict,
        description="tempest.conf settings applied last: section, then key and value (e.g. compute: "
        "{min_compute_nodes: 2}). A value env:NAME is the credentials file's variable NAME, read on the "
        "undercloud (how a password gets there).",
    )
    plugins: list[str] = Field(
        default_factory=list, description="Tempest plugins that must be installed where Tempest runs, as "
        "'tempest list-plugins' names them (e.g. ironic_tests, heat): a missing one fails the setup.",
    )
    extra_args: list[str] = Field(
        default_factory=list, description="More discover-tempest-config arguments, e.g. [--network-id, ID].")


SHIPPED_RALLY_TASKS = ("heat", "ironic")  # tasks/regression/rally_tasks/<name>.yaml


class RallyTasks(BaseModel):
    """Rally task scenarios run before and after the upgrade ('rally-task'): each scenario and each of its SLA
    criteria is a result, its iterations' mean duration the scenario's duration."""

    model_config = SECTION

    tasks: list[str] = Field(
        default_factory=lambda: list(SHIPPED_RALLY_TASKS), min_length=1,
        description="Rally task files on the undercloud (a path with a '/', relative to the home), or names of "
        "the tasks rdoflow ships: " + ", ".join(SHIPPED_RALLY_TASKS) + ".",
    )
    credentials: str = Field(
        "overcloudrc", min_length=1,
        description="File on the undercloud with the OS_* variables of the cloud under test; relative to the "
        "home. It is sourced there for 'rally env create --from-sysenv', never read by rdoflow.",
    )
    task_args: dict[str, str | int | float | bool] = Field(
        default_factory=dict,
        description="Rally's --task-args for every task (the shipped ones take times, concurrency, "
        "max_seconds_per_iteration and failure_rate_max). No secret: it is on the command line.",
    )

    @field_validator("tasks")
    @classmethod
    def _task_names(cls, tasks: list[str]) -> list[str]:
        unknown = [task for task in tasks if "/" not in task and task not in SHIPPED_RALLY_TASKS]
        if unknown:
            raise ValueError(f"expected a file on the undercloud (a path with a '/', e.g. ./my-task.yaml) or a "
                             f"shipped task ({', '.join(SHIPPED_RALLY_TASKS)}), got {', '.join(map(repr, unknown))}")
        return _once(tasks)


class RegressionSite(BaseModel):
    """The regression suite run before and after the upgrade."""

    model_config = SECTION

    kind: Literal["tempest", "rally", "rally-task", "scripts"] = Field(
        "tempest", description="Tempest (stestr), a Rally verification, Rally task scenarios with their SLAs "
        "('rally' below), or a directory of test scripts."
    )
    workdir: str = Field(
        "/home/stack/tempest", min_length=1,
        description="Directory on the undercloud: the Tempest workspace, or the scripts for 'scripts'.",
    )
    include: list[Regex] = Field(
        default_factory=list, description="Run only tests whose id matches one of these regular expressions; "
        "empty: the whole suite."
    )
    exclude: list[Regex] = Field(
        default_factory=list, description="Skip tests whose id matches one of these regular expressions."
    )
    selection: str | None = Field(
        None, description="A selection of the inspection catalogue, by name: " + ", ".join(_SELECTIONS)
        + ". Its include and exclude lists add to the ones here (docs/site-config.md#the-inspection-catalogue).",
    )
    areas: list[str] = Field(
        default_factory=list, description="Areas of the inspection catalogue whose tests join the include "
        "list: " + ", ".join(_AREAS) + ".",
    )
    concurrency: int = Field(4, ge=1, description="Test workers run at the same time.")
    timeout: int = Field(10800, gt=0, description="Seconds one whole run (pre or post) may take.")
    script_timeout: int = Field(900, gt=0, description="Seconds one script may take ('scripts' only).")
    rally: RallyTasks = Field(
        default_factory=RallyTasks, description="The Rally tasks, the credentials and the task args "
        "('rally-task' only; its workdir is where Rally's database and reports are kept).",
    )
    setup: TempestSetup | None = Field(
        None, description="Set Tempest up in 'workdir' before the run ('tempest' only): tempest init where "
        "there is no workspace yet, tempest.conf generated from the cloud's credentials. Empty: the workspace "
        "is used as it is.",
    )

    @field_validator("selection")
    @classmethod
    def _known_selection(cls, name: str | None) -> str | None:
        if name is not None and name not in _SELECTIONS:
            raise ValueError(f"expected a selection of the inspection catalogue ({', '.join(_SELECTIONS)}), "
                             f"got {name!r}")
        return name

    @field_validator("areas")
    @classmethod
    def _known_areas(cls, names: list[str]) -> list[str]:
        unknown = [name for name in names if name not in _AREAS]
        if unknown:
            raise ValueError(f"expected areas of the inspection catalogue ({', '.join(_AREAS)}), got "
                             f"{', '.join(repr(name) for name in unknown)}")
        return names

    def test_filters(self) -> tuple[list[str], list[str]]:
        """The include and exclude lists the run is given: the selection's and the areas', then the site's
        own. A test runs when it matches an include expression (or there is none) and no exclude one."""
        include, exclude = load_catalogue().filters(self.selection, self.areas)
        return _once(include + self.include), _once(exclude + self.exclude)


class UpgradePlan(BaseModel):
    """How the upgrade is run between the two regression runs."""

    model_config = SECTION

    roles_order: Annotated[list[str], AfterValidator(_unique)] = Field(
        default_factory=lambda: ["Controller", "Compute"],
        description="Roles upgraded one after another, in this order.",
    )
    environment_files: list[str] = Field(
        default_factory=list, description="Environment files on the undercloud added for the upgrade (-e each)."
    )
    undercloud: bool = Field(True, description="Upgrade the undercloud first.")
    workload: WorkloadCheck | None = Field(
        None, description="A workload watched from before the upgrade to after it (docs/upgrade-checks.md); "
        "empty: none.")
    validations: Validations = Field(default_factory=Validations, description="Checks run before and after "
                                     "the upgrade (docs/upgrade-checks.md).")


class KnownFailure(BaseModel):
    """A test expected to fail, and why: its failure is reported as known, not hidden."""

    model_config = SECTION

    test: Regex = Field(
        ..., description="Regular expression matched at the start of the test id; a prefix such as "
        "'neutron_tempest_plugin.scenario' covers a whole package."
    )
    reason: str = Field(..., min_length=1, description="Why the test fails, for the report.")
    bug: Annotated[str | None, BeforeValidator(_bug_number)] = Field(
        None, validation_alias=AliasChoices("bug", "lp"),
        description="Bug reference (Launchpad, Bugzilla, Jira); 'lp' as in TripleO skip lists is accepted.",
    )


class ComparisonPolicy(BaseModel):
    """How the pre- and post-upgrade runs are judged."""

    model_config = SECTION

    known_failures: list[KnownFailure] = Field(
        default_factory=list, description="Tests known to fail: tagged 'known' with their bug, not regressions."
    )
    flaky: list[Regex] = Field(
        default_factory=list, description="Regular expressions of tests whose failure alone does not turn "
        "the verdict red."
    )
    slower_ratio: float = Field(1.5, gt=1, description="A test is slower when post/pre duration exceeds this ratio...")
    slower_seconds: float = Field(5.0, ge=0, description="...and it also takes at least this many seconds more.")
    history_runs: int = Field(10, ge=0, description="Earlier runs looked at to tell flaky tests; 0: none.")


def _openable_url(url: str) -> str:
    # It goes into every report link and artifact: a browser's scheme, and no credentials in it.
    # The URL is quoted back only once it is known to hold no user, password or query (a signed URL's token).
    parts = urlsplit(url)
    if parts.username is not None or parts.password is not None:
        raise ValueError("expected a URL without a user or password: it is shown in reports and the UI; "
                         "keep the credentials in the web server or the bucket's policy")
    if parts.query or parts.fragment or any(c.isspace() for c in url):
        raise ValueError("expected a base URL the reports' paths are appended to, without a query, a fragment "
                         "or a space")
    if parts.scheme not in ("http", "https", "file") or (parts.scheme != "file" and not parts.hostname):
        raise ValueError(f"expected an http://, https:// or file:// URL a browser opens, got {url!r}")
    return url if url.endswith("/") else url + "/"


PublicUrl = Annotated[str, AfterValidator(_openable_url)]


def _dlrn_url(url: str) -> str:
    # It is shown in reports and sent to the DLRN server; an account goes in a block, never in the URL.
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname or any(c.isspace() for c in url):
        raise ValueError(f"expected the DLRN server's http(s) base URL, e.g. "
                         f"https://trunk.rdoproject.org/centos9-zed, got {url!r}")
    if parts.username is not None or parts.password is not None or parts.query or parts.fragment:
        raise ValueError("expected a base URL without a user, password, query or fragment (the vote's account "
                         "is in the drop.vote block)")
    return url.rstrip("/")


DlrnUrl = Annotated[str, AfterValidator(_dlrn_url)]


class ResultsSite(BaseModel):
    """Where regression results are kept."""

    model_config = SECTION

    location: str = Field(
        ".rdoflow/results", min_length=1,
        description="Directory or fsspec URL (s3://, gs://, ...) that receives one Parquet partition per run; "
        "a relative directory in a site file is read from the file's directory.",
    )

    @field_validator("location")
    @classmethod
    def _local_from_site_dir(cls, location: str, info: ValidationInfo) -> str:
        # A URL is left alone; a local directory written in a site file is read like its other paths.
        if "://" in location or (info.context or {}).get(SITE_DIR) is None:
            return location
        return str(site_path(location, info.context[SITE_DIR]))

    public_url: PublicUrl | None = Field(
        None, description="The URL a team's browser opens for the store's top directory (a web server or "
        "bucket website over it), e.g. https://ci.example/rdoflow/; the UI's report links start with it. "
        "Unset: a local store's file:// URL, or the store's own URL.",
    )


class DropReviewSite(BaseModel):
    """Reviewing what each pre-release drop changed (docs/prerelease.md): where the drops are, where rdoinfo is,
    which review backends run."""

    model_config = SECTION

    base_url: str = Field(..., min_length=1, description="DLRN base URL of the release, e.g. "
                                                         "https://trunk.rdoproject.org/centos9-master.")
    link: str = Field("current-passed-ci", min_length=1, description="The promotion link the drops are read "
                                                                     "behind; the last drop tested is kept per link.")
    rdoinfo: str | None = Field(None, description="rdoinfo: a directory or a git URL; maps each package to its "
                                "distgit, upstream and maintainers. Empty: the drop's own columns (Dist Repo...).")
    info_files: str = Field("rdo-full.yml", min_length=1, description="rdoinfo's file to read (with its imports).")
    release: str | None = Field(None, description="rdoinfo tag to apply (e.g. caracal); empty: none.")
    first_drop: Literal["baseline", "review-all"] = Field(
        "baseline", description="The first drop tested behind the link: 'baseline' records it and reviews "
                                "nothing (nothing changed yet); 'review-all' reviews every package.")
    distgit_protocols: list[Literal["https", "http", "git", "ssh", "file"]] = Field(
        ["https", "http", "git"], min_length=1, description="git protocols distgits (and rdoinfo) are fetched with.")
    review_host: SSHTarget | None = Field(None, description="Also review with fedora-review on this host.")
    source_mirror: str | None = Field(None, description="The reviews fetch each Source by file name from here.")
    allow_hosts: list[str] = Field(default_factory=list, description="Hosts a review may fetch Sources from "
                                                                     "although their address is not public.")
    fetch_timeout: float = Field(120, gt=0, description="Seconds a git fetch of a distgit may take.")

    @field_validator("rdoinfo")
    @classmethod
    def _rdoinfo_from_site_dir(cls, location: str | None, info: ValidationInfo) -> str | None:
        if location is None or "://" in location or (info.context or {}).get(SITE_DIR) is None:
            return location
        return str(site_path(location, info.context[SITE_DIR]))


Argv = Annotated[list[Annotated[str, Field(min_length=1)]], Field(min_length=1)]


class ContainerImagesSite(BaseModel):
    """How the overcloud's container images are prepared for a drop: ``openstack tripleo container image
    prepare`` with a ContainerImagePrepare whose tag is the drop's hash."""

    model_config = SECTION

    prepare_file: str = Field(
        "containers-prepare-parameter.yaml", min_length=1,
        description="The undercloud's ContainerImagePrepare environment file (relative to the home), which the "
        "drop's copy starts from (every entry's tag set to the drop's hash). When the undercloud has none: one "
        "entry made of 'set' and 'push_destination' below.")
    set: dict[str, str] = Field(
        default_factory=dict, description="ContainerImagePrepare's 'set' when the undercloud has no prepare_file "
        "(namespace, name_prefix, name_suffix...); its tag is the drop's hash whatever is written here.")
    push_destination: bool | str = Field(
        True, description="ContainerImagePrepare's push_destination when the undercloud has no prepare_file: true "
        "(the undercloud's registry), a registry address, or false (the nodes pull from 'namespace').")
    roles_file: str | None = Field(
        None, description="Roles file (--roles-file) on the undercloud; empty: the templates' roles_data.yaml.")
    extra_args: list[str] = Field(
        default_factory=list, description="More arguments for 'openstack tripleo container image prepare'.")
    timeout: int = Field(3600, gt=0, description="Seconds the image prepare may take.")


class DropVote(BaseModel):
    """The pipeline's result voted back to DLRN's API for the drop it tested, as RDO's CI does."""

    model_config = SECTION

    block: str = Field(..., min_length=1, description="The saved dlrn-api-credentials block: DLRN's API URL, the "
                                                      "CI account and its password (docs/blocks.md).")
    job_id: str = Field("rdoflow-nightly", min_length=1, pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]*$",
                        description="The job name the vote is recorded under (DLRN's job_id).")


class DropSite(BaseModel):
    """How a pre-release drop is applied to the site (docs/prerelease.md): its repositories on the undercloud,
    the packages updated, the container images prepared with its tag, then the overcloud updated or upgraded."""

    model_config = SECTION

    base_url: DlrnUrl | None = Field(
        None, description="The DLRN server the drops come from, e.g. https://trunk.rdoproject.org/centos9-zed. "
        "Set: a nightly given a drop applies it (this section) in place of the upgrade plan. Empty: a drop is "
        "only the run's label.")
    vote: DropVote | None = Field(None, description="Vote the nightly's result back to DLRN for the drop it "
                                                    "tested; empty: no vote.")

    apply: Literal["update", "upgrade"] = Field(
        "update", description="What follows the undercloud's packages and the images: 'update', a minor update "
        "within the release (overcloud update prepare, run per role, converge where the release has it), or "
        "'upgrade', the major upgrade of the upgrade section.")
    repos_dir: str = Field("/etc/yum.repos.d", min_length=1,
                           description="The undercloud's directory of yum repository files.")
    repo_file: str = Field(
        "delorean.repo", pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]*\.repo$",
        description="The name the drop's delorean.repo takes there; a file of that name is kept beside it as "
        "<name>.rdoflow-previous (and put back when the update fails).")
    update_commands: list[Argv] = Field(
        default_factory=lambda: [["sudo", "dnf", "-y", "update"]], min_length=1,
        description="The commands that update the undercloud's packages, in order, each an argument list.")
    packages: list[str] = Field(
        default_factory=list, description="Glob patterns (fnmatch) of the packages the report lists; empty: every "
        "package that changed.")
    timeout: int = Field(3600, gt=0, description="Seconds each update command may take.")
    containers: ContainerImagesSite = Field(default_factory=ContainerImagesSite,
                                            description="The overcloud's container images for the drop.")


class SiteConfig(BaseModel):
    """One environment the pipelines run against: an undercloud, its nodes, the overcloud, tests and policy."""

    model_config = SECTION

    name: str = Field(
        ..., json_schema_extra={"pattern": SLUG.pattern},
        description="Short name of the site (lowercase letters, digits and '-'); names runs and reports.",
    )
    undercloud: UndercloudSite = Field(..., description="The undercloud host.")
    cloud: CloudSite = Field(default_factory=CloudSite, description="How to reach the undercloud's OpenStack APIs.")
    inventory: InventorySite = Field(default_factory=InventorySite, description="The bare-metal nodes.")
    overcloud: OvercloudSite = Field(default_factory=OvercloudSite, description="The overcloud deployment.")
    regression: RegressionSite = Field(default_factory=RegressionSite, description="The regression suite.")
    upgrade: UpgradePlan = Field(default_factory=UpgradePlan, description="The upgrade between the two test runs.")
    policy: ComparisonPolicy = Field(default_factory=ComparisonPolicy, description="How the two runs are compared.")
    results: ResultsSite = Field(default_factory=ResultsSite, description="Where test results are stored.")
    drop: DropSite = Field(default_factory=DropSite, description="How a pre-release drop is applied "
                           "(docs/prerelease.md).")
    drop_review: DropReviewSite | None = Field(None, description="Review what each pre-release drop changed; "
                                                                 "empty: drops are not reviewed.")

    @field_validator("name")
    @classmethod
    def _slug(cls, name: str) -> str:
        if not SLUG.match(name):
            raise ValueError(f"expected a short lowercase name of letters, digits and '-' (like 'lab' or "
                             f"'prod-east'), got {name!r}")
        return name


# Local files a site refers to: a typo there must fail now, not an hour into a nightly run.
REFERENCED_FILES = (
    ("undercloud", "ssh", "private_key_file"),
    ("undercloud", "ssh", "known_hosts"),
    ("cloud", "clouds_yaml"),
    ("inventory", "file"),
)


def load_site(path: str | Path) -> SiteConfig:
    """Read and check a site config file.

    Relative paths in the file are taken from the file's directory and made
    absolute, ``~`` is the home of the user running rdoflow. Raises ConfigError
    listing every problem found, each with the file as given, the field and the line.
    """
    document = read_yaml(path)
    source = document.source
    if document.data is None:
        raise ConfigError(source, [f"{source}: the file is empty; expected a mapping with at least 'name' and "
                                   "'undercloud'"])
    if not isinstance(document.data, dict):
        raise ConfigError(source, [f"{source}: expected a mapping at the top level, got {shown(document.data)}"])
    site_dir = Path(os.path.abspath(path)).parent
    problems = document.problems + _missing_files(document, site_dir)
    try:
        site = SiteConfig.model_validate(document.data, context={SITE_DIR: site_dir})
    except ValidationError as exc:
        raise_problems(source, problems + validation_problems(exc, document, SiteConfig))
    if problems:
        raise_problems(source, problems)
    return site


def _missing_files(document: YamlDocument, site_dir: Path) -> list[Problem]:
    """Referenced local files that are not there; read from the raw data so that other faults do not hide them."""
    problems = []
    tofu = document.value_at(("undercloud", "ssh", "host_key_policy")) == "trust-on-first-use"
    for loc in REFERENCED_FILES:
        value = document.value_at(loc)
        if not isinstance(value, str) or (tofu and loc[-1] == "known_hosts"):
            continue  # a wrong type is the model's to report; first contact creates known_hosts
        file = site_path(value, site_dir)
        if not _exists(file):
            problems.append(document.problem(loc, f"no such file: {file}"))
        elif file.is_dir():
            problems.append(document.problem(loc, f"is a directory, expected a file: {file}"))
    return problems


def _exists(file: Path) -> bool:
    try:
        return file.exists()
    except (OSError, ValueError):  # a NUL byte or an over-long name
        return False


