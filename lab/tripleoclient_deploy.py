"""The real python-tripleoclient's ``overcloud deploy``, run for the lab host's ``openstack``.

Runs with the real client's venv's Python (lab/tripleoclient_venv.py): it imports nothing of rdoflow
and nothing of the lab. Started by lab/tripleo/real_deploy.py in a session of its own::

    python tripleoclient_deploy.py run ARGS...          the real 'openstack ARGS...'
    python tripleoclient_deploy.py expand STACK FILE    tripleo-ansible's expansion of a baremetal_deployment.yaml
    python tripleoclient_deploy.py config-download JSON the STAND-IN for config-download's playbooks

``run`` is the real ``openstack`` with two changes:

- the ephemeral Heat's API port: tripleoclient hard-codes 8006 for ``overcloud deploy``; other labs
  (and other users) on this machine may deploy at the same time, so it is ``RDOFLOW_LAB_HEAT_API_PORT``;
- files that environment files name under /usr/share/openstack-tripleo-heat-templates (as
  ``overcloud node provision`` writes them) are read from ``RDOFLOW_LAB_THT``, the lab's copy of
  tripleo-heat-templates: the lab does not write into the machine's /usr/share.

``expand`` prints, as JSON, what tripleo-ansible 6.0.0's ``tripleo_baremetal_expand_roles`` module
returns for the roles (its ``baremetal_deploy.expand``, imported from the venv's tripleo-ansible):
the instances, the environment (``HostnameMap``, ``<Role>HostnameFormat``, ``<Role>Count``...), the
networks of each role and the role of each hostname; or, exit status 1, its error message.
"""

import getpass
import json
import os
import sys
import time
import uuid
from datetime import datetime

DEFAULT_TEMPLATES = "/usr/share/openstack-tripleo-heat-templates"


def _heat_port() -> None:
    port = os.environ.get("RDOFLOW_LAB_HEAT_API_PORT")
    if not port:
        return
    from tripleoclient import heat_launcher

    init = heat_launcher.HeatBaseLauncher.__init__

    def __init__(self, api_port=8006, *args, **kwargs):
        init(self, int(port) if api_port in (8006, "8006") else api_port, *args, **kwargs)

    heat_launcher.HeatBaseLauncher.__init__ = __init__


def _templates_path() -> None:
    templates = os.environ.get("RDOFLOW_LAB_THT")
    if not templates:
        return
    from urllib import request

    class MappedFiles(request.FileHandler):
        """file:// URLs (what heatclient reads templates and environments with), the templates' mapped."""

        def file_open(self, req):
            path = request.url2pathname(req.selector)
            if path == DEFAULT_TEMPLATES or path.startswith(DEFAULT_TEMPLATES + "/"):
                req.full_url = "file://" + request.pathname2url(templates.rstrip("/") + path[len(DEFAULT_TEMPLATES):])
            return super().file_open(req)

    request.install_opener(request.build_opener(MappedFiles))


def run(argv: list[str]) -> int:
    _heat_port()
    _templates_path()
    sys.argv[0] = "openstack"  # cliff names its logger after it
    from openstackclient.shell import main

    return main(argv)


def expand(stack: str, path: str) -> int:
    import yaml

    share = os.path.join(sys.prefix, "share", "ansible", "plugins", "module_utils")
    sys.path.insert(0, share)
    import baremetal_deploy

    with open(path) as stream:
        roles = yaml.safe_load(stream)
    try:
        # What cli-overcloud-node-provision.yaml passes: the module's defaults, no image found on disk.
        instances, environment, role_net_map, hostname_role_map = baremetal_deploy.expand(
            roles=roles, stack_name=stack, expand_provisioned=True, default_image={"href": "overcloud-full"},
            default_network=[{"network": "ctlplane", "vif": True}], user_name="tripleo-admin",
            ssh_public_keys=os.environ.get("RDOFLOW_LAB_SSH_PUBLIC_KEYS") or None)
    except Exception as exc:  # noqa: BLE001  (what the module's fail_json reports)
        print(json.dumps({"msg": str(exc)}))
        return 1
    print(json.dumps({"instances": instances, "environment": environment,
                      "role_net_map": {role: sorted(nets) for role, nets in role_net_map.items()},
                      "hostname_role_map": hostname_role_map}))
    return 0


# config-download's STAND-IN. What tripleoclient 20.0.0's deploy does after the stack (v1/overcloud_deploy.py,
# workflows/deployment.py config_download) runs the playbooks that config-download wrote, on the nodes over
# SSH, with containers: the lab's nodes have neither. The stand-in goes through the same plays by name (read
# from the real deploy_steps_playbook.yaml and the inventory the real deploy wrote), prints and logs them
# as the tripleo_dense callback does, fails the task of a node named by the lab's stack_fail fault as
# ansible does, and moves the deployment status with tripleoclient's own functions.

FAIL_PLAY = "Deploy step tasks for 1"  # where a node's services start: a failing service is reported there
UNDERCLOUD = "Undercloud"


class Dense:
    """Lines as tripleo-ansible's tripleo_dense stdout callback prints them; ansible's log_path gets each too."""

    def __init__(self, log_path: str):
        self.log = open(log_path, "a")  # noqa: SIM115  (open for the whole run)
        self.lines: list[str] = []
        self.user = getpass.getuser()

    def display(self, text: str) -> None:
        print(text, flush=True)
        self.lines.append(text)
        stamp = datetime.now().strftime("%Y-%m-%d %H:%M:%S,%f")[:-3]
        for line in text.splitlines() or [""]:
            if line:
                self.log.write(f"{stamp} p={os.getpid()} u={self.user} n=ansible | {line}\n")
        self.log.flush()

    def banner(self, text: str) -> None:
        self.display(f"{text} {'*' * max(3, 79 - len(text))}")

    def output(self, *parts: str) -> None:
        self.display(" | ".join([datetime.now().strftime("%Y-%m-%d %H:%M:%S.%f"), *parts]))


def _oslo(level: str, logger: str, message: str) -> None:
    """A log line of the client, as its console handler writes it (stderr)."""
    stamp = datetime.now().strftime("%Y-%m-%d %H:%M:%S.%f")[:-3]
    print(f"{stamp} {os.getpid()} {level} {logger} [-] {message}", file=sys.stderr, flush=True)


def _role_hosts(inventory: dict, stack: str) -> dict[str, list[str]]:
    """Each role's hosts, in the inventory's order (index order), from the inventory config-download wrote."""
    roles = {}
    for name, group in inventory.items():
        child = inventory.get(f"{stack}_{name}") if "children" in group else None
        if child is not None and "hosts" in child and name != UNDERCLOUD:
            roles[name] = list(child["hosts"] or {})
    return roles


def _plays(stack_dir: str) -> list[tuple[str, str, str | None]]:
    """(play, its hosts, its first named task) of each play deploy_steps_playbook.yaml imports."""
    import yaml

    plays = []
    with open(os.path.join(stack_dir, "deploy_steps_playbook.yaml")) as stream:
        imported = [entry["import_playbook"] for entry in yaml.safe_load(stream) if "import_playbook" in entry]
    for path in imported:
        with open(os.path.join(stack_dir, path)) as stream:
            for play in yaml.safe_load(stream) or []:
                if play.get("name"):
                    task = next((t["name"] for t in play.get("tasks") or [] if t.get("name")), None)
                    plays.append((play["name"], str(play.get("hosts", "")), task))
    return plays


def config_download(request: dict) -> int:
    """The stand-in's run; ``request``: stack, working_dir, failures ({role: {index: reason}}), node_seconds."""
    import yaml
    from tripleoclient import utils
    from tripleoclient.workflows import deployment

    stack, working_dir = request["stack"], request["working_dir"]
    output_dir = os.path.join(working_dir, "config-download")
    stack_dir = os.path.join(output_dir, stack)
    deployment.set_deployment_status(stack, status="DEPLOYING", working_dir=working_dir)
    deployment.make_config_download_dir(output_dir, stack)
    with open(os.path.join(stack_dir, "tripleo-ansible-inventory.yaml")) as stream:
        roles = _role_hosts(yaml.safe_load(stream), stack)
    failing = {roles[role][int(index)]: reason for role, by_index in request["failures"].items()
               for index, reason in by_index.items() if role in roles and int(index) < len(roles[role])}
    print(f"Checking for excluded hosts from stack: {stack}", flush=True)
    print(f"Executing deployment playbook for stack: {stack}", flush=True)
    playbook = os.path.join(stack_dir, "deploy_steps_playbook.yaml")
    _oslo("INFO", "tripleoclient.utils.utils", f"Running Ansible playbook: {playbook}, Working directory: "
          f"{output_dir}, Playbook directory: {stack_dir}")
    dense = Dense(os.environ.get("ANSIBLE_LOG_PATH") or os.path.join(os.path.expanduser("~"), "ansible.log"))
    overcloud = [host for hosts in roles.values() for host in hosts]
    recap = {host: {"ok": 0, "changed": 0, "unreachable": 0, "failed": 0, "skipped": 0, "rescued": 0, "ignored": 0}
             for host in ["undercloud", *overcloud]}
    started, failed_host = time.monotonic(), None
    for play, hosts, task in _plays(stack_dir):
        targets = ["undercloud"] if hosts == UNDERCLOUD else overcloud
        dense.banner(f"PLAY [{play}]")
        name = task or play
        task_uuid = str(uuid.uuid4())
        dense.output(task_uuid, f"{'TASK':>10}", name)
        for host in targets:
            time.sleep(request.get("node_seconds", 0) if host != "undercloud" else 0)
            if play == FAIL_PLAY and host in failing:
                failed_host = host
                recap[host]["failed"] += 1
                error = json.dumps({"changed": False, "msg": failing[host]})
                dense.output(task_uuid, f"{'FATAL':>10}", name, host, f"error={error}")
                continue
            recap[host]["changed" if play.startswith("Deploy step") else "ok"] += 1
            recap[host]["ok"] += 1
            state = "CHANGED" if play.startswith("Deploy step") else "OK"
            dense.output(task_uuid, f"{state:>10}", name, host)
        if failed_host:
            dense.banner("NO MORE HOSTS LEFT")
            break
    dense.banner("PLAY RECAP")
    for host, counts in recap.items():
        dense.display(f"{host:<26} : " + " ".join(f"{key}={value:<4}" for key, value in counts.items()))
    elapsed = time.monotonic() - started
    dense.output("~" * 34 + " Summary Information " + "~" * 34)
    dense.output("~" * 29 + f" Elapsed Time: {time.strftime('%H:%M:%S', time.gmtime(elapsed))}.{int(elapsed % 1 * 1e6):06d} "
                 + "~" * 30)
    with open(os.path.join(output_dir, "stdout"), "w") as out:  # what run_ansible_playbook keeps of the run
        out.write("\n".join(dense.lines) + "\n")
    with open(os.path.join(output_dir, "status"), "w") as out:
        out.write("failed" if failed_host else "successful")
    if failed_host:
        with open(os.path.join(output_dir, "rc"), "w") as out:
            out.write("2")
    endpoint = utils.get_overcloud_endpoint(working_dir)
    horizon = _read(os.path.join(working_dir, "cli-undercloud-get-horizon-url", "horizon_url"))
    rcpath = os.path.join(working_dir, f"{stack}rc")
    old_rcpath = os.path.join(os.path.expanduser("~"), f"{stack}rc")
    error = None
    if failed_host:
        error = (f"Ansible execution failed. playbook: {playbook}, Run Status: failed, Return Code: 2, To rerun "
                 "the failed command manually execute the following script: "
                 f"{os.path.join(output_dir, 'ansible-playbook-command.sh')}")
        _oslo("ERROR", "tripleoclient.utils.utils", error)
        deployment.set_deployment_status(stack, status="DEPLOY_FAILED", working_dir=working_dir)
    else:
        print(f"Overcloud configuration completed for stack: {stack}", flush=True)
        deployment.set_deployment_status(stack, status="DEPLOY_SUCCESS", working_dir=working_dir)
    print(f"Overcloud Endpoint: {endpoint}")
    print(f"Overcloud Horizon Dashboard URL: {horizon}")
    print(f"Overcloud rc file: {rcpath} and {old_rcpath}")
    print(f"Overcloud Deployed {'with error' if failed_host else 'successfully'}", flush=True)
    if error:
        _oslo("ERROR", "openstack", f"{error}: RuntimeError: {error}")
        return 1
    return 0


def _read(path: str) -> str | None:
    try:
        with open(path) as stream:
            return stream.read().strip() or None
    except OSError:
        return None


def main() -> int:
    mode, args = sys.argv[1], sys.argv[2:]
    if mode == "config-download":
        return config_download(json.loads(args[0]))
    if mode == "run":
        return run(args)
    if mode == "expand":
        return expand(*args)
    print(f"unknown mode {mode}", file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main())
