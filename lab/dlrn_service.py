"""DLRN's own API for the lab (lab.yaml ``dlrn: true``): where the lab's pre-release drops are published and
where rdoflow's votes land, so that they can be read back.

DLRN 0.26.1's Flask app (``dlrn.api:app``) runs standalone on SQLite, as RDO's trunk server runs it:
``api.cfg`` names the database, the repositories' directory and ``projects.ini``; ``projects.ini`` names
DLRN's data directory, the repositories' base URL and the lab's rdoinfo (a git repository written here,
read by DLRN with distroinfo). A second process serves DLRN's data directory over HTTP (``/repos/...``), as
the web server in front of a DLRN builder does: what ``delorean.repo`` names and what ``read_drop`` reads.

A CI account is made with DLRN's own ``dlrn-user`` (the password on its standard input, never on a command
line), its password kept in ``DIR/dlrn/ci-password`` (mode 0600; never printed). Pinned as
docs/prerelease.md says: SQLAlchemy < 2, or DLRN's HTML pages fail.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from .keystone_service import lab_password
from .process import ServiceFailed, spawn, wait_http
from .venv import VenvSpec

DLRN = VenvSpec("dlrn", "DLRN 0.26.1 (its API), dlrnapi-client 0.13.1",
                ("dlrn==0.26.1", "SQLAlchemy==1.4.54", "Flask-SQLAlchemy==3.0.5", "dlrnapi-client==0.13.1"))
CI_USER = "rdoflow-ci"
PASSWORD_FILE = "ci-password"
RELEASE = "zed"
# DLRN's post-build runs createrepo_c on every imported build; the lab's drops are RPMs rpmbuild makes.
DISTGITS = "distgits"  # under DLRN's data directory: a bare git repository per package, <project>-distgit.git
SOURCES = "sources"  # under DLRN's data directory: each build's Source0 tarball (the lab's source mirror)
TOOLS = {"createrepo_c": "createrepo-c (Debian) or createrepo_c (Fedora)", "rpmbuild": "rpm (Debian) or rpm-build"}

API_CFG = """\
# DLRN's API settings (lab/dlrn_service.py): read by dlrn.api through $CONFIG_FILE.
DB_PATH = 'sqlite:///{db}'
REPO_PATH = '{data}/repos'
CONFIG_FILE = '{root}/projects.ini'
DLRN_LOG_FILE = '{root}/dlrn-api.log'
API_AUTH_LOG_FILE = '{root}/dlrn-auth.log'
"""

# DLRN's configparser: no inline comments in this file.
PROJECTS_INI = """\
[DEFAULT]
datadir = {data}
scriptsdir = {root}/scripts
baseurl = {repos_url}
distro = rpm-master
source = master
target = centos9
reponame = delorean
project_name = RDO
pkginfo_driver = dlrn.drivers.rdoinfo.RdoInfoDriver
build_driver = dlrn.drivers.mockdriver.MockBuildDriver
database_connection = sqlite:///{db}
use_components = false
include_srpm_in_repo = true
fallback_to_master = 1
release_numbering = 0.date.hash

[rdoinfo_driver]
repo = file://{root}/rdoinfo
info_files = rdo.yml
cache_dir = {root}/rdoinfo-cache
"""

# rdoinfo's own templates (its rdo.yml, package-configs): a package's name, upstream and distgit. The lab's
# rdoinfo points the distgit at the lab's own (DISTGITS, served beside the repositories: write_rdoinfo).
PACKAGE_CONFIGS = {
    "rpmfactory-core": {"name": "openstack-%(project)s", "upstream": "https://opendev.org/openstack/%(project)s",
                        "master-distgit": "https://github.com/rdo-packages/%(project)s-distgit.git"},
    "rpmfactory-client": {"name": "python-%(project)s",
                          "upstream": "https://opendev.org/openstack/python-%(project)s",
                          "master-distgit": "https://github.com/rdo-packages/%(project)s-distgit.git"},
}


@dataclass(frozen=True)
class LabPackage:
    """A package of the lab's rdoinfo: DLRN builds it as ``name`` (the source package)."""

    project: str  # rdoinfo's project (ironic); its template makes the name (openstack-ironic)
    conf: str  # rdoinfo's package-config: rpmfactory-core or rpmfactory-client
    component: str
    version: str  # what the lab's first drop builds
    binaries: tuple[str, ...]  # the binary RPMs a build makes

    @property
    def name(self) -> str:
        return PACKAGE_CONFIGS[self.conf]["name"] % {"project": self.project}


# The lab's packages, named and split into binary RPMs as RDO's Zed builds are.
CATALOGUE = {package.name: package for package in (
    LabPackage("ironic", "rpmfactory-core", "baremetal", "21.1.1",
               ("openstack-ironic-api", "openstack-ironic-conductor", "openstack-ironic-common",
                "python3-ironic-tests")),
    LabPackage("ironic-inspector", "rpmfactory-core", "baremetal", "11.1.0",
               ("openstack-ironic-inspector", "openstack-ironic-inspector-dnsmasq", "python3-ironic-inspector-tests")),
    LabPackage("ironicclient", "rpmfactory-client", "clients", "5.0.1", ("python3-ironicclient",)),
    LabPackage("heat", "rpmfactory-core", "tripleo", "19.0.0",
               ("openstack-heat-api", "openstack-heat-engine", "openstack-heat-common", "openstack-heat-monolith")),
    LabPackage("tripleoclient", "rpmfactory-client", "tripleo", "20.0.0", ("python3-tripleoclient",)),
    LabPackage("tripleo-heat-templates", "rpmfactory-core", "tripleo", "18.0.0",
               ("openstack-tripleo-heat-templates",)),
    LabPackage("tripleo-common", "rpmfactory-core", "tripleo", "18.0.0",
               ("openstack-tripleo-common", "openstack-tripleo-common-containers", "python3-tripleo-common")),
)}


@dataclass(frozen=True)
class DlrnEndpoint:
    """The lab's DLRN: its directory, its API, where its repositories are served, and the CI account."""

    root: Path
    api_url: str
    repos_url: str  # DLRN's baseurl: promotion links and builds sit under it
    username: str
    password: str = field(repr=False)

    @property
    def data(self) -> Path:
        return self.root / "data"

    @property
    def served_url(self) -> str:
        """The web server's root: ``/repos`` (the drops), ``/distgits`` and ``/sources`` under it."""
        return self.repos_url.rsplit("/", 1)[0]

    @property
    def distgits_url(self) -> str:
        return f"{self.served_url}/{DISTGITS}"

    @property
    def sources_url(self) -> str:
        """The lab's source mirror: every Source0 tarball its drops were built from, by file name."""
        return f"{self.served_url}/{SOURCES}"


def endpoint(root: Path, api_port: int, repos_port: int) -> DlrnEndpoint:
    """The DLRN a lab started in ``root``, as a client reaches it."""
    return DlrnEndpoint(root, f"http://127.0.0.1:{api_port}", f"http://127.0.0.1:{repos_port}/repos", CI_USER,
                        (root / PASSWORD_FILE).read_text().strip())


def missing_tools() -> list[str]:
    return [f"{tool} (package {package})" for tool, package in TOOLS.items() if shutil.which(tool) is None]


def start_dlrn(root: Path, venv: Path, api_port: int, repos_port: int, *,
               started: Callable[[str, int], None]) -> DlrnEndpoint:
    """Write DLRN's configuration and the lab's rdoinfo under ``root``, make the CI account, start the API
    (``dlrn``) and the repositories' web server (``dlrn-repos``); return once both answer."""
    if missing := missing_tools():
        raise ServiceFailed(f"dlrn: the lab's drops need {', '.join(missing)}",
                            hint="install it ('./rdo setup' does), or set 'dlrn: false' in lab.yaml")
    root.mkdir(parents=True, exist_ok=True)
    root.chmod(0o700)
    data = root / "data"
    (data / "repos").mkdir(parents=True, exist_ok=True)
    db = root / "commits.sqlite"
    repos_url = f"http://127.0.0.1:{repos_port}/repos"
    (root / "api.cfg").write_text(API_CFG.format(db=db, data=data, root=root))
    (root / "projects.ini").write_text(PROJECTS_INI.format(db=db, data=data, root=root, repos_url=repos_url))
    for served in (DISTGITS, SOURCES):
        (data / served).mkdir(exist_ok=True)
    write_rdoinfo(root / "rdoinfo", distgits=f"http://127.0.0.1:{repos_port}/{DISTGITS}")
    env = dict(os.environ, PYTHONWARNINGS="ignore", CONFIG_FILE=str(root / "api.cfg"))
    _create_user(root, venv, env)
    repos = spawn([venv / "bin/python", "-m", "http.server", "--bind", "127.0.0.1", "--directory", data, repos_port],
                  log_file=root / "repos-http.log", env=env)
    started("dlrn-repos", repos.pid)
    api = spawn([venv / "bin/flask", "--app", "dlrn.api:app", "run", "--host", "127.0.0.1", "--port", api_port,
                 "--no-reload", "--no-debugger"], log_file=root / "dlrn-stdout.log", env=env)
    started("dlrn", api.pid)  # recorded before the wait: a service that never answers is still stopped
    logs = [root / "dlrn-stdout.log", root / "dlrn-api.log"]
    wait_http("dlrn", api, f"http://127.0.0.1:{api_port}/api/health", logs=logs)
    wait_http("dlrn-repos", repos, f"{repos_url}/", logs=[root / "repos-http.log"])
    return endpoint(root, api_port, repos_port)


def write_rdoinfo(path: Path, distgits: str | None = None) -> None:
    """The lab's rdoinfo (rdo.yml in a git repository, as DLRN's rdoinfo driver clones it); with ``distgits``
    (a base URL), each package's distgit is ``<distgits>/<project>-distgit.git`` (the lab's, lab/drops.py)."""
    path.mkdir(parents=True, exist_ok=True)
    configs = {name: dict(conf) for name, conf in PACKAGE_CONFIGS.items()}
    if distgits is not None:
        for conf in configs.values():
            conf["master-distgit"] = f"{distgits}/%(project)s-distgit.git"
    info = {
        "releases": [{"name": RELEASE, "status": "maintained", "branch": "rpm-master", "repos": [
            {"name": "el9s", "buildsys": f"cbs/cloud9s-openstack-{RELEASE}-el9s", "distrepos": []}]}],
        "package-configs": {name: {**conf, "maintainers": ["lab@rdoflow.invalid"]}
                            for name, conf in configs.items()},
        "packages": [{"project": p.project, "conf": p.conf, "component": p.component,
                      "maintainers": [f"{p.project}-maintainer@rdoflow.invalid"]} for p in CATALOGUE.values()],
    }
    (path / "rdo.yml").write_text("# The lab's rdoinfo (lab/dlrn_service.py).\n" + yaml.safe_dump(info, sort_keys=False))
    git = ["git", "-C", str(path), "-c", "user.name=rdoflow lab", "-c", "user.email=lab@rdoflow.invalid"]
    for argv in (["init", "-q"], ["add", "rdo.yml"], ["commit", "-q", "-m", "The lab's packages"]):
        subprocess.run(git + argv, check=True, capture_output=True, timeout=60)


def _create_user(root: Path, venv: Path, env: dict[str, str]) -> None:
    """The CI account, made by DLRN's dlrn-user (which also creates the tables); the password is read from
    its standard input: no terminal (a session of its own), so getpass falls back to it."""
    if (root / PASSWORD_FILE).exists() and (root / "commits.sqlite").exists():
        return  # a lab's remains brought up again: the account is in its database
    password = lab_password(root / PASSWORD_FILE)
    log = root / "dlrn-user.log"
    argv = [str(venv / "bin/dlrn-user"), "--config-file", str(root / "projects.ini"), "create",
            "--username", CI_USER]
    with log.open("ab") as out:
        done = subprocess.run(argv, input=(password + "\n").encode(), stdout=out, stderr=subprocess.STDOUT, env=env,
                              start_new_session=True, timeout=120)
    if done.returncode != 0:
        raise ServiceFailed(f"dlrn: dlrn-user create exited with status {done.returncode}",
                            evidence=log.read_text(errors="replace").splitlines()[-8:])



