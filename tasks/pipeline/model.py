"""The pipeline domain's model: what a pipeline run did, stage by stage, and its verdict (plain types)."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

from rdoflow.outcome import Outcome


class StageOutcome(BaseModel):
    """One stage of a pipeline run."""

    stage: str
    outcome: Outcome
    seconds: float = 0.0
    summary: str = ""
    error: str = ""
    reference: str = ""
    evidence: list[str] = Field(default_factory=list)
    hint: str = ""


class PipelineSummary(BaseModel):
    """What a pipeline run did, stage by stage, and its verdict."""

    pipeline: str
    site: str
    drop: str = ""
    stages: list[StageOutcome] = Field(default_factory=list)
    verdict: Literal["pass", "fail", "running"] = "running"
    reports: dict[str, str] = Field(default_factory=dict)

    @property
    def failed(self) -> StageOutcome | None:
        return next((stage for stage in self.stages if stage.outcome == "fail"), None)
