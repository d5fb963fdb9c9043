"""``openstack overcloud node provision`` on a wallaby or zed lab host: a STAND-IN.

The real command (python-tripleoclient 20.0.0, ``v2/overcloud_node.py`` ``ProvisionNode``) runs
tripleo-ansible's ``cli-overcloud-node-provision.yaml``, whose metalsmith and network-port modules need
Neutron, which the lab has not. This stand-in takes the same options and the same
baremetal_deployment.yaml, and goes through that playbook's tasks (their names read from the real
playbook in the client's venv), printing them as its tripleo_dense output does:

- the roles are expanded by tripleo-ansible's own ``baremetal_deploy.expand`` (run with the client's
  Python, lab/tripleoclient_deploy.py): the same instances, hostnames, ``HostnameMap``,
  ``<Role>HostnameFormat`` and ``<Role>Count``, and the same errors;
- nodes are chosen as metalsmith reserves them (available, not in maintenance, the resource class,
  the capabilities such as ``profile``, or the node an instance names) and deployed through the lab's
  Ironic (lab/tripleo/provision.py: ``instance_info.display_name`` is the hostname, the node becomes
  ``active``; the lab's ``faults.deploy_fail`` fails a node's deploy in Ironic);
- ports come from the lab's stand-in for Neutron: ctlplane (192.168.24.0/24) and the networks of
  tripleo-heat-templates' network-data-samples/default-network-isolation.yaml, addresses kept per
  hostname in the host's state;
- the ``--output`` environment is what the playbook writes: ``resource_registry`` (the ctlplane port
  template, each role's deployed network ports) and ``parameter_defaults`` (``HostnameMap``,
  ``<Role>HostnameFormat``, ``<Role>Count``, ``DeployedServerPortMap``, ``NodePortMap``), in
  ansible's ``to_nice_yaml``; the input is copied to ``<working dir>/tripleo-<stack>-baremetal-deployment.yaml``.

Not done: the playbook's last task (``tripleo_generate_ansible_inventory``), and role playbooks
(``ansible_playbooks``) and ``--network-config``, which configure the nodes over SSH.
"""

from __future__ import annotations

import argparse
import ipaddress
import json
import os
import shutil
import subprocess
import sys
import time
import uuid
from datetime import datetime
from pathlib import Path

import yaml

from .. import config as labconfig
from .clients import baremetal
from .console import CommandFailed
from .hoststate import host_state
from .provision import _profile, deploy_nodes

DEFAULT_TEMPLATES = "/usr/share/openstack-tripleo-heat-templates"
PLAYBOOK = "share/ansible/tripleo-playbooks/cli-overcloud-node-provision.yaml"
CLIENT_PROGRAM = Path(__file__).resolve().parent.parent / "tripleoclient_deploy.py"
CTLPLANE = {"name": "ctlplane", "name_upper": "ctlplane", "cidr": "192.168.24.0/24", "first": "192.168.24.6"}
NETWORKS_SAMPLE = "network-data-samples/default-network-isolation.yaml"
IMAGE_FILE_TASKS = ("Set partition file based default image", "Set whole-disk file based default image")
KEY_FILES = ("{working_dir}/ssh_private_key", "{home}/.ssh/id_rsa_tripleo", "{home}/.ssh/id_rsa",
             "{home}/config-download/.ssh/tripleo-admin-rsa")


class PlaybookFailed(Exception):
    """A task of the playbook failed: its name and the module's message."""

    def __init__(self, task: str, msg: str):
        super().__init__(msg)
        self.task = task


def parser() -> argparse.ArgumentParser:
    """ProvisionNode's options (tripleoclient 20.0.0)."""
    p = argparse.ArgumentParser(prog="openstack overcloud node provision", description="Provision new nodes using Ironic.")
    p.add_argument("input", metavar="<baremetal_deployment.yaml>")
    p.add_argument("-o", "--output", default="baremetal_environment.yaml")
    p.add_argument("-y", "--yes", default=False, action="store_true")
    p.add_argument("--stack", default=os.environ.get("OVERCLOUD_STACK_NAME", "overcloud"))
    p.add_argument("--overcloud-ssh-user", default="tripleo-admin")
    p.add_argument("--overcloud-ssh-key", default=None)
    p.add_argument("--concurrency", type=int, default=20)
    p.add_argument("--timeout", type=int, default=3600)
    p.add_argument("--network-ports", default=False, action="store_true")
    p.add_argument("--network-config", default=False, action="store_true")
    p.add_argument("--templates", default=DEFAULT_TEMPLATES)
    p.add_argument("--working-dir", action="store")
    return p


def _log(level: str, logger: str, message: str) -> None:
    """A log line of the client on its console (stderr), as tripleoclient's logging writes it."""
    stamp = datetime.now().strftime("%Y-%m-%d %H:%M:%S.%f")[:-3]
    print(f"{stamp} {os.getpid()} {level} {logger} [-] {message}", file=sys.stderr, flush=True)


def main(argv: list[str], lab_dir: Path, client: Path, environ: dict[str, str]) -> int:
    args = parser().parse_args(argv)
    try:
        _provision(args, lab_dir, client, environ)
    except CommandFailed as exc:
        _log("ERROR", "openstack", f"{exc}: {getattr(exc, 'kind', 'osc_lib.exceptions.CommandError')}: {exc}")
        return exc.status
    return 0


def _provision(args, lab_dir: Path, client: Path, environ: dict[str, str]) -> None:
    log = "tripleoclient.v2.overcloud_node.ProvisionNode"
    if args.network_ports:
        _log("WARNING", log, 'DEPRECATED option "--network-ports" detected. This option is no longer used, '
             "network ports are always managed.")
    output_path = Path(os.path.abspath(os.path.expanduser(args.output)))
    if output_path.exists() and not args.yes and not _confirm(f"Overwrite existing file {args.output} [y/N]?", log):
        raise CommandFailed(f"Will not overwrite existing file: {args.output}")
    home = Path(environ.get("HOME") or Path.home())
    working_dir = Path(os.path.abspath(args.working_dir)) if args.working_dir else home / "overcloud-deploy" / args.stack
    working_dir.mkdir(parents=True, exist_ok=True)
    roles_path = Path(os.path.abspath(os.path.expanduser(args.input)))
    try:
        roles = yaml.safe_load(roles_path.read_text())
    except OSError as exc:
        raise CommandFailed(f"[Errno {exc.errno}] {exc.strerror}: '{args.input}'") from exc
    key = args.overcloud_ssh_key or _find_key(working_dir, home)
    if not key:
        raise CommandFailed("No key pair found, set the ssh key usingthe --overcloud-ssh-key switch.")
    public_key = Path(f"{key}.pub").read_text()
    playbook = Path(client) / PLAYBOOK
    run = PlaybookRun(playbook, output_path, network_config=args.network_config)
    _log("INFO", "tripleoclient.utils.utils", f"Running Ansible playbook: {playbook}, Working directory: "
         f"/tmp/tripleo{uuid.uuid4().hex[:8]}, Playbook directory: {playbook.parent}")
    try:
        environment = _play(run, args, roles, public_key, output_path, working_dir, lab_dir, client, environ)
    except PlaybookFailed as exc:
        run.fail(exc.task, str(exc))
        message = (f"Ansible execution failed. playbook: {playbook}, Run Status: failed, Return Code: 2")
        _log("ERROR", "tripleoclient.utils.utils", message)
        failed = CommandFailed(message)
        failed.kind = "RuntimeError"
        raise failed from exc
    run.finish()
    _log("INFO", "tripleoclient.utils.utils", f"Ansible execution success. playbook: {playbook}")
    del environment
    shutil.copy(roles_path, working_dir / f"tripleo-{args.stack}-baremetal-deployment.yaml")
    print(f"Nodes deployed successfully, add {args.output} to your deployment environment", flush=True)


def _confirm(message: str, log: str) -> bool:
    if not sys.stdin.isatty():
        _log("ERROR", log, "User interaction required, cannot confirm.")
        return False
    sys.stdout.write(message)
    sys.stdout.flush()
    return sys.stdin.readline().lower().startswith("y")


def _find_key(working_dir: Path, home: Path) -> str | None:
    for pattern in KEY_FILES:
        path = Path(pattern.format(working_dir=working_dir, home=home))
        if path.is_file() and Path(f"{path}.pub").is_file():
            return str(path)
    return None


def _play(run: PlaybookRun, args, roles, public_key: str, output_path: Path, working_dir: Path, lab_dir: Path,
          client: Path, environ: dict[str, str]) -> dict:
    run.until("Expand roles")
    expanded = _expand(args.stack, roles, public_key, client, environ)
    run.task("Expand roles", changed=True)
    bm = baremetal()
    nodes = list(bm.nodes(details=True))
    active = {(n.instance_info or {}).get("display_name"): n for n in nodes if n.provision_state == "active"}
    instances = expanded["instances"]
    existing = [i for i in instances if i["hostname"] in active]
    pre_provisioned = [i for i in instances if not i.get("managed", True)]
    not_found = [i for i in instances if i["hostname"] not in active and i.get("managed", True)]
    run.task("Find existing instances")
    reserved = _reserve(not_found, nodes)
    run.task("Reserve instances", changed=bool(reserved))
    run.task("Metalsmith log for reserve instances")
    run.task("Set concurrency fact")
    knobs = labconfig.load(lab_dir)
    try:
        deploy_nodes(bm, reserved, args.timeout, knobs.faults.deploy_fail, announce=False)
    except CommandFailed as exc:
        raise PlaybookFailed("Provision instances", str(exc)) from exc
    run.task("Provision instances", changed=bool(reserved))
    run.task("Metalsmith log for provision instances")
    provisioned = [{"name": node.name or node.id, "hostname": name, "id": node.id} for name, node in reserved]
    provisioned += [{"name": active[i["hostname"]].name, "hostname": i["hostname"], "id": active[i["hostname"]].id}
                    for i in existing]
    templates = args.templates
    node_port_map = _ports(instances, expanded["hostname_role_map"], Path(environ.get("RDOFLOW_LAB_THT", templates)),
                           lab_dir)
    run.task("Provision instance network ports", changed=True)
    environment = expanded["environment"]
    # tripleo_baremetal_populate_environment (baremetal_deploy.populate_environment)
    registry = environment.setdefault("resource_registry", {})
    registry.setdefault("OS::TripleO::DeployedServer::ControlPlanePort",
                        os.path.join(templates, "deployed-server/deployed-neutron-port.yaml"))
    port_map = environment.setdefault("parameter_defaults", {}).setdefault("DeployedServerPortMap", {})
    for instance in provisioned:
        ctlplane = node_port_map.get(instance["hostname"].lower(), {}).get("ctlplane")
        if ctlplane:
            port_map[f"{instance['hostname'].lower()}-ctlplane"] = {"fixed_ips": [{"ip_address": ctlplane["ip_address"]}]}
    run.task("Populate environment")
    # tripleo_unmanaged_populate_environment
    for instance in pre_provisioned:
        ip = node_port_map[instance["hostname"]]["ctlplane"]["ip_address"]
        port_map[f"{instance['hostname']}-ctlplane"] = {"fixed_ips": [{"ip_address": ip}]}
    run.task("Populate environment with unmanaged nodes")
    # tripleo_network_ports_populate_environment
    networks = _networks(Path(environ.get("RDOFLOW_LAB_THT", templates)))
    for role, nets in expanded["role_net_map"].items():
        for net in nets:
            if net != "ctlplane":
                registry[f"OS::TripleO::{role}::Ports::{networks[net]['name_upper']}Port"] = os.path.join(
                    templates, f"network/ports/deployed_{net}.yaml")
    environment["parameter_defaults"].setdefault("NodePortMap", {}).update(node_port_map)
    run.task("Populate environment with network port data")
    output_path.write_text(yaml.safe_dump(environment, indent=2, default_flow_style=False, allow_unicode=True))
    run.task(f"Write environment to {output_path}")  # the one for unmanaged network ports: skipped
    run.task(f"Write environment to {output_path}", changed=True)
    with host_state(lab_dir) as state:
        state.setdefault("provisioned", {})[args.stack] = {i["hostname"]: i["id"] for i in provisioned}
        # each hostname's role, for the upgrade stand-ins to name the nodes as the deploy named them
        state.setdefault("provisioned_roles", {})[args.stack] = {
            i["hostname"]: expanded["hostname_role_map"].get(i["hostname"]) for i in provisioned}
    return environment


def _expand(stack: str, roles, public_key: str, client: Path, environ: dict[str, str]) -> dict:
    """tripleo-ansible's expansion of the roles, by its own code in the client's venv."""
    with open(os.devnull) as nothing:
        env = {k: v for k, v in environ.items() if k != "PYTHONPATH"} | {"RDOFLOW_LAB_SSH_PUBLIC_KEYS": public_key}
        tmp = Path(environ.get("HOME") or "/tmp") / f".lab-baremetal-{os.getpid()}.yaml"
        tmp.write_text(yaml.safe_dump(roles))
        try:
            done = subprocess.run([str(client / "bin/python"), "-P", str(CLIENT_PROGRAM), "expand", stack, str(tmp)],
                                  stdin=nothing, capture_output=True, text=True, env=env, check=False)
        finally:
            tmp.unlink(missing_ok=True)
    try:
        answer = json.loads(done.stdout.strip().splitlines()[-1])
    except (IndexError, json.JSONDecodeError):
        raise PlaybookFailed("Expand roles", (done.stderr or done.stdout).strip()[-500:]) from None
    if done.returncode:
        raise PlaybookFailed("Expand roles", answer["msg"])
    return answer


def _reserve(instances: list[dict], nodes) -> list[tuple[str, object]]:
    """metalsmith's choice of a node for each instance, and its errors."""
    free = [n for n in nodes if n.provision_state == "available" and not n.is_maintenance
            and not (n.instance_info or {}).get("display_name")]
    chosen: list[tuple[str, object]] = []
    for instance in instances:
        if instance.get("name"):
            node = next((n for n in nodes if instance["name"] in (n.name, n.id)), None)
            if node is None:
                raise PlaybookFailed("Reserve instances", f"No node with name or ID {instance['name']} found")
            if node not in free:
                raise PlaybookFailed("Reserve instances", f"Node {node.id} is not available for deployment: "
                                                          f"provision state {node.provision_state}")
        else:
            resource_class = instance.get("resource_class", "baremetal")
            candidates = [n for n in free if n.resource_class == resource_class]
            if not candidates:
                raise PlaybookFailed("Reserve instances",
                                     f"No available nodes with resource class {resource_class} found")
            wanted = instance.get("capabilities") or {}
            matching = [n for n in candidates if all(_capability(n, k) == str(v) for k, v in wanted.items())]
            if not matching:
                counts: dict[str, int] = {}
                for n in candidates:
                    for k in wanted:
                        found = f"{k}={_capability(n, k)}"
                        counts[found] = counts.get(found, 0) + 1
                existing = ", ".join(f"{k} ({v} node(s))" for k, v in counts.items()) or "none"
                requested = ", ".join(f"{k}={v}" for k, v in wanted.items())
                raise PlaybookFailed("Reserve instances", f"No available nodes found with capabilities {requested}, "
                                                          f"existing capabilities: {existing}")
            node = matching[0]
        free.remove(node)
        chosen.append((instance["hostname"], node))
    return chosen


def _capability(node, key: str) -> str | None:
    if key == "profile":
        return _profile(node)
    capabilities = (node.properties or {}).get("capabilities") or ""
    if isinstance(capabilities, dict):
        return capabilities.get(key)
    return dict(item.split(":", 1) for item in capabilities.split(",") if ":" in item).get(key)


def _networks(templates: Path) -> dict[str, dict]:
    """The lab's stand-in for the undercloud's Neutron networks: ctlplane and the default isolated networks."""
    networks = {"ctlplane": CTLPLANE}
    sample = templates / NETWORKS_SAMPLE
    if sample.exists():
        for network in yaml.safe_load(sample.read_text()) or []:
            subnet = next(iter(network["subnets"].values()))
            start = (subnet.get("allocation_pools") or [{}])[0].get("start")
            first = start or str(ipaddress.ip_network(subnet["ip_subnet"])[4])
            networks[network["name_lower"]] = {"name": network["name_lower"], "name_upper": network["name"],
                                               "cidr": subnet["ip_subnet"], "first": first}
    return networks


def _ports(instances: list[dict], hostname_role_map: dict, templates: Path, lab_dir: Path) -> dict:
    """tripleo_overcloud_network_ports' ``node_port_map``: each hostname's address on each of its networks."""
    networks = _networks(templates)
    node_port_map: dict[str, dict] = {}
    with host_state(lab_dir) as state:
        ports = state.setdefault("neutron_ports", {})
        for instance in instances:
            hostname = instance["hostname"].lower()
            for net in [n["network"] for n in instance.get("networks", [])] or ["ctlplane"]:
                if net not in networks:
                    raise PlaybookFailed("Provision instance network ports",
                                         f"Network {net} for instance {instance['hostname']} not found.")
                by_host = ports.setdefault(net, {})
                if hostname not in by_host:
                    first = ipaddress.ip_address(networks[net]["first"])
                    taken = {ipaddress.ip_address(ip) for ip in by_host.values()}
                    by_host[hostname] = str(next(first + i for i in range(1000) if first + i not in taken))
                ip = by_host[hostname]
                prefix = networks[net]["cidr"].split("/")[1]
                node_port_map.setdefault(hostname, {})[net] = {
                    "ip_address": ip, "ip_subnet": f"{ip}/{prefix}",
                    "ip_address_uri": f"[{ip}]" if ":" in ip else ip}
    del hostname_role_map
    return node_port_map


class PlaybookRun:
    """cli-overcloud-node-provision.yaml's run on localhost, printed as the tripleo_dense callback prints it."""

    def __init__(self, playbook: Path, output_path: Path, *, network_config: bool):
        self.tasks = _task_names(playbook, output_path, network_config)
        self.done = 0
        self.counts = {"ok": 0, "changed": 0, "unreachable": 0, "failed": 0, "skipped": 0, "rescued": 0, "ignored": 0}
        self.started = time.monotonic()
        self.banner("PLAY [Overcloud Node Provision]")

    @staticmethod
    def banner(text: str) -> None:
        print(f"{text} {'*' * max(3, 79 - len(text))}", flush=True)

    @staticmethod
    def output(*parts: str) -> None:
        print(" | ".join([datetime.now().strftime("%Y-%m-%d %H:%M:%S.%f"), *parts]), flush=True)

    def _line(self, name: str, state: str, error: str | None = None) -> None:
        task_id = str(uuid.uuid4())
        self.output(task_id, f"{'TASK':>10}", name)
        self.output(task_id, f"{state:>10}", name, "localhost", *([f"error={error}"] if error else []))

    def until(self, name: str) -> None:
        """The tasks before ``name``: the checks of the inputs and the default image's (all pass here)."""
        while self.done < len(self.tasks) and self.tasks[self.done][0] != name:
            task, skipped = self.tasks[self.done]
            self.task(task, skipped=skipped)

    def task(self, name: str, *, changed: bool = False, skipped: bool | None = None) -> None:
        self.until(name)
        if self.done < len(self.tasks):
            skipped = self.tasks[self.done][1] if skipped is None else skipped
            self.done += 1
        if skipped:
            self.counts["skipped"] += 1
            self._line(name, "SKIPPED")
            return
        self.counts["ok"] += 1
        self.counts["changed"] += changed
        self._line(name, "CHANGED" if changed else "OK")

    def fail(self, name: str, msg: str) -> None:
        self.until(name)
        self.counts["failed"] += 1
        self._line(name, "FATAL", json.dumps({"changed": False, "msg": msg}))
        self.banner("NO MORE HOSTS LEFT")
        self.recap()

    def finish(self) -> None:
        for name, skipped in self.tasks[self.done:]:
            self.task(name, skipped=skipped, changed=not skipped)
        self.recap()

    def recap(self) -> None:
        self.banner("PLAY RECAP")
        print(f"{'localhost':<26} : " + " ".join(f"{k}={v:<4}" for k, v in self.counts.items()), flush=True)
        elapsed = time.monotonic() - self.started
        self.output("~" * 34 + " Summary Information " + "~" * 34)
        self.output("~" * 29 + f" Elapsed Time: {time.strftime('%H:%M:%S', time.gmtime(elapsed))}."
                    f"{int(elapsed % 1 * 1e6):06d} " + "~" * 30)


def _task_names(playbook: Path, output_path: Path, network_config: bool) -> list[tuple[str, bool]]:
    """The playbook's task names in order (templated as ansible prints them), and whether each is skipped on
    the path the lab takes: the pre_tasks' checks pass, the image is Glance's (no overcloud-full file on the
    host), network ports are managed (tripleoclient 20 always asks), network config only with --network-config."""
    try:
        play = yaml.safe_load(playbook.read_text())[0]
    except (OSError, yaml.YAMLError, IndexError, KeyError):
        return []
    names: list[tuple[str, bool]] = []

    def walk(tasks):
        for task in tasks or []:
            if "block" in task:
                walk(task["block"])
                continue
            name = str(task.get("name") or next(k for k in task if k not in ("when", "register")))
            when = task.get("when") or []
            when = " ".join(when if isinstance(when, list) else [str(when)])
            skipped = ("fail" in task or name in IMAGE_FILE_TASKS or "not manage_network_ports" in when
                       or ("configure_networking" in when and not network_config))
            names.append((name.replace("{{ baremetal_deployed_path }}", str(output_path)), skipped))

    walk(play.get("pre_tasks"))
    walk(play.get("tasks"))
    return names
