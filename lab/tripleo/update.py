"""``openstack overcloud update prepare | run --limit ROLE | converge`` on the lab host: STAND-INS.

The real commands (python-tripleoclient's v1/overcloud_update.py, 16.5.0 and 20.0.0; Train's 12.x also
has ``converge``) cannot run here: ``update prepare`` is a stack-only deploy with
``environments/lifecycle/update-prepare.yaml`` prepended, ``update run`` runs config-download's
``update_steps_playbook.yaml`` on the nodes over SSH (they have none). What the stand-ins do instead:

- ``prepare``: Train's lab updates its persistent Heat stack with the environment files given (the
  images environment among them), as the real one does; on Wallaby and Zed it records the step and moves
  the working directory's deployment status (``~/overcloud-deploy/<stack>/<stack>-deployment_status.yaml``)
  to DEPLOYING, then DEPLOY_SUCCESS, as the stack-only deploy does. Either way the container images the
  environment files name are recorded, and it ends with the client's "Update init on stack <stack> complete.".
- ``run --limit ROLE``: the play ``Run update`` of each role the limit names, node after node (serial 1,
  any_errors_fatal), with the tasks of tripleo-ansible's tripleo_packages update (update_bootstrap.yml,
  update_ovs.yml, update.yml), printed as tripleo_dense prints them (Wallaby, Zed) or ansible's default
  callback (Train), logged to ``~/ansible.log``; on Wallaby and Zed the working directory gets the run's
  ``stdout``, ``status`` and ``rc`` as tripleoclient's ``run_ansible_playbook`` leaves them. A node named by
  ``faults.stack_fail`` with ``stage: update`` fails its "Update all packages" task with the fault's reason;
  then "Ansible execution failed. playbook: update_steps_playbook.yaml, ..." and exit 1.
- ``converge`` (Train only; Wallaby's and Zed's clients have none): the stack updated again.
"""

from __future__ import annotations

import json
import os
import time
import uuid
from datetime import datetime
from pathlib import Path

import yaml

from .. import config as labconfig
from .console import CommandFailed, say
from .hoststate import host_state, lab_dir
from .overcloud import ROLES, _hostnames
from .provision import hostname
from .stack import create_or_update, load_environment

PLAYBOOK = "update_steps_playbook.yaml"
PLAY = "Run update"
# tripleo-ansible's tripleo_packages tasks of a minor update, in the update steps' order (THT's
# tripleo-packages update_tasks: update_bootstrap.yml at step 0, update_ovs.yml at 2, update.yml at 3).
TASKS = ("Ensure DNF modules have the right stream enabled", "Special treatment for OpenvSwitch",
         "Update all packages", "Ensure openvswitch is running after update")
FAIL_TASK = "Update all packages"


def update(step: str, templates: Path | None, env_files: list[str], stack: str, limit: str | None,
           timeout_minutes: int) -> None:
    with host_state() as state:
        deployed = state.get("overcloud", {}).get(stack)
    if not deployed:
        raise CommandFailed(f"The stack {stack} is not deployed; deploy it before updating it")
    release = labconfig.load(lab_dir()).release
    if step == "run":
        _run(stack, limit, deployed, release)
        return
    images = _images(env_files)
    if release == "train":
        templates = templates or Path(deployed["templates"])
        template, files, environment = load_environment(templates, [*deployed["environment_files"], *env_files], {})
        environment["parameter_defaults"].update(
            {f"{role}Hostnames": [hostname(stack, role, i) for i in range(deployed["counts"][role])] for role in ROLES}
            | {f"{role}Count": deployed["counts"][role] for role in ROLES}
            | {"UpdateStage": step, "DeployIdentifier": str(int(time.time()))})
        create_or_update(stack, template, files, environment, timeout_minutes)
    else:
        _deployment_status(stack, "DEPLOYING")
        say("Deploying overcloud.", logger="tripleoclient.v1.overcloud_update.MinorUpdatePrepare")
        _deployment_status(stack, "DEPLOY_SUCCESS")
    with host_state() as state:
        record = state["overcloud"][stack].setdefault("update", {})
        record["step"] = step
        if step == "prepare":
            record.update(images=images, roles=[], hosts={})
    action = "Update init on stack {0} complete." if step == "prepare" else "Update converge on stack {0} complete."
    say(action.format(stack), logger="tripleoclient.v1.overcloud_update")


def _images(env_files: list[str]) -> dict[str, str]:
    """The container images the environment files set (``Container...Image`` and the like), as the
    deploy would pass them to the nodes."""
    images: dict[str, str] = {}
    for path in env_files:
        data = yaml.safe_load(Path(path).read_text()) or {}
        defaults = data.get("parameter_defaults") if isinstance(data, dict) else None
        for name, value in (defaults or {}).items():
            if isinstance(value, str) and name.endswith("Image"):
                images[name] = value
    return images


def _deployment_status(stack: str, status: str) -> None:
    """tripleoclient's ``set_deployment_status``: the working directory's status file."""
    working_dir = Path.home() / "overcloud-deploy" / stack
    working_dir.mkdir(parents=True, exist_ok=True)
    (working_dir / f"{stack}-deployment_status.yaml").write_text(yaml.safe_dump({"deployment_status": status}))


def _run(stack: str, limit: str | None, deployed: dict, release: str) -> None:
    if not limit:
        raise CommandFailed("the following arguments are required: --limit", status=2)
    if deployed.get("update", {}).get("step") not in ("prepare", "run"):
        raise CommandFailed(f"Run 'openstack overcloud update prepare' for {stack} first")
    knobs = labconfig.load(lab_dir())
    wanted = {part.strip().lower() for part in limit.split(",") if part.strip()}
    hosts = [(role, index, name) for role in ROLES
             for index, name in enumerate(_hostnames(stack, role, deployed["counts"][role]))
             if role.lower() in wanted or name.lower() in wanted]
    if not hosts:
        raise CommandFailed(f"--limit {limit}: no host or role of stack {stack} matches")
    failing = {(f.role, f.index): f.reason for f in knobs.faults.stack_fail if f.stage == "update"}
    workdir = Path.home() / "overcloud-deploy" / stack / "config-download" / stack
    out = _Output(release != "train", Path(os.environ.get("ANSIBLE_LOG_PATH") or Path.home() / "ansible.log"))
    say(f"Running Ansible playbook: {workdir / PLAYBOOK}, Working directory: {workdir}", logger="tripleoclient.utils")
    recap = {name: {"ok": 0, "changed": 0, "unreachable": 0, "failed": 0} for _, _, name in hosts}
    failed = None
    for role in dict.fromkeys(role for role, _, _ in hosts):
        out.banner(f"PLAY [{PLAY}]")
        for task in TASKS:
            out.task(task)
            for host_role, index, name in hosts:
                if host_role != role:
                    continue
                time.sleep(knobs.timing.node_configure / len(TASKS))
                if task == FAIL_TASK and (role, index) in failing:
                    failed = name
                    recap[name]["failed"] += 1
                    out.fatal(task, name, {"changed": False, "msg": failing[(role, index)]})
                    continue
                recap[name]["changed" if task == FAIL_TASK else "ok"] += 1
                out.result(task, name, changed=task == FAIL_TASK)
            if failed:
                out.banner("NO MORE HOSTS LEFT")
                break
        if failed:
            break
    out.banner("PLAY RECAP")
    for name, counts in recap.items():
        out.line(f"{name:<26} : " + " ".join(f"{key}={value:<4}" for key, value in counts.items()))
    if release != "train":
        workdir.mkdir(parents=True, exist_ok=True)
        (workdir / "stdout").write_text("\n".join(out.lines) + "\n")
        (workdir / "status").write_text("failed" if failed else "successful")
        if failed:
            (workdir / "rc").write_text("2")
    if failed:
        raise CommandFailed(f"Ansible execution failed. playbook: {PLAYBOOK}, Run Status: failed, Return Code: 2, "
                            "To rerun the failed command manually execute the following script: "
                            f"{workdir / 'ansible-playbook-command.sh'}")
    tag = _tag(deployed.get("update", {}).get("images", {}))
    with host_state() as state:
        record = state["overcloud"][stack]["update"]
        record["step"] = "run"
        record["roles"] = list(dict.fromkeys([*record.get("roles", []), *(role for role, _, _ in hosts)]))
        record.setdefault("hosts", {}).update({name: tag for _, _, name in hosts})
    say(f"Ansible execution success. playbook: {PLAYBOOK}", logger="tripleoclient.utils")
    say("Completed Minor Update Run.", logger="tripleoclient.v1.overcloud_update.MinorUpdateRun")


def _tag(images: dict[str, str]) -> str | None:
    """The tag most of the images carry (the drop's hash, after 'container image prepare')."""
    tags = [image.rpartition(":")[2] for image in images.values() if ":" in image]
    return max(set(tags), key=tags.count) if tags else None


class _Output:
    """The run's lines, as tripleo_dense (Wallaby, Zed) or ansible's default callback (Train) prints them,
    also written to ansible's log as its log_path handler writes them."""

    def __init__(self, dense: bool, log_path: Path):
        self.dense, self.log_path, self.lines = dense, log_path, []
        self.task_id = ""

    def line(self, text: str) -> None:
        print(text, flush=True)
        self.lines.append(text)
        stamp = datetime.now().strftime("%Y-%m-%d %H:%M:%S,%f")[:-3]
        with self.log_path.open("a") as log:
            log.write(f"{stamp} p={os.getpid()} u={os.environ.get('USER', 'stack')} n=ansible | {text}\n")

    def banner(self, text: str) -> None:
        self.line(f"{text} {'*' * max(3, 79 - len(text))}")

    def _dense(self, *parts: str) -> None:
        self.line(" | ".join([datetime.now().strftime("%Y-%m-%d %H:%M:%S.%f"), self.task_id, *parts]))

    def task(self, name: str) -> None:
        self.task_id = str(uuid.uuid4())
        self._dense(f"{'TASK':>10}", name) if self.dense else self.banner(f"TASK [{name}]")

    def result(self, task: str, host: str, *, changed: bool) -> None:
        state = "CHANGED" if changed else "OK"
        self._dense(f"{state:>10}", task, host) if self.dense else self.line(f"{state.lower()}: [{host}]")

    def fatal(self, task: str, host: str, error: dict) -> None:
        if self.dense:
            self._dense(f"{'FATAL':>10}", task, host, f"error={json.dumps(error)}")
        else:
            self.line(f"fatal: [{host}]: FAILED! => {json.dumps(error)}")
