"""The prerelease domain's model: what a host had installed (the pin), what applying a drop changed, the
container images prepared for it, and the apply-drop stage's record (plain types; renderers take them)."""

from __future__ import annotations

import hashlib
from typing import Literal

from pydantic import BaseModel, Field

from rdoflow.errors import ErrorRecord
from rdoflow.outcome import Outcome
from rdoflow.tasks.overcloud.model import StepResult


class Package(BaseModel):
    """One installed package, as ``rpm -qa`` names it."""

    name: str
    epoch: str | None = None
    version: str
    release: str
    arch: str

    @property
    def evr(self) -> str:
        return f"{self.epoch}:{self.version}-{self.release}" if self.epoch else f"{self.version}-{self.release}"

    @property
    def nvr(self) -> str:
        """name-[epoch:]version-release.arch, as rpm -q answers (with the epoch when there is one)."""
        return f"{self.name}-{self.evr}.{self.arch}"


class RepoFile(BaseModel):
    """A yum repository file of the host's: its name, its content's sha256 and the repositories it names."""

    name: str
    sha256: str
    baseurls: list[str] = Field(default_factory=list, description="baseurl of each enabled section.")


class PackagePin(BaseModel):
    """What a host has installed and which repositories it uses, at one moment."""

    packages: list[Package]
    repos: list[RepoFile]

    @property
    def digest(self) -> str:
        """sha256 of the installed set: equal digests, the same packages at the same versions."""
        lines = sorted(f"{p.nvr}\n" for p in self.packages)
        return hashlib.sha256("".join(lines).encode()).hexdigest()


class PackageChange(BaseModel):
    """A package the update changed: its NVR before and after (None: it was not installed, or was removed)."""

    name: str
    old: str | None
    new: str | None

    @property
    def kind(self) -> Literal["updated", "installed", "removed"]:
        return "installed" if self.old is None else "removed" if self.new is None else "updated"


class PackagesOutcome(BaseModel):
    """The undercloud's packages moved to the drop's: the repositories installed, the update, the difference."""

    drop: str = Field(description="The drop's full hash.")
    repo_url: str | None = Field(None, description="baseurl of the drop's delorean.repo.")
    repo_path: str = Field(description="Where the drop's repo file was installed on the host.")
    previous: str | None = Field(None, description="Where the host's earlier file of that name was kept.")
    commands: list[str] = Field(default_factory=list, description="The update commands that ran.")
    before: int = Field(0, description="Packages installed before.")
    after: int = Field(0, description="Packages installed after.")
    changes: list[PackageChange] = Field(default_factory=list, description="What changed (of the site's "
                                                                          "packages of interest).")
    packages_sha256: str = Field("", description="The installed set's digest after the update.")
    seconds: float = 0.0
    cached: bool = Field(False, description="An earlier run's result for this drop, reused: the host still "
                                            "runs what it left.")
    pin_file: str | None = Field(None, description="The pin of the host before the update (JSON), in the "
                                                   "report directory.")
    pin_on_host: str | None = Field(None, description="The same pin, kept on the undercloud.")


class ImagesOutcome(BaseModel):
    """The overcloud's container images prepared with the drop's tag."""

    tag: str
    prepare_file: str = Field(description="The ContainerImagePrepare file written on the undercloud.")
    images_file: str = Field(description="The images environment file the command wrote (passed with -e).")
    images: int = Field(0, description="Image parameters in it.")
    tagged: int = Field(0, description="Of them, the images carrying the drop's tag.")
    sample: list[str] = Field(default_factory=list, description="A few of its lines.")
    based_on: str = Field(description="The undercloud's prepare file it started from, or 'the site's set'.")
    seconds: float = 0.0
    cached: bool = False


class ApplyDrop(BaseModel):
    """The apply-drop stage: the drop, the packages, the images, then the update or upgrade's steps."""

    site: str
    address: str
    drop: str = Field(description="The drop's full hash.")
    source: str = Field(description="Where the drop was read: the DLRN base URL and the link or hash path.")
    apply: Literal["update", "upgrade"]
    stack: str
    packages: PackagesOutcome | None = None
    images: ImagesOutcome | None = None
    steps: list[StepResult] = Field(default_factory=list)
    error: ErrorRecord | None = None
    seconds: float = 0.0

    @property
    def failed_step(self) -> StepResult | None:
        return next((step for step in self.steps if step.outcome == Outcome.FAIL), None)

    @property
    def passed(self) -> bool:
        return self.error is None and all(step.outcome == Outcome.PASS for step in self.steps)
