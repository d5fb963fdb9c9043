"""``openstack undercloud install | upgrade`` on the lab host.

Reads ``undercloud.conf`` from the current directory as tripleoclient does,
validates it the way its preflight does (same kind of message, exit status 1),
makes sure Ironic and Heat answer, then writes ``~/stackrc``,
``~/.config/openstack/clouds.yaml`` and ``~/undercloud-passwords.conf``.
"""

from __future__ import annotations

import configparser
import hashlib
import ipaddress
import os
import secrets
import subprocess
import time
import urllib.request
from pathlib import Path

import yaml

from .. import config as labconfig
from . import packages
from .clients import CLOUD, clouds_yaml, endpoints, undercloud_cloud
from .console import CommandFailed, say
from .hoststate import host_state, lab_dir

# python3-tripleoclient's version per release (lab.yaml's release): installed, then after an upgrade
# (a minor update within the release: the lab does not move between releases).
VERSIONS = {"train": ("12.6.1", "12.6.2"), "wallaby": ("16.5.0", "16.5.1"), "zed": ("20.0.0", "20.0.1")}
BANNER = "#" * 58


def upgraded_version() -> str:
    return VERSIONS[labconfig.load(lab_dir()).release][1]


def read_conf(path: Path) -> configparser.ConfigParser:
    parser = configparser.ConfigParser(interpolation=None)
    if not path.exists():
        say(f"Unable to find {path}; using the defaults", level="WARNING")
        return parser
    try:
        parser.read(path)
    except configparser.Error as exc:
        raise CommandFailed(f"Unable to parse {path}: {exc}") from exc
    return parser


def validate(conf: configparser.ConfigParser) -> list[str]:
    """The preflight's checks of undercloud.conf that can be judged without the host's NICs."""
    default = conf["DEFAULT"]
    problems = []
    local_ip = default.get("local_ip", "192.168.24.1/24")
    try:
        interface = ipaddress.ip_interface(local_ip)
        if "/" not in local_ip:
            raise ValueError
    except ValueError:
        return [f"Invalid local_ip {local_ip!r}: it must be an IP address with a prefix (CIDR), e.g. 192.168.24.1/24"]
    subnet_name = default.get("local_subnet", "ctlplane-subnet")
    subnet = conf[subnet_name] if conf.has_section(subnet_name) else default
    cidr = subnet.get("cidr", subnet.get("network_cidr", str(interface.network)))
    try:
        network = ipaddress.ip_network(cidr)
    except ValueError:
        return [f"Invalid cidr {cidr!r} in [{subnet_name}]: not an IP network"]
    start, end = subnet.get("dhcp_start", str(network[5])), subnet.get("dhcp_end", str(network[24]))
    try:
        first, last = ipaddress.ip_address(start), ipaddress.ip_address(end)
    except ValueError as exc:
        return [f"Invalid dhcp range in [{subnet_name}]: {exc}"]
    if first >= last:
        problems.append(f'Invalid dhcp range specified, dhcp_start "{start}" does not come before dhcp_end "{end}"')
    for name, address in (("dhcp_start", first), ("dhcp_end", last)):
        if address not in network:
            problems.append(f'{name} "{address}" is not in the network of [{subnet_name}] cidr "{network}"')
    if interface.ip not in network:
        problems.append(f'local_ip "{interface.ip}" is not in the network of [{subnet_name}] cidr "{network}"')
    hostname = default.get("undercloud_hostname")
    if hostname and "." not in hostname:
        problems.append(f'undercloud_hostname "{hostname}" is not a fully qualified domain name')
    return problems


def install(upgrade: bool = False) -> None:
    verb = "upgrade" if upgrade else "install"
    home = Path(os.environ["HOME"])
    conf_path = Path.cwd() / "undercloud.conf"
    conf = read_conf(conf_path)
    problems = validate(conf)
    if problems:
        for problem in problems:
            say(problem, level="ERROR", logger="tripleoclient.v1.undercloud_preflight")
        raise CommandFailed(f"An error has occurred while validating {conf_path}: {problems[0]}")
    images = conf.get("DEFAULT", "container_images_file", fallback="")
    if images and not Path(images).expanduser().is_file():  # tripleoclient copies it before the deploy
        message = f"Cannot copy a container imagesfile {images} into a tempdir!"  # sic: the client's words
        say(message, level="ERROR", logger="tripleoclient.v1.undercloud_config")
        raise CommandFailed(message)
    with host_state() as state:
        if upgrade and not state.get("undercloud"):
            raise CommandFailed("The undercloud is not installed; nothing to upgrade")
    started = time.time()
    knobs = labconfig.load(lab_dir())
    if upgrade:
        _update_extra_packages()
    steps = ("Running the undercloud preflight checks", "Rendering the undercloud's heat environment",
             "Deploying the containers of ironic, ironic-inspector, heat", "Running the ansible playbooks",
             "Verifying the services")
    for step in steps:
        say(f"{step} ({verb})")
        time.sleep(knobs.timing.undercloud_install / len(steps))
    services = endpoints()
    for name, url in services.items():
        _require_answer(name, url)
    _write_client_files(home, services)
    if knobs.faults.install_echoes_passwords:
        for line in (home / "undercloud-passwords.conf").read_text().splitlines()[1:]:
            say(f"TASK [tripleo_passwords] ok: {line}")
    if not upgrade and packages.install_release_packages(lab_dir(), knobs.release):
        say(f"Installed the undercloud's packages ({knobs.release}) into the host's package root")
    version = packages.version_of(lab_dir(), packages.CLIENT) if packages.real(lab_dir()) else None
    digest = hashlib.sha256(conf_path.read_bytes() if conf_path.exists() else b"").hexdigest()
    with host_state() as state:
        state["undercloud"] = {"version": version or VERSIONS[knobs.release][upgrade], "conf_sha256": digest,
                               "at": time.time()}
        # Each completed run's span: two runs at once would show as overlapping spans.
        state.setdefault("undercloud_runs", []).append([verb, started, time.time()])
    done = "upgraded" if upgrade else "installed"
    print(f"\n{BANNER}\n\nThe Undercloud has been successfully {done}.\n\nUseful files:\n\n"
          f"Password file is at {home}/undercloud-passwords.conf\nThe stackrc file is at ~/stackrc\n\n"
          f"Use these files to interact with OpenStack services, and ensure they are secured.\n\n{BANNER}\n",
          flush=True)


def _update_extra_packages() -> None:
    """What tripleoclient's 'undercloud upgrade' does first: ``sudo dnf upgrade -y`` of the client's packages
    from the host's repositories (the release's own, or a drop's once one is applied), its output logged."""
    if not packages.real(lab_dir()):
        return
    say(f"Updating necessary packages: {' '.join(packages.UNDERCLOUD_EXTRA_PACKAGES)}", level="WARNING")
    result = subprocess.run(packages.update_command(), stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                            check=False)
    if result.returncode != 0:
        message = f"Update extra packages failed: {result.stdout.strip()}"
        say(message, level="ERROR", logger="tripleoclient.utils")
        raise CommandFailed(message)
    say(result.stdout.rstrip(), level="WARNING")


def _require_answer(name: str, url: str) -> None:
    probe = url if name != "orchestration" else url + "/stacks"
    try:
        with urllib.request.urlopen(probe, timeout=10) as answer:
            if answer.status == 200:
                say(f"{name} API answers at {url}")
                return
    except OSError as exc:
        raise CommandFailed(f"The {name} service did not come up: {url}: {exc}") from exc
    raise CommandFailed(f"The {name} service did not come up: {url}")


def _write_client_files(home: Path, services: dict[str, str]) -> None:
    path = clouds_yaml(home)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(yaml.safe_dump({"clouds": {CLOUD: undercloud_cloud(services)}}, sort_keys=False))
    (home / "stackrc").write_text(
        "# Source this file to use the undercloud's APIs.\n"
        f"export OS_CLOUD={CLOUD}\nexport OS_BAREMETAL_API_VERSION=1.84\n"
        f"export OS_CLIENT_CONFIG_FILE={path}\n"
    )
    passwords = home / "undercloud-passwords.conf"
    if not passwords.exists():
        passwords.touch(mode=0o600)
        passwords.write_text("[auth]\n" + "".join(f"undercloud_{name}_password: {secrets.token_urlsafe(18)}\n"
                                                 for name in ("admin", "ironic", "heat")))
