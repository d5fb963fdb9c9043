"""The prerelease domain's model (plain types for the logic and renderers).

What a drop changed and how its changed packages reviewed: a drop's ``versions.csv`` (one row per package,
DLRN's columns) is read into ``DropVersions``; two of them give ``PackageChange``s; each changed package is
mapped to its ``PackageOrigin`` (rdoinfo, or the drop's own columns) and reviewed at its old and new distgit
commits; ``DropReview`` is the partition of reviewed and failed packages, with only the checks whose outcome
changed as news.

Applying a drop: what a host had installed (``PackagePin``), what the update changed on it (``InstalledChange``),
the container images prepared for it, and the apply-drop stage's record (``ApplyDrop``).
"""

from __future__ import annotations

import hashlib
from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from rdoflow.errors import ErrorRecord
from rdoflow.outcome import Outcome
from rdoflow.tasks.overcloud.model import StageReport, StepResult
from rdoflow.tasks.review.model import ItemStatus, PackageReview, Severity

# DLRN's header, written by post_build_rpm and aggregate_repo_files: the columns, in this order.
VERSIONS_HEADER = ("Project", "Source Repo", "Source Sha", "Dist Repo", "Dist Sha", "Status",
                   "Last Success Timestamp", "Component", "Extended Sha", "Pkg NVR")
# The columns two drops are compared on (by Project): a package changed when one of them did.
COMPARED = ("Source Sha", "Dist Sha", "Extended Sha", "Pkg NVR")
BuildStatus = Literal["SUCCESS", "FAILED", "RETRY"]


class PackageVersion(BaseModel):
    """One row of versions.csv: a package as the drop ships it (its last successful build)."""

    model_config = ConfigDict(populate_by_name=True, frozen=True)

    project: str = Field(alias="Project", description="DLRN's project name: the package name, e.g. python-osc-lib.")
    source_repo: str | None = Field(alias="Source Repo", description="The upstream git repository.")
    source_sha: str = Field(alias="Source Sha", description="The upstream commit built.")
    dist_repo: str | None = Field(alias="Dist Repo", description="The distgit repository (with the .spec).")
    dist_sha: str | None = Field(alias="Dist Sha", description="The distgit commit built.")
    status: BuildStatus = Field(alias="Status", description="The package's last build in DLRN.")
    last_success: datetime | None = Field(alias="Last Success Timestamp")
    component: str | None = Field(alias="Component")
    extended_sha: str | None = Field(alias="Extended Sha")
    nvr: str | None = Field(alias="Pkg NVR", description="The source package's name-version-release.")

    def compared(self) -> dict[str, str | None]:
        """The columns two drops are compared on, by DLRN's names."""
        return {"Source Sha": self.source_sha, "Dist Sha": self.dist_sha, "Extended Sha": self.extended_sha,
                "Pkg NVR": self.nvr}


class DropVersions(BaseModel):
    """A drop's versions.csv: every package of the repository, by project."""

    source: str = Field(description="The URL (or file) it was read from.")
    packages: dict[str, PackageVersion]


ChangeKind = Literal["added", "removed", "changed"]


class PackageChange(BaseModel):
    """A package whose row differs between the last drop tested and this one."""

    project: str
    kind: ChangeKind
    old: PackageVersion | None = None
    new: PackageVersion | None = None
    fields: list[str] = Field(default_factory=list, description="The columns that differ (DLRN's names): "
                                                                "the compared ones, and Status.")

    @property
    def content_changed(self) -> bool:
        """The drop ships something new for it (a compared column moved, or it is new): worth a review.
        A Status alone moving (a build that failed keeps its last good row) is reported, not reviewed."""
        return self.kind == "added" or (self.kind == "changed" and any(f in COMPARED for f in self.fields))


class PackageOrigin(BaseModel):
    """Where a package comes from and who looks after it."""

    project: str
    distgit: str | None = Field(description="The distgit fetched: the drop's Dist Repo, where DLRN built its sha.")
    upstream: str | None = None
    maintainers: list[str] = Field(default_factory=list)
    component: str | None = None
    review_origin: str | None = Field(None, description="rdoinfo's review-origin: where a fix is proposed.")
    rdoinfo_distgit: str | None = Field(None, description="rdoinfo's master-distgit, when it is not the drop's.")
    known_from: Literal["rdoinfo", "drop"] = Field(description="rdoinfo, or the drop's own columns (no rdoinfo "
                                                               "given, or the package is not in it).")


CheckNews = Literal["new failure", "fixed", "changed"]


class CheckChange(BaseModel):
    """A check whose outcome differs from the previous version's review."""

    check: str
    text: str
    severity: Severity = "MUST"
    before: ItemStatus | None = Field(description="None: the previous version had no such check (or no review).")
    after: ItemStatus | None
    news: CheckNews
    evidence: list[str] = Field(default_factory=list, description="What the newer outcome rests on.")


class LintChange(BaseModel):
    """An rpmlint error that appeared or went away."""

    message: str
    news: Literal["new failure", "fixed"]


class BackendDiff(BaseModel):
    """One backend's review of a package's new version against its previous version's."""

    backend: Literal["static", "fedora-review"]
    nevr_before: str | None = None
    nevr_after: str | None = None
    verdict_before: Literal["pass", "fail"] | None = None
    verdict_after: Literal["pass", "fail"]
    news: list[CheckChange] = Field(default_factory=list)
    lint_news: list[LintChange] = Field(default_factory=list)
    unchanged: dict[str, int] = Field(default_factory=dict, description="Checks with the same outcome, by status.")
    still_failing: list[str] = Field(default_factory=list, description="Checks failing before and after.")
    compared_with: Literal["previous", "nothing"] = Field(
        "previous", description="'nothing': a new package, or its previous version could not be fetched: "
                                "its failures are all news.")
    review: PackageReview | None = Field(None, description="The new version's whole review.")

    @property
    def new_failures(self) -> list[str]:
        return ([c.check for c in self.news if c.news == "new failure"]
                + [m.message for m in self.lint_news if m.news == "new failure"])

    @property
    def fixed(self) -> list[str]:
        return [c.check for c in self.news if c.news == "fixed"] + [m.message for m in self.lint_news
                                                                     if m.news == "fixed"]


class PackageDiff(BaseModel):
    """A reviewed package: its change, its origin, each backend's difference, and what to know about it."""

    change: PackageChange
    origin: PackageOrigin
    diffs: list[BackendDiff]
    notes: list[str] = Field(default_factory=list)

    @property
    def has_new_failures(self) -> bool:
        return any(diff.new_failures for diff in self.diffs)


class FetchFailure(BaseModel):
    """A package that could not be reviewed: its distgit could not be fetched (or held no package)."""

    change: PackageChange
    origin: PackageOrigin
    error: ErrorRecord


class DropReview(BaseModel):
    """The review of what a drop changed: the partition of reviewed and failed packages, keyed by project."""

    base_url: str
    link: str = Field(description="The promotion link the drop was read behind (the memory's key).")
    drop: str = Field(description="The drop's full hash.")
    built: datetime | None = Field(None, description="When DLRN built the drop.")
    previous: str | None = Field(description="The last drop tested behind the link; None for the first.")
    baseline: bool = Field(False, description="The first drop tested: recorded as the baseline, not reviewed.")
    packages: int = Field(0, description="Packages in the drop.")
    changes: list[PackageChange] = Field(default_factory=list)
    reviewed: dict[str, PackageDiff] = Field(default_factory=dict)
    failed: dict[str, FetchFailure] = Field(default_factory=dict)
    not_reviewed: dict[str, str] = Field(default_factory=dict, description="Changed, and why no review: "
                                                                           "removed, or only its Status moved.")
    reports: dict[str, str] = Field(default_factory=dict, description="Where the reports were written, by kind.")

    @property
    def verdict(self) -> Literal["pass", "fail"]:
        """Red: a package could not be reviewed, or a check newly fails."""
        return "fail" if self.failed or any(d.has_new_failures for d in self.reviewed.values()) else "pass"

    def new_failures(self) -> dict[str, list[str]]:
        """Per package, the checks (and rpmlint errors) that newly fail, with the backend when it is not static."""
        found = {}
        for project, package in self.reviewed.items():
            names = [name if diff.backend == "static" else f"{name} ({diff.backend})"
                     for diff in package.diffs for name in diff.new_failures]
            if names:
                found[project] = names
        return found


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


class InstalledChange(BaseModel):
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
    changes: list[InstalledChange] = Field(default_factory=list, description="What changed (of the site's "
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

    def stage_report(self) -> StageReport:
        """Its overcloud steps as an upgrade's: what the workload watched across it is judged against."""
        return StageReport(stage="apply-drop", site=self.site, stack=self.stack, steps=self.steps)
