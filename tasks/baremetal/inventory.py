"""Bare-metal inventories (instackenv.json, nodes.yaml) read, checked once and turned into Ironic's terms.

The accepted shapes are those of ``openstack overcloud node import``: ``{"nodes": [...]}`` in JSON
or YAML, or a bare YAML list; each node has ``pm_type``, ``pm_addr``, ``pm_user``, ``pm_password``,
``pm_port``, ``mac: [...]`` or ``ports: [{address: ...}]``, ``cpu``/``memory``/``disk``/``arch``
(strings in JSON, numbers in YAML) and ``capabilities`` (``"k:v,k:v"`` or a mapping). Every fault
in a file is reported at once, one line each: file, node (index and name), field, what was expected.
"""

from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path
from typing import Any

from pydantic import BaseModel, Field, SecretStr

from rdoflow.config.yamlsource import YamlDocument, parse_yaml, shown
from rdoflow.errors import ConfigError

KNOWN_DRIVERS = ("ipmi", "redfish", "idrac", "ilo", "irmc", "fake-hardware", "manual-management")
# TripleO's classic driver names, still found in old files, and the hardware type each became.
LEGACY_DRIVERS = {
    "pxe_ipmitool": "ipmi", "agent_ipmitool": "ipmi", "pxe_drac": "idrac", "agent_drac": "idrac",
    "pxe_ilo": "ilo", "agent_ilo": "ilo", "iscsi_ilo": "ilo", "pxe_irmc": "irmc", "agent_irmc": "irmc",
    "iscsi_irmc": "irmc", "pxe_ssh": "manual-management", "fake_pxe": "manual-management",
    "fake_agent": "manual-management", "fake": "fake-hardware",
}
# The driver_info prefix of each hardware type whose BMC Ironic talks to.
PREFIXES = {"ipmi": "ipmi", "idrac": "drac", "ilo": "ilo", "irmc": "irmc", "redfish": "redfish"}
NEEDS_ADDRESS = {"ipmi", "redfish", "idrac", "ilo", "irmc"}
NEEDS_CREDENTIALS = {"idrac", "ilo", "irmc"}
MAC = re.compile(r"^[0-9a-f]{2}(:[0-9a-f]{2}){5}$")
EXPECTED_DRIVER = f"one of {', '.join(KNOWN_DRIVERS)}, staging-* (or a legacy name such as pxe_ipmitool)"
HINT = "fix the inventory file; nothing was enrolled"


class NodeSpec(BaseModel):
    """One node of the inventory, checked: what Ironic needs to enroll and manage it."""

    index: int = Field(description="Position in the file, from 0.")
    name: str | None = Field(None, description="Node name; TripleO files may leave it out.")
    pm_type: str = Field(description="The pm_type as written (a legacy name stays visible).")
    driver: str = Field(description="The Ironic hardware type pm_type maps to.")
    pm_addr: str | None = None
    pm_port: int | None = None
    pm_user: str | None = None
    pm_password: SecretStr | None = None
    pm_system_id: str | None = None
    macs: list[str] = Field(default_factory=list, description="Port MACs, lower case.")
    cpus: int | None = None
    memory_mb: int | None = None
    local_gb: int | None = None
    cpu_arch: str | None = None
    capabilities: dict[str, str] = Field(default_factory=dict)
    root_device: dict[str, Any] | None = None
    resource_class: str = "baremetal"

    @property
    def label(self) -> str:
        """``node 3 (computeHCI-0)``, or ``node 3`` for a node with no name."""
        return f"node {self.index} ({self.name})" if self.name else f"node {self.index}"

    @property
    def profile(self) -> str | None:
        return self.capabilities.get("profile")

    def driver_info(self) -> dict[str, Any]:
        """Ironic's driver_info, secret revealed: for the API request only, never for a log."""
        prefix = PREFIXES.get(self.driver)
        password = self.pm_password.get_secret_value() if self.pm_password else None
        if prefix is None:  # no BMC to talk to: keep the address for people, under a key no driver reads
            info = {"rdoflow_bmc_address": self.pm_addr, "rdoflow_bmc_port": self.pm_port}
        elif self.driver == "redfish":
            info = {"redfish_address": _redfish_address(self.pm_addr, self.pm_port), "redfish_system_id": self.pm_system_id,
                    "redfish_username": self.pm_user, "redfish_password": password}
        else:
            info = {f"{prefix}_address": self.pm_addr, f"{prefix}_port": self.pm_port,
                    f"{prefix}_username": self.pm_user, f"{prefix}_password": password}
        return {key: value for key, value in info.items() if value is not None}

    def instackenv(self) -> dict[str, Any]:
        """The node as ``openstack overcloud node import`` reads it (tripleo-common 18's fields: NICs as
        ``ports`` on the ctlplane network, since it ignores ``mac``), password revealed: for the file
        uploaded to the undercloud only."""
        node = {"name": self.name, "pm_type": self.driver, "pm_addr": self.pm_addr, "pm_port": self.pm_port,
                "pm_user": self.pm_user, "pm_system_id": self.pm_system_id,
                "pm_password": self.pm_password.get_secret_value() if self.pm_password else None,
                "ports": [{"address": mac, "physical_network": "ctlplane"} for mac in self.macs],
                "cpu": self.cpus, "memory": self.memory_mb, "disk": self.local_gb, "arch": self.cpu_arch,
                "root_device": self.root_device, "resource_class": self.resource_class,
                "capabilities": ",".join(f"{key}:{value}" for key, value in self.capabilities.items()) or None}
        return {key: value for key, value in node.items() if value not in (None, [])}

    def properties(self) -> dict[str, Any]:
        """Ironic's properties as the file states them (inspection replaces the hardware figures)."""
        props = {"cpus": self.cpus, "memory_mb": self.memory_mb, "local_gb": self.local_gb, "cpu_arch": self.cpu_arch,
                 "root_device": self.root_device}
        if self.capabilities:
            props["capabilities"] = ",".join(f"{key}:{value}" for key, value in self.capabilities.items())
        return {key: value for key, value in props.items() if value is not None}


def _redfish_address(address: str | None, port: int | None) -> str | None:
    """pm_addr with pm_port added to its host, unless it names a port already. TripleO passes pm_addr alone
    (it drops pm_port for redfish): ``http://bmc:8000`` with a stray ``pm_port: 623`` stays ``http://bmc:8000``."""
    if not address or not port:
        return address
    scheme, _, rest = address.rpartition("://")
    host, slash, path = rest.partition("/")
    if re.search(r":\d+$", host):
        return address
    return f"{scheme + '://' if scheme else ''}{host}:{port}{slash}{path}"


class Inventory(BaseModel):
    """A checked inventory: where it came from, a fingerprint of its content, its nodes."""

    source: str
    fingerprint: str = Field(description="sha256 of the file's content (passwords included, never shown).")
    nodes: list[NodeSpec]


def read_inventory(path: str | Path) -> Inventory:
    """Read and check an instackenv.json or nodes.yaml; ConfigError lists every problem found."""
    source = str(path)
    try:
        text = Path(path).read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise ConfigError(source, [f"{source}: no such file"], hint=HINT) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(source, [f"{source}: cannot read the file: {exc}"], hint=HINT) from None
    return parse_inventory(text, source)


def parse_inventory(text: str, source: str) -> Inventory:
    """``read_inventory`` for text in hand; ``source`` names the file in every message."""
    data, document = _load(text, source)
    nodes = data.get("nodes") if isinstance(data, dict) else data
    if not isinstance(nodes, list) or not nodes:
        raise ConfigError(source, [f"{source}: expected {{\"nodes\": [...]}} or a list of nodes, with at least "
                                   f"one node; got {shown(nodes if isinstance(data, dict) else data)}"], hint=HINT)
    base = ("nodes",) if isinstance(data, dict) else ()
    arch = data.get("arch") if isinstance(data, dict) else None  # some files state it once, at the top
    checker = _Checker(source, document, base, arch if isinstance(arch, str) else None)
    specs = [spec for index, raw in enumerate(nodes) if (spec := checker.node(index, raw)) is not None]
    checker.duplicates()
    if checker.problems:
        raise ConfigError(source, checker.problems, hint=HINT)
    return Inventory(source=source, fingerprint=hashlib.sha256(text.encode()).hexdigest(), nodes=specs)


def _load(text: str, source: str) -> tuple[Any, YamlDocument | None]:
    """The data, and where possible the YAML view of it that knows each node's line."""
    if text.lstrip().startswith(("{", "[")):
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise ConfigError(source, [f"{source}:{exc.lineno}:{exc.colno}: not valid JSON: {exc.msg}"],
                              hint=HINT) from None
        try:  # JSON is YAML, and the YAML reader gives lines; tabs in indentation defeat it (then no lines)
            return data, parse_yaml(text, source)
        except ConfigError:
            return data, None
    document = parse_yaml(text, source)  # raises ConfigError with line and column
    if document.problems:
        raise ConfigError(source, [problem.render(source) for problem in document.problems], hint=HINT)
    return document.data, document


class _Checker:
    """Collects the problems of every node rather than stopping at the first."""

    def __init__(self, source: str, document: YamlDocument | None, base: tuple, arch: str | None):
        self.source, self.document, self.base, self.arch = source, document, base, arch
        self.problems: list[str] = []
        self.seen: list[tuple[int, str | None, list[str]]] = []  # every node's name and MACs, valid or not

    def fault(self, index: int, name: Any, field: str, message: str) -> None:
        who = f"node {index} ({name})" if isinstance(name, str) and name else f"node {index}"
        path = tuple(int(part) if part.isdigit() else part for part in field.split(".") if part)
        line = self.document.line_of(self.base + (index, *path)) if self.document else None
        where = f" (line {line})" if line else ""
        self.problems.append(f"{self.source}: {who}: {_shown_field(field)}: {message}{where}" if field else
                             f"{self.source}: {who}: {message}{where}")

    def node(self, index: int, raw: Any) -> NodeSpec | None:
        if not isinstance(raw, dict):
            self.fault(index, None, "", f"expected a mapping of pm_type, pm_addr, ... ; got {shown(raw)}")
            return None
        before = len(self.problems)
        name = raw.get("name")
        if name is not None and (not isinstance(name, str) or not name.strip()):
            self.fault(index, None, "name", f"expected a non-empty string, got {shown(name)}")
            name = None
        driver = self._driver(index, name, raw)
        macs = self._macs(index, name, raw)
        self.seen.append((index, name, macs))
        values = {field: self._number(index, name, raw, key) for key, field in
                  (("cpu", "cpus"), ("memory", "memory_mb"), ("disk", "local_gb"), ("pm_port", "pm_port"))}
        spec = dict(index=index, name=name, pm_type=str(raw.get("pm_type")), driver=driver or "unknown",
                    pm_addr=self._text(index, name, raw, "pm_addr"), pm_user=self._text(index, name, raw, "pm_user"),
                    pm_password=self._text(index, name, raw, "pm_password"),
                    pm_system_id=self._text(index, name, raw, "pm_system_id"),
                    macs=macs, cpu_arch=self._text(index, name, raw, "arch") or self.arch,
                    capabilities=self._capabilities(index, name, raw), root_device=raw.get("root_device"),
                    **values)
        if isinstance(raw.get("resource_class"), str):
            spec["resource_class"] = raw["resource_class"]
        if driver:
            self._needs(index, name, driver, spec)
        return NodeSpec(**spec) if len(self.problems) == before else None

    def _driver(self, index: int, name: Any, raw: dict) -> str | None:
        pm_type = raw.get("pm_type")
        if pm_type is None:
            hint = " (an Ironic-native 'driver'/'driver_info' node is not accepted here)" if "driver" in raw else ""
            self.fault(index, name, "pm_type", f"missing; expected {EXPECTED_DRIVER}{hint}")
            return None
        if isinstance(pm_type, str) and (pm_type in KNOWN_DRIVERS or pm_type.startswith("staging-")):
            return pm_type
        if isinstance(pm_type, str) and pm_type in LEGACY_DRIVERS:
            return LEGACY_DRIVERS[pm_type]
        self.fault(index, name, "pm_type", f"unknown driver {shown(pm_type)}; expected {EXPECTED_DRIVER}")
        return None

    def _needs(self, index: int, name: Any, driver: str, spec: dict) -> None:
        wanted = (["pm_addr"] if driver in NEEDS_ADDRESS else []) + (
            ["pm_user", "pm_password"] if driver in NEEDS_CREDENTIALS else []) + (
            ["pm_system_id"] if driver == "redfish" else [])
        for field in wanted:
            if not spec.get(field):
                self.fault(index, name, field, f"missing; the {driver} driver needs it")

    def _text(self, index: int, name: Any, raw: dict, key: str) -> str | None:
        value = raw.get(key)
        if value is None or isinstance(value, str):
            return value.strip() if isinstance(value, str) else None
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return str(value)
        self.fault(index, name, key, f"expected a string, got {shown(value)}")
        return None

    def _number(self, index: int, name: Any, raw: dict, key: str) -> int | None:
        value = raw.get(key)
        if value is None or (isinstance(value, str) and not value.strip()):
            return None
        if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
            return value
        if isinstance(value, str) and value.strip().isdigit():
            return int(value.strip())
        unit = {"cpu": "CPUs", "memory": "MiB", "disk": "GiB", "pm_port": "a TCP port"}[key]
        self.fault(index, name, key, f"expected a whole number ({unit}), got {shown(value)}")
        return None

    def _macs(self, index: int, name: Any, raw: dict) -> list[str]:
        found: list[tuple[str, Any]] = []
        mac, ports = raw.get("mac"), raw.get("ports")
        if mac is not None:
            if not isinstance(mac, list):
                self.fault(index, name, "mac", f"expected a list of MAC addresses, got {shown(mac)}")
            else:
                found += [(f"mac.{i}", value) for i, value in enumerate(mac)]
        if ports is not None:
            if not isinstance(ports, list) or not all(isinstance(port, dict) for port in ports):
                self.fault(index, name, "ports", f"expected a list of {{address: MAC}}, got {shown(ports)}")
            else:
                found += [(f"ports.{i}.address", port.get("address")) for i, port in enumerate(ports)]
        macs = []
        for field, value in found:
            if isinstance(value, str) and MAC.match(value.strip().lower()):
                macs.append(value.strip().lower())
            else:
                self.fault(index, name, field, f"expected a MAC address like 52:54:00:12:34:56, got {shown(value)}")
        return list(dict.fromkeys(macs))

    def _capabilities(self, index: int, name: Any, raw: dict) -> dict[str, str]:
        value = raw.get("capabilities")
        if value is None:
            capabilities: dict[str, str] = {}
        elif isinstance(value, dict):
            capabilities = {str(key): str(item) for key, item in value.items()}
        elif isinstance(value, str):
            pairs = [item.split(":", 1) for item in value.split(",") if item.strip()]
            if any(len(pair) != 2 for pair in pairs):
                self.fault(index, name, "capabilities", f"expected 'key:value,key:value', got {shown(value)}")
                return {}
            capabilities = {key.strip(): item.strip() for key, item in pairs}
        else:
            self.fault(index, name, "capabilities", f"expected 'key:value,...' or a mapping, got {shown(value)}")
            return {}
        if "profile" not in capabilities and isinstance(raw.get("profile"), str):
            capabilities["profile"] = raw["profile"]  # nodes.yaml may give the profile as its own key
        return capabilities

    def duplicates(self) -> None:
        names: dict[str, str] = {}
        macs: dict[str, str] = {}
        for index, name, node_macs in self.seen:
            label = f"node {index} ({name})" if name else f"node {index}"
            if name in names:
                self.fault(index, name, "name", f"{name!r} is also the name of {names[name]}; names must be unique")
            elif name:
                names[name] = label
            for mac in node_macs:
                if mac in macs:
                    self.fault(index, name, "mac", f"{mac} is also a MAC of {macs[mac]}; a MAC belongs to one node")
                else:
                    macs[mac] = label


def _shown_field(field: str) -> str:
    """``mac[0]`` and ``ports[1].address`` from the dotted path used to find lines."""
    return re.sub(r"\.(\d+)", r"[\1]", field)

