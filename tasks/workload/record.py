"""The upgrade checks as Prefect tasks, and their rows added to the pre- and post-upgrade runs' tables."""

from __future__ import annotations

from prefect import task
from prefect.cache_policies import NO_CACHE

from rdoflow.config.site import SiteConfig
from rdoflow.tasks.overcloud.model import StageReport
from rdoflow.tasks.results.model import RunMeta
from rdoflow.tasks.results.runs import add_rows
from rdoflow.tasks.workload.judge import validation_rows, workload_rows
from rdoflow.tasks.workload.model import CheckResult, WorkloadReport
from rdoflow.tasks.workload.watch import Watch, leave_report


@task(name="workload-judged", task_run_name="workload judged", cache_policy=NO_CACHE)
def judge_workload(watch: Watch | None, report: StageReport) -> WorkloadReport | None:
    """Stop watching and judge the workload (None: the site has none); its report as an artifact."""
    if watch is None:
        return None
    judged = watch.finish(report)
    leave_report(judged)
    return judged


def check_rows(pre: list[CheckResult], post: list[CheckResult], workload: WorkloadReport | None
               ) -> tuple[list[dict], list[dict]]:
    """The rows each run gets, in the reader's shape (raw_id, status, duration, reason, worker)."""
    before, after = validation_rows(pre, post)
    if workload is not None:
        workload_before, workload_after = workload_rows(workload)
        before, after = [workload_before, *before], [workload_after, *after]
    shaped = [[{"raw_id": row.test_id, "status": row.status, "duration": row.duration, "reason": row.reason,
                "worker": ""} for row in rows] for rows in (before, after)]
    return shaped[0], shaped[1]


@task(name="record-upgrade-checks", task_run_name="record upgrade checks", cache_policy=NO_CACHE)
def record_checks(site: SiteConfig, pre: RunMeta, post: RunMeta, validated_pre: list[CheckResult],
                  validated_post: list[CheckResult], workload: WorkloadReport | None) -> int:
    """Add the validations' and the workload's rows to both stored runs; how many rows each run got."""
    before, after = check_rows(validated_pre, validated_post, workload)
    add_rows(pre, site.results.location, before)
    add_rows(post, site.results.location, after)
    return len(after)
