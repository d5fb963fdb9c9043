"""The lab's knobs: ``lab.yaml`` in the lab directory, read by every lab command when it runs.

Tests and users rehearsing a failure edit it while the lab runs (``rdoflow lab
fault`` or by hand); nothing needs a restart. This module needs only pydantic
and PyYAML, because the commands on the lab host read it with the host's
(the lab venv's) Python.
"""

from __future__ import annotations

import re
from pathlib import Path, PurePosixPath
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, field_validator

from . import yamlfile

CONFIG_FILE = "lab.yaml"
HOME_PATH = re.compile(r"^(/[A-Za-z0-9._-]+)+$")
FQDN = re.compile(r"^(?=.{1,253}$)([A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?$")


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)  # a delay of .inf would hang the lab


class Timing(Strict):
    """Seconds each step takes on the lab: a realistic fraction of the real thing."""

    undercloud_install: float = Field(2.0, ge=0, description="'openstack undercloud install' and 'upgrade'.")
    ramdisk_boot: float = Field(1.0, ge=0, description="From 'inspect wait' until the ramdisk posts its inventory.")
    node_configure: float = Field(0.2, ge=0, description="Configuring one overcloud node (deploy, upgrade run).")
    bmc_power: int = Field(1, ge=0, le=60, description="Whole seconds a Redfish BMC takes to apply a power action "
                                                      "(bmc: redfish; set at lab up). sushy-tools' own: 1 to 11.")
    inspect_wait_timeout: int | None = Field(
        None, ge=1, description="Ironic's inspect_wait_timeout (set at lab up); unset: 15, or 60 with bmc: redfish, "
                                "where the clock also runs while Ironic powers the node on through its BMC.")
    deploy_callback_timeout: int = Field(5, ge=1, description="Ironic's deploy_callback_timeout (set at lab up).")


class StackFault(Strict):
    """A resource of the overcloud stack that fails, with the reason Heat records for it."""

    role: str = Field(..., description="Role whose node fails, e.g. Compute.")
    index: int = Field(0, ge=0, description="Which node of the role (0 = the first).")
    reason: str = Field(..., min_length=1, description="What the node's configuration reports.")
    stage: str = Field("deploy", description="When: 'deploy', 'upgrade' (overcloud upgrade run) or 'update' "
                                            "(overcloud update run: its 'Update all packages' task fails).")


class SSHDrop(Strict):
    """The SSH session of a lab command is cut after some seconds, as a network blip would."""

    command: str = Field(..., description="Words that start the command, e.g. 'overcloud deploy'.")
    after: float = Field(1.0, ge=0, description="Seconds into the command.")
    times: int = Field(1, ge=1, description="How many runs of the command are cut (later runs go through).")
    survives: bool = Field(False, description="The command goes on to its end after its session is cut (its "
                                              "output lost), as tripleoclient's do; otherwise it dies with it.")


class WorkloadOutage(Strict):
    """rdoflow's workload goes down during one role's 'overcloud upgrade run', as a node rebooted by it would."""

    role: str = Field("Compute", description="The role whose 'upgrade run' takes the workload down.")
    seconds: float = Field(8.0, ge=0, le=600, description="How long: the node holding the workload's allocation "
                                                          "stays in maintenance this long.")


class Faults(Strict):
    inspect_fail: dict[str, str] = Field(
        default_factory=dict, description="Node name -> the error its inspection ramdisk reports to Ironic.")
    deploy_fail: list[str] = Field(
        default_factory=list, description="Node names whose deployment never calls back (Ironic times it out).")
    bmc_down: list[str] = Field(
        default_factory=list, description="Node names whose Redfish BMC does not answer (bmc: redfish; read at "
                                          "lab up): Ironic cannot reach it and fails the node's manage.")
    stack_fail: list[StackFault] = Field(default_factory=list, description="Overcloud stack resources that fail.")
    ssh_drop: SSHDrop | None = Field(None, description="An SSH session that is cut during a command.")
    fail_after_upgrade: list[str] = Field(
        default_factory=list, description="Regression test ids (regular expressions) that fail once upgraded.")
    workload_outage: WorkloadOutage | None = Field(
        None, description="rdoflow's workload (the node of its allocation 'rdoflow-workload-*') is down during an "
                          "upgrade run.")
    ironic_conf_after_upgrade: dict[str, dict[str, str]] = Field(
        default_factory=dict, description="Ironic options (section -> option -> value) that the overcloud upgrade "
                                          "leaves: once it is over, the lab's Ironic restarts with them, and the "
                                          "real Tempest meets what they break. {api: {public_endpoint: "
                                          "'http://undercloud.ctlplane.localdomain:6385'}} fails test_ports."
                                          "TestPorts.test_list_ports and test_list_ports_details.")
    install_echoes_passwords: bool = Field(
        False, description="The undercloud install prints the passwords it generated, as an ansible task run "
                           "verbosely does: what rdoflow must mask in its logs and reports.")


class Suite(Strict):
    """The lab's Tempest (the real one, or generated Tempest-like tests), and the script suite."""

    tempest: Literal["real", "generated"] = Field(
        "real", description="~/tempest on the lab host (read at lab up). 'real': Tempest 47 with the Ironic and "
                            "Heat plugins, a workspace configured for the lab's cloud, and Keystone for it to "
                            "authenticate against. 'generated': the lab's real checks plus the generated "
                            "Tempest-like tests the knobs below describe (quick, outcomes chosen).")
    selection: Literal["lab", "full"] = Field(
        "lab", description="With tempest 'real', what the lab site runs (read at lab up): 'lab', the selection "
                           "of 102 tests (a few minutes a run); 'full', the Ironic plugin's admin API tests and "
                           "the Heat plugin's API and functional tests, less what fails for the lab's reasons.")
    generated: int = Field(100, ge=0, description="How many generated tests.")
    failing: int = Field(0, ge=0, description="How many of them always fail.")
    skipped: int = Field(3, ge=0, description="How many of them are skipped.")
    seconds: float = Field(0.0, ge=0, description="How long each generated test (and each script) takes.")
    scripts: int = Field(20, ge=0, description="Scripts of the 'scripts' suite in ~/scripts (written at lab up).")
    failing_scripts: int = Field(0, ge=0, description="How many scripts exit 1.")
    skipped_scripts: int = Field(2, ge=0, description="How many scripts exit 77 (skip).")
    hanging_scripts: int = Field(0, ge=0, description="How many scripts never finish (to meet a per-script timeout).")


class LabConfig(Strict):
    release: Literal["train", "wallaby", "zed"] = Field(
        "zed", description="The director the lab host imitates. 'train': the lab's own commands throughout "
                             "(a persistent Heat). 'wallaby' and 'zed': the real python-tripleoclient where it "
                             "runs here (docs/lab.md says which commands), ironic-inspector beside Ironic.")
    bmc: Literal["fake", "redfish"] = Field(
        "fake", description="The nodes' BMCs: Ironic's fake-hardware, or Redfish systems served by sushy-tools.")
    nodes: int = Field(4, ge=1, description="Bare-metal nodes in instackenv.json.")
    controllers: int = Field(1, ge=1, description="Nodes given the 'control' profile; the others are 'compute'.")
    timing: Timing = Field(default_factory=Timing)
    faults: Faults = Field(default_factory=Faults)
    suite: Suite = Field(default_factory=Suite)
    dlrn: bool = Field(False, description="DLRN's own API and the lab's pre-release drops (read at lab up): "
                                          "publish_drop (lab/drops.py) builds and promotes them, votes land "
                                          "there. DLRN starts in about 3 s, beside Ironic and Heat; its venv "
                                          "(99 MB) is made once.")
    undercloud_home: str | None = Field(
        None, description="Where the undercloud account's home is seen on the lab host, e.g. /home/stack (read at "
                          "lab up). Every SSH session (commands, shells, SFTP) then runs in a bubblewrap sandbox "
                          "where DIR/home is mounted there, HOME names it and sessions start in it, as on a real "
                          "undercloud; the machine's own directory is not touched. Unset: HOME is DIR/home.")
    hostname: str | None = Field(
        None, description="The lab host's fully qualified name, e.g. undercloud.example.com (read at lab up): "
                          "SSH sessions run in a sandbox with that host name, resolved by an /etc/hosts of the "
                          "lab's ('hostname -f' answers it, as the preflight asks). Unset: the machine's own.")

    @field_validator("undercloud_home")
    @classmethod
    def _home_path(cls, value: str | None) -> str | None:
        # It is mounted over in each session, and written into sshd_config (SetEnv, Subsystem): a plain path.
        if value is None:
            return value
        path = PurePosixPath(value)
        if not HOME_PATH.match(value) or str(path) != value or path.parent == PurePosixPath("/") or ".." in path.parts:
            raise ValueError(f"expected an absolute path below a top directory, of letters, digits, '.', '_' "
                             f"and '-', e.g. /home/stack; got {value!r}")
        return value

    @field_validator("hostname")
    @classmethod
    def _fqdn(cls, value: str | None) -> str | None:
        if value is not None and not FQDN.match(value):
            raise ValueError(f"expected a fully qualified host name (host.domain), e.g. undercloud.example.com; "
                             f"got {value!r}")
        return value


def inspect_wait_timeout(config: LabConfig) -> int:
    """The inspect_wait_timeout Ironic gets: the knob, or the default for the nodes' BMCs."""
    return config.timing.inspect_wait_timeout or (60 if config.bmc == "redfish" else 15)


def load(lab_dir: Path) -> LabConfig:
    path = Path(lab_dir) / CONFIG_FILE
    return LabConfig.model_validate(yamlfile.read(path) or {}) if path.exists() else LabConfig()


def save(lab_dir: Path, config: LabConfig) -> Path:
    path = Path(lab_dir) / CONFIG_FILE
    text = yaml.safe_dump(config.model_dump(mode="json"), sort_keys=False)
    tmp = path.with_suffix(".tmp")
    tmp.write_text("# The lab's knobs; lab commands read them each time they run.\n" + text)
    tmp.replace(path)
    return path
