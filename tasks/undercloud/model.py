"""The undercloud domain's model: the host's facts and preflight checks, the rendered undercloud.conf, what
the host runs, the install's outcome, and the bootstrap stage's record (plain types; renderers take them)."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field

from rdoflow.errors import ErrorRecord
from rdoflow.outcome import Outcome


class HostFacts(BaseModel):
    """What the host says about itself."""

    address: str = Field(description="user@host:port the facts were read from.")
    hostname: str = Field(description="Output of 'hostname'.")
    fqdn: str | None = Field(description="Output of 'hostname -f'; None when the name does not resolve.")
    fqdn_error: str = Field("", description="Why 'hostname -f' failed, when it did.")
    os_release: str = Field(description="PRETTY_NAME from /etc/os-release.")
    cpus: int = Field(description="Online CPUs (nproc).")
    ram_gib: float = Field(description="MemTotal from /proc/meminfo, in GiB.")
    disk_path: str = Field(description="Path whose file system was measured.")
    disk_free_gib: float = Field(description="Space available to the account on that file system, in GiB.")


class Check(BaseModel):
    """One preflight item: what was expected, what was found, and whether it passed."""

    name: str
    expected: str
    found: str
    outcome: Outcome


class Preflight(BaseModel):
    """The facts and the checks made on them; ``passed`` when no check failed."""

    facts: HostFacts
    checks: list[Check]

    @property
    def failed(self) -> list[Check]:
        return [check for check in self.checks if check.outcome == Outcome.FAIL]

    @property
    def passed(self) -> bool:
        return not self.failed


class RenderedConf(BaseModel):
    """undercloud.conf as rdoflow renders it for a site."""

    site: str = Field(description="The site it was rendered from.")
    text: str = Field(description="The file's content (no secrets: the site refuses them).")
    sha256: str = Field(description="sha256 of the text: the configuration's identity.")


class ConfChanges(BaseModel):
    """Which keys differ between the undercloud's current undercloud.conf and the rendered one (names only)."""

    added: list[str] = Field(default_factory=list)
    removed: list[str] = Field(default_factory=list)
    changed: list[str] = Field(default_factory=list)
    unreadable: bool = Field(False, description="The host's file did not parse as INI: keys not compared.")

    def summary(self) -> str:
        if self.unreadable:
            return "the host's undercloud.conf does not parse as INI; keys not compared"
        parts = [f"{label}: {', '.join(keys)}" for label, keys in
                 (("changed", self.changed), ("added", self.added), ("removed", self.removed)) if keys]
        return "; ".join(parts) or "no key changed (only comments or layout)"


class InstallMarker(BaseModel):
    """What the host remembers of rdoflow's last successful install."""

    conf_sha256: str
    installed_at: datetime
    version: str | None = Field(None, description="The undercloud's version, when one could be read.")
    steps: int = Field(0, description="Step lines the install printed: the next install's expected total.")
    seconds: float = 0.0


class HostUndercloud(BaseModel):
    """What the host shows of its undercloud now."""

    address: str
    conf_sha256: str | None = Field(None, description="sha256 of ~/undercloud.conf; None: no such file.")
    changes: ConfChanges | None = Field(None, description="Keys the rendered config changes in the host's file; "
                                                          "None when the host has none or the same.")
    marker: InstallMarker | None = None
    marker_problem: str = ""
    stackrc: bool = False
    version: str | None = Field(None, description="The undercloud's version now, as installed_version reads it.")

    @property
    def version_changed(self) -> bool:
        """The undercloud's packages changed since rdoflow's install (an upgrade, a reinstall by hand)."""
        return bool(self.marker and self.marker.version and self.version and self.marker.version != self.version)

    def runs(self, conf: RenderedConf) -> bool:
        """The undercloud runs ``conf``: same file on the host, installed from it at the version it has
        now, stackrc there."""
        return (self.conf_sha256 == conf.sha256 and self.marker is not None
                and self.marker.conf_sha256 == conf.sha256 and not self.version_changed and self.stackrc)

    def state(self, conf: RenderedConf) -> str:
        """In words: why the install is needed, or why it is not."""
        if self.runs(conf):
            return (f"the undercloud already runs this undercloud.conf (installed "
                    f"{self.marker.installed_at:%Y-%m-%d %H:%M:%S} UTC, ~/stackrc present)")
        if self.conf_sha256 is None:
            return "no undercloud.conf on the host yet"
        if self.conf_sha256 != conf.sha256:
            return "the rendered undercloud.conf differs from the host's"
        if self.marker is None:
            return "no completed install of this undercloud.conf" + (f" ({self.marker_problem})"
                                                                     if self.marker_problem else "")
        if self.marker.conf_sha256 != conf.sha256:
            return "the last completed install was of another undercloud.conf"
        if self.version_changed:
            return f"the undercloud's version changed since that install ({self.marker.version}, now {self.version})"
        return "~/stackrc is missing"


class InstallOutcome(BaseModel):
    """Whether the install ran, why, and how it went."""

    ran: bool
    why: str
    seconds: float = 0.0
    steps: int = 0
    version: str | None = None
    cached: bool = Field(False, description="Reused from an earlier run's cached result.")
    waited_for_earlier: bool = Field(False, description="An install a dropped session left running was "
                                                        "waited for before this one started.")


class ConfRecord(BaseModel):
    """The rendered undercloud.conf and how it compares with the host's."""

    sha256: str
    text: str = Field(description="The rendered file (no secrets).")
    host_sha256: str | None = Field(None, description="sha256 of the host's ~/undercloud.conf before; None: absent.")
    changes: ConfChanges | None = Field(None, description="Keys that differ from the host's file, when it differed.")

    @classmethod
    def of(cls, conf: RenderedConf, observed: HostUndercloud) -> ConfRecord:
        return cls(sha256=conf.sha256, text=conf.text, host_sha256=observed.conf_sha256,
                   changes=observed.changes)


class UndercloudBootstrap(BaseModel):
    """What the undercloud-bootstrap stage did on one site."""

    site: str
    address: str
    drop: str | None = Field(None, description="The DLRN hash under test, as given to the stage.")
    seconds: float = 0.0
    preflight: Preflight | None = None
    conf: ConfRecord | None = None
    install: InstallOutcome | None = None
    checks: list[Check] = Field(default_factory=list, description="Verifications after the install (or skip).")
    error: ErrorRecord | None = None

    @property
    def passed(self) -> bool:
        return self.error is None and self.install is not None and all(c.outcome != Outcome.FAIL for c in self.checks)
