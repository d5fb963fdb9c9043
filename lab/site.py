"""The lab as a site: the site config that reaches its undercloud host, Ironic and Heat."""

from __future__ import annotations

from pathlib import Path

import yaml

from rdoflow.config.site import DropVote, SiteConfig

from . import config as labconfig
from .dlrn_service import SOURCES
from .hostfiles import SUITE_DIR, TEMPLATES
from .inventory import INSTACKENV
from .sshd import LoopbackSSHD
from .tempest_workspace import EXCLUDE, FULL_EXCLUDE, FULL_INCLUDE, INCLUDE
from .tripleo.packages import ROOT
from .tripleo.real_deploy import ROLES_FILE

SITE_FILE = "site.yaml"
CLOUDS_FILE = "clouds.yaml"
NODE_INFO = "home/node-info.yaml"
REAL_TEMPLATES = "/usr/share/openstack-tripleo-heat-templates"
LAB_DLRN_BLOCK = "lab-dlrn"  # the DlrnApiCredentials block with_vote saves


def lab_site_config(server: LoopbackSSHD, lab_dir: Path | None = None, results: Path | str | None = None,
                    ports: dict[str, int] | None = None) -> dict:
    """A site config for the lab: its sshd, host keys verified, minimums a CI machine meets; with
    ``lab_dir``, also the lab's cloud, nodes, overcloud templates and regression suite; with the ports of a
    lab that runs DLRN (``dlrn: true``), its drops applied, reviewed (``drop_review``) and not voted (see
    ``with_vote``)."""
    site = {
        "name": "lab",
        "undercloud": {
            "ssh": server.endpoint().model_dump(mode="json"),
            # The lab shares this machine: ask for what a 2-core CI runner has, and
            # do not require an FQDN that a throwaway machine is rarely given.
            "minimums": {"cpus": 1, "ram_gb": 1, "disk_gb": 1, "disk_path": "/"},
            "require_fqdn": False,
            "install_timeout": 600,
        },
    }
    if lab_dir is None:
        return site
    knobs = labconfig.load(lab_dir)
    computes = knobs.nodes - knobs.controllers
    site["undercloud"]["release"] = knobs.release
    site |= {
        "cloud": {"cloud": "undercloud", "clouds_yaml": str(lab_dir / CLOUDS_FILE)},
        "inventory": {"file": str(lab_dir / INSTACKENV), "node_timeout": 120,
                      "min_available": {"control": knobs.controllers, "compute": min(1, computes)}},
        # wallaby and zed: the real client's templates (tripleo-heat-templates 18.0.0 behind the undercloud's
        # path, lab/tripleo/real_deploy.py); train: the lab's own.
        "overcloud": {"stack": "overcloud",
                      "templates": REAL_TEMPLATES if knobs.release in ("wallaby", "zed") else str(lab_dir / TEMPLATES),
                      "environment_files": [str(lab_dir / NODE_INFO)],
                      "roles": {"Controller": knobs.controllers, "Compute": computes}, "timeout": 30},
        "regression": {"kind": "tempest", "workdir": str(lab_dir / SUITE_DIR), "concurrency": 2, "timeout": 1800,
                       # the real Tempest: the selection that passes against the lab (lab/tempest_workspace.py)
                       **(_selection(knobs) if knobs.suite.tempest == "real" else {})},
        # rdoflow's own workload across the upgrade: a Heat stack and an allocation on the lab's Ironic.
        "upgrade": {"roles_order": ["Controller", "Compute"],
                    "workload": {"kind": "cloud", "name": "lab-cloud", "interval": 1, "max_downtime": 5}},
    }
    if results is not None:
        site["results"] = {"location": str(results)}
    site["drop"] = _drop(lab_dir, knobs)
    if knobs.dlrn and ports and "dlrn-repos" in ports:
        served = f"http://127.0.0.1:{ports['dlrn-repos']}"
        site["drop"]["base_url"] = f"{served}/repos"
        site["drop_review"] = _drop_review(lab_dir, served)
    return site


def _drop_review(lab_dir: Path, served: str) -> dict:
    """Reviewing the lab's drops: its DLRN, its rdoinfo (lab/dlrn_service.py), its distgits fetched over http
    and its Source0 tarballs from its mirror (lab/drops.py), all on loopback."""
    return {"base_url": f"{served}/repos", "link": "current-passed-ci", "rdoinfo": str(lab_dir / "dlrn" / "rdoinfo"),
            "info_files": "rdo.yml", "distgit_protocols": ["https", "http", "git"],
            "source_mirror": f"{served}/{SOURCES}", "fetch_timeout": 120}


def with_vote(site: SiteConfig, lab_dir: Path, ports: dict[str, int], block: str = LAB_DLRN_BLOCK,
              job_id: str = "rdoflow-nightly") -> SiteConfig:
    """``site`` voting on the lab's DLRN: the lab's CI account saved as the DlrnApiCredentials block ``block``
    on the Prefect API in use (the password goes to the block, never to site.yaml), and ``drop.vote`` naming it.
    Needs a Prefect API: the lab's site.yaml has no vote, since ``lab up`` may run where none answers."""
    from rdoflow.blocks import DlrnApiCredentials

    from .dlrn_service import endpoint

    dlrn = endpoint(lab_dir / "dlrn", ports["dlrn"], ports["dlrn-repos"])
    DlrnApiCredentials(url=dlrn.api_url, username=dlrn.username, password=dlrn.password).save(block, overwrite=True)
    voting = site.model_copy(deep=True)
    voting.drop.vote = DropVote(block=block, job_id=job_id)
    return voting


def _drop(lab_dir: Path, knobs: labconfig.LabConfig) -> dict:
    """How a drop is applied to the lab: its repo file goes to the host's package root (lab/tripleo/packages.py),
    and its images are named, not pushed (no registry here: the real 'container image prepare' asks none then)."""
    containers = {"set": {"namespace": f"quay.io/tripleo{knobs.release}centos9", "name_prefix": "openstack-",
                          "name_suffix": ""}, "push_destination": False, "timeout": 900}
    if knobs.release in ("wallaby", "zed"):  # the real client's default roles file is not on this machine
        containers["roles_file"] = str(ROLES_FILE)
    return {"repos_dir": str(lab_dir / ROOT / "etc/yum.repos.d"), "timeout": 600, "containers": containers}


def _selection(knobs: labconfig.LabConfig) -> dict:
    include, exclude = (FULL_INCLUDE, FULL_EXCLUDE) if knobs.suite.selection == "full" else (INCLUDE, EXCLUDE)
    return {"include": list(include), "exclude": list(exclude)}


def write_site_files(server: LoopbackSSHD, lab_dir: Path, ports: dict[str, int], results: Path | str | None) -> Path:
    """site.yaml, clouds.yaml (for the machine that runs the flows) and the overcloud's node counts."""
    knobs = labconfig.load(lab_dir)
    cloud = {"auth_type": "none", "baremetal_endpoint_override": f"http://127.0.0.1:{ports['ironic']}",
             "orchestration_endpoint_override": f"http://127.0.0.1:{ports['heat']}/v1/admin",
             "region_name": "regionOne"}
    if "inspector" in ports:  # release wallaby or zed: introspection data is read from ironic-inspector
        cloud["baremetal_introspection_endpoint_override"] = f"http://127.0.0.1:{ports['inspector']}"
    (lab_dir / CLOUDS_FILE).write_text(yaml.safe_dump({"clouds": {"undercloud": cloud}}, sort_keys=False))
    counts = {"ControllerCount": knobs.controllers, "ComputeCount": knobs.nodes - knobs.controllers}
    (lab_dir / NODE_INFO).write_text(yaml.safe_dump({"parameter_defaults": counts}, sort_keys=False))
    site_file = lab_dir / SITE_FILE
    site_file.write_text(yaml.safe_dump(lab_site_config(server, lab_dir, results, ports), sort_keys=False))
    return site_file
