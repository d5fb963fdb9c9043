"""One result model for a package review, whichever backend produced it (built-in static or fedora-review)."""

from __future__ import annotations

import re
from collections import Counter
from typing import Literal

from pydantic import BaseModel, Field

from rdoflow.redaction import redact

ItemStatus = Literal["pass", "fail", "not_applicable", "needs_human", "error"]
Severity = Literal["MUST", "SHOULD", "EXTRA"]
STATUSES: tuple[ItemStatus, ...] = ("pass", "fail", "not_applicable", "needs_human", "error")
# How a review ticket marks each status (fedora-review's legend; [E] is ours: the check could not run).
MARKS: dict[ItemStatus, str] = {"pass": "[x]", "fail": "[!]", "not_applicable": "[-]", "needs_human": "[ ]",
                                "error": "[E]"}


class ReviewItem(BaseModel):
    """One checklist item: what was checked, its verdict and the evidence for it."""

    check: str = Field(description="Check name, e.g. CheckSpecName (fedora-review's names where they exist).")
    text: str = Field(description="What the check asks, as a reviewer reads it.")
    status: ItemStatus
    severity: Severity = "MUST"
    group: str = "Generic"
    evidence: list[str] = Field(default_factory=list, description="What the verdict rests on.")
    url: str | None = None


class LintMessage(BaseModel):
    """One rpmlint finding."""

    target: str = Field(description="Package (name.arch) or spec file (file.spec:LINE) it is about.")
    level: Literal["E", "W", "I"]
    id: str
    details: str = ""

    def render(self) -> str:
        return f"{self.target}: {self.level}: {self.id} {self.details}".rstrip()


class PackageReview(BaseModel):
    """A whole package's review."""

    package: str = Field(description="The path or URL the review was asked for.")
    name: str | None = None
    nevr: str | None = None
    backend: Literal["static", "fedora-review"]
    sha256: str | None = Field(None, description="Of the SRPM, or of the spec and the sources given with it.")
    items: list[ReviewItem] = Field(default_factory=list)
    lint: list[LintMessage] = Field(default_factory=list)
    error: str | None = Field(None, description="Why the review could not be completed, when it could not.")
    notes: list[str] = Field(default_factory=list, description="Tool versions, command lines, settings.")

    def counts(self) -> dict[str, int]:
        found = Counter(item.status for item in self.items)
        return {status: found.get(status, 0) for status in STATUSES}

    def lint_errors(self) -> list[LintMessage]:
        return [message for message in self.lint if message.level == "E"]

    @property
    def failed(self) -> bool:
        """Red: a MUST item failed or errored, rpmlint found errors, or the review did not complete."""
        must_broken = any(item.status in ("fail", "error") and item.severity == "MUST" for item in self.items)
        return self.error is not None or must_broken or bool(self.lint_errors())

    @property
    def verdict(self) -> Literal["pass", "fail"]:
        return "fail" if self.failed else "pass"

    def failures(self) -> list[ReviewItem]:
        return [item for item in self.items if item.status in ("fail", "error")]

    def redacted(self) -> PackageReview:
        """The review with every credential-shaped ``name: value`` masked in what the package or a tool said
        (item texts and evidence, rpmlint's details, the error, the notes)."""
        items = [item.model_copy(update={"text": redact(item.text), "evidence": [redact(e) for e in item.evidence]})
                 for item in self.items]
        lint = [message.model_copy(update={"details": redact(message.details)}) for message in self.lint]
        return self.model_copy(update={"items": items, "lint": lint, "notes": [redact(n) for n in self.notes],
                                       "error": redact(self.error) if self.error else self.error})


_LINT_LINE = re.compile(r"^(?P<target>\S+): (?P<level>[EWI]): (?P<id>\S+)\s*(?P<details>.*)$")


def lint_messages(text: str) -> list[LintMessage]:
    """rpmlint's finding lines (``pkg.arch: E: id details``, ``file.spec:LINE: W: id``); other lines ignored."""
    found = []
    for line in text.splitlines():
        match = _LINT_LINE.match(line.strip())
        if match:
            found.append(LintMessage(**match.groupdict()))
    return found
