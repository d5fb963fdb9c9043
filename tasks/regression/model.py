"""The regression domain's model: one stored run of the suite, its counts and its failed tests (plain types)."""

from __future__ import annotations

from pydantic import BaseModel, Field

from rdoflow.tasks.results.model import AreaResults, RunMeta

FAILED_SHOWN = 200  # failed tests listed in the table artifact and the report
COUNTED = ("pass", "fail", "skip", "error", "xfail", "uxsuccess")


class FailedTest(BaseModel):
    test_id: str
    status: str = Field(description="fail, uxsuccess, or error (a class or module fixture that failed).")
    reason: str = Field(description="The start of the traceback or of the script's output.")


class RegressionRun(BaseModel):
    """One stored run of the regression suite: what the lead compares (tables read back from the store)."""

    meta: RunMeta = Field(description="The run's identity and metadata, as stored.")
    location: str = Field(description="The run's partition in the results store.")
    counts: dict[str, int] = Field(description="Results by status (pass, fail, skip, error, xfail, uxsuccess), "
                                               "and 'tests' for the total.")
    result_file: str = Field(description="The raw results: the local copy in the report directory, or "
                                         "(none given) the copy in the store.")
    raw_stored: str = Field(description="Where the raw results were copied in the store.")
    duration: float = Field(description="Seconds the suite ran on the host.")
    expected: int = Field(description="Tests the include/exclude lists selected before the run.")
    failed: list[FailedTest] = Field(description=f"The failed tests (the first {FAILED_SHOWN}).")
    areas: list[AreaResults] = Field(default_factory=list, description="Results by area of the inspection "
                                     "catalogue, in its order (areas with tests only).")
    report: str | None = Field(None, description="The Markdown summary's file, when report_dir was given.")
    handover: dict[str, str] = Field(default_factory=dict, description="The handover report's files (html, md), "
                                                                       "when report_dir was given.")
