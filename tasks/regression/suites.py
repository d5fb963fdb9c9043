"""Running a regression suite on the undercloud over SSH: Tempest with stestr or Rally, or a directory of scripts.

Each run leaves the suite's raw results copied to a local file (``SuiteRun``).
Failing tests are results, not errors; what is an error is a run that could not
say anything: nothing selected, nothing ran, a crash with no results, a timeout.
Everything the stage puts on the host goes to ``<workdir>/.rdoflow/``.
"""

from __future__ import annotations

import json
import logging
import re
import shutil
import tempfile
from collections.abc import Callable
from datetime import datetime, timezone
from pathlib import Path

from prefect.exceptions import MissingContextError
from prefect.logging import get_run_logger
from pydantic import BaseModel, Field

from rdoflow.blocks.ssh import SSHHost
from rdoflow.config.site import RegressionSite
from rdoflow.errors import ConfigError, RemoteCommandFailed, ResourceFailed
from rdoflow.outcome import CommandResult
from rdoflow.redaction import redact
from rdoflow.tasks.progress import StageProgress
from rdoflow.tasks.ssh.processes import wait_until_ended
from rdoflow.tasks.ssh.remote import RemoteCommandTimeout, get, put, run

RUNNER = Path(__file__).resolve().parent / "run_scripts.py"
RALLY_TASKS = Path(__file__).resolve().parent / "rally_tasks"  # the shipped tasks, <name>.yaml, and their files
STAGING = ".rdoflow"
NOTHING_MATCHED = 3  # run_scripts.py's exit status when no script matched the filters
# subunit-trace's line for a finished test: "{worker} test.id[tags] [0.12s] ... ok | FAILED | SKIPPED: why"
TEST_LINE = re.compile(r"^\{\d+\} \S+.* \.\.\. (ok|FAILED|SKIPPED|xfail|uxsuccess)\b")
SCRIPT_TOTAL = re.compile(r"^rdoflow-scripts total (\d+)$")
SCRIPT_DONE = re.compile(r"^rdoflow-scripts done (\d+)/(\d+) ")
# Rally's line per test (a log line prefix may come first): "{0} test.id [0.32s] ... success"
RALLY_TEST_LINE = re.compile(r"\{\d+\} \S+.* \.\.\. (success|fail|skip|xfail|uxsuccess)\b")
RALLY_UUID = re.compile(r"[Vv]erification \(UUID=([0-9a-f-]{36})\)")
# 'rally task start' prints "Task <tags> <uuid>: started"; each iteration ends with "ITER: N END: ..."
RALLY_TASK_UUID = re.compile(r"^Task\b.*?\b([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}): started")
RALLY_ITERATION = re.compile(r"ITER: \d+ END:")
# Rally's own database and settings for rdoflow's runs, in the staging directory (its default is /tmp's)
RALLY_CONF = "[database]\nconnection = sqlite:///{staging}/rally.sqlite\n"
# The credentials file's variables, exported, for the command after it ("$1": the file, "$@": the command)
SOURCED = 'set -a && . "$1" && set +a && shift && exec "$@"'


class NothingRan(ResourceFailed):
    """The suite selected no test, or none ran: an empty run is not a pass."""

    reference = "regression-nothing-ran"


class SuiteCrashed(RemoteCommandFailed):
    """The suite's command ended without leaving results."""

    reference = "regression-no-results"


class SuiteRun(BaseModel):
    """One run of the suite on the host: how it went, and the local copy of its raw results."""

    kind: str = Field(description="tempest, rally, rally-task or scripts.")
    label: str = Field(description="pre or post.")
    host: str = Field(description="user@host:port it ran on.")
    workdir: str = Field(description="Directory on the host it ran in.")
    started_at: datetime = Field(description="When the run started (UTC).")
    duration: float = Field(description="Seconds the suite's command took.")
    expected: int = Field(description="Tests (or scripts) the include/exclude lists selected.")
    exit_status: int | None = Field(description="Exit status of 'stestr run', 'rally verify start' or the script "
                                                "runner.")
    result_file: str = Field(description="Local copy of the raw results (subunit, Rally's JUnit XML, or the "
                                         "scripts' results.jsonl).")
    scratch: bool = Field(False, description="The result file is in a temporary directory of its own, "
                                             "removed once the run is stored.")


def run_suite(host: SSHHost, regression: RegressionSite, label: str, local_dir: Path | None) -> SuiteRun:
    """Run the site's suite on ``host`` and copy its results to ``local_dir``; if None, to a temporary
    directory of the run's own (``SuiteRun.scratch``), removed here when the run fails and by the stage once
    the run is stored (``remove_scratch``)."""
    if local_dir is not None:
        Path(local_dir).mkdir(parents=True, exist_ok=True)
        return _run_suite(host, regression, label, Path(local_dir))
    scratch = Path(tempfile.mkdtemp(prefix="rdoflow-regression-"))
    try:
        return _run_suite(host, regression, label, scratch).model_copy(update={"scratch": True})
    except BaseException:
        shutil.rmtree(scratch, ignore_errors=True)
        raise


def remove_scratch(suite_run: SuiteRun) -> None:
    """Remove the temporary directory a run's result file was fetched to (none when it was given one)."""
    if suite_run.scratch:
        shutil.rmtree(Path(suite_run.result_file).parent, ignore_errors=True)


def _run_suite(host: SSHHost, regression: RegressionSite, label: str, local_dir: Path) -> SuiteRun:
    if regression.kind == "rally-task":  # only Rally's database and reports go there: made where missing
        run(host, ["mkdir", "-p", "--", regression.workdir], timeout=60, log_output=False)
    # From the root: the commands run in it, and the lists staged in it are named from there.
    workdir = run(host, ["sh", "-c", 'cd -- "$1" && pwd', "rdoflow-workdir", regression.workdir], timeout=60,
                  check=False, log_output=False)
    if workdir.exit_status != 0:
        raise ConfigError("site", [f"regression.workdir: {regression.workdir} is not a directory on {workdir.host}"],
                          hint="point it at the Tempest workspace (where .stestr.conf is) or the scripts' directory")
    regression = regression.model_copy(update={"workdir": workdir.stdout.strip()})
    staging = f"{regression.workdir.rstrip('/')}/{STAGING}"
    run(host, ["mkdir", "-p", staging], timeout=60, log_output=False)
    if regression.kind == "rally":  # Rally takes no regex lists: the filters select the tests here
        return _run_rally(host, regression, label, staging, local_dir)
    if regression.kind == "rally-task":
        return _run_rally_tasks(host, regression, label, staging, local_dir)
    options = _upload_filters(host, regression, staging)
    runner = _run_tempest if regression.kind == "tempest" else _run_scripts
    return runner(host, regression, label, staging, options, local_dir)


def _upload_filters(host: SSHHost, regression: RegressionSite, staging: str) -> list[str]:
    """The include/exclude regexes as files on the host, one per line; the options that name them."""
    options = []
    include, exclude = regression.test_filters()
    with tempfile.TemporaryDirectory(prefix="rdoflow-filters-") as scratch:
        for option, patterns in (("--include-list", include), ("--exclude-list", exclude)):
            if not patterns:
                continue
            name = f"{option.removeprefix('--')}.txt"
            local = Path(scratch) / name
            local.write_text("".join(f"{pattern}\n" for pattern in patterns))
            put(host, local, f"{staging}/{name}")
            options += [option, f"{staging}/{name}"]
    return options


def _stamp(moment: datetime) -> str:
    return moment.strftime("%Y%m%dT%H%M%SZ")


def _progress(kind: str, label: str, total: int) -> StageProgress:
    return StageProgress(f"regression-{label}", f"{kind} run ({label}-upgrade): tests done", total)


def _logger() -> logging.Logger | logging.LoggerAdapter:
    try:
        return get_run_logger()
    except MissingContextError:
        return logging.getLogger("rdoflow.regression")


def _counting(pattern: re.Pattern, progress: StageProgress) -> Callable[[str, str], None]:
    """Counts (and logs) the suite's per-test result lines. The rest of its output, tracebacks that may
    quote request bodies with the test users' passwords, stays out of the run log: it is in the results."""
    done = 0

    def on_line(stream: str, line: str) -> None:
        nonlocal done
        if stream == "stdout" and pattern.search(line):
            done += 1
            progress.update(done)
            _logger().info("%s", line)
    return on_line


def _next_stream(host: SSHHost, workdir: str) -> int | None:
    """The id stestr gives its next run (``.stestr/next-stream``); None when there is no repository yet."""
    found = run(host, ["cat", ".stestr/next-stream"], cwd=workdir, timeout=60, check=False, log_output=False)
    text = found.stdout.strip()
    return int(text) if found.exit_status == 0 and text.isdigit() else None


def _run_tempest(host: SSHHost, regression: RegressionSite, label: str, staging: str, options: list[str],
                 local_dir: Path) -> SuiteRun:
    workdir = regression.workdir
    argv = ["stestr", "run", "--concurrency", str(regression.concurrency), *options]
    # A run a dropped session left going still writes its stream: this run's must be the next one.
    wait_until_ended(host, argv, budget=regression.timeout, what="stestr run")
    stream_id = _next_stream(host, workdir)
    if stream_id is None:
        run(host, ["stestr", "init"], cwd=workdir, timeout=120)
        stream_id = _next_stream(host, workdir) or 0
    listed = run(host, ["stestr", "list", *options], cwd=workdir, timeout=900, log_output=False,
                 keep_lines=1_000_000)
    total = sum(1 for line in listed.stdout.splitlines() if line.strip())
    if total == 0:
        raise NothingRan(f"the include/exclude lists select no test of the Tempest suite in {workdir}",
                         evidence=_filters_shown(regression),
                         hint="check regression.selection, areas, include and exclude in the site config "
                              "('stestr list' in the workdir shows the test ids they are matched against)")
    progress = _progress("tempest", label, total)
    started = datetime.now(timezone.utc)
    result = run(host, argv, cwd=workdir, timeout=regression.timeout, check=False, log_output=False,
                 on_line=_counting(TEST_LINE, progress))
    _refuse_timeout(result, regression.timeout)
    check_one_stream(result, workdir, stream_id, _next_stream(host, workdir))
    local = local_dir / f"regression-{label}-{_stamp(started)}.subunit"
    get(host, f"{workdir.rstrip('/')}/.stestr/{stream_id}", local)
    progress.finish()
    return SuiteRun(kind="tempest", label=label, host=result.host, workdir=workdir, started_at=started,
                    duration=result.duration, expected=total, exit_status=result.exit_status, result_file=str(local))


def check_one_stream(result: CommandResult, workdir: str, stream_id: int, next_id: int | None) -> None:
    """The run added exactly one stream to the repository: stream ``stream_id`` is this run's."""
    if next_id == stream_id + 1:
        return
    if next_id is not None and next_id > stream_id + 1:
        raise SuiteCrashed(f"another stestr run wrote to the repository in {workdir} at the same time (streams "
                           f"{stream_id} to {next_id - 1}): this run's results cannot be told apart",
                           evidence=result.tail(5), hint="a run cut by an SSH drop may still run on the host: stop "
                                                         "it ('pgrep -af \"stestr run\"'), then run the stage again")
    raise SuiteCrashed(f"stestr run in {workdir} on {result.host} left no results (exit status "
                       f"{result.exit_status}; the repository has no stream {stream_id})", evidence=result.tail(),
                       hint="the suite did not start: read the output above (an import error, a missing "
                            "tempest.conf, a broken .stestr.conf)")


def _run_scripts(host: SSHHost, regression: RegressionSite, label: str, staging: str, options: list[str],
                 local_dir: Path) -> SuiteRun:
    started = datetime.now(timezone.utc)
    runner = f"{staging}/run_scripts.py"
    results = f"{staging}/results-{label}-{_stamp(started)}.jsonl"
    put(host, RUNNER, runner, mode=0o755)
    progress: StageProgress | None = None  # the runner says how many scripts it selected first

    def on_line(stream: str, line: str) -> None:
        nonlocal progress
        if stream != "stdout":
            return
        if total := SCRIPT_TOTAL.match(line):
            progress = _progress("scripts", label, int(total.group(1)))
        elif (done := SCRIPT_DONE.match(line)) and progress is not None:
            progress.update(int(done.group(1)))
            _logger().info("%s", line)

    argv = ["python3", runner, "--dir", regression.workdir, "--results", results,
            "--concurrency", str(regression.concurrency), "--timeout", str(regression.script_timeout), *options]
    result = run(host, argv, timeout=regression.timeout, check=False, on_line=on_line, log_output=False)
    _refuse_timeout(result, regression.timeout)
    if result.exit_status == NOTHING_MATCHED:
        raise NothingRan(f"no executable script in {regression.workdir} was selected", evidence=result.tail(5),
                         hint="check regression.workdir (a directory of executable scripts) and regression.include/"
                              "exclude (matched against the scripts' file names)")
    if result.exit_status != 0:
        raise SuiteCrashed(f"the script runner failed on {result.host} with exit status {result.exit_status}",
                           evidence=result.tail(), hint="read the runner's error above; is python3 installed "
                                                        "on the host and regression.workdir a directory?")
    local = local_dir / f"regression-{label}-{_stamp(started)}.jsonl"
    get(host, results, local)
    if progress is not None:
        progress.finish()
    return SuiteRun(kind="scripts", label=label, host=result.host, workdir=regression.workdir, started_at=started,
                    duration=result.duration, expected=int(progress.total) if progress else 0,
                    exit_status=result.exit_status, result_file=str(local))


def selected_tests(test_ids: list[str], include: list[str], exclude: list[str]) -> list[str]:
    """stestr's filter rules: kept when some include regex matches (or there is none) and no exclude does."""
    wanted, unwanted = [re.compile(p) for p in include], [re.compile(p) for p in exclude]
    return [test for test in test_ids if (not wanted or any(p.search(test) for p in wanted))
            and not any(p.search(test) for p in unwanted)]


def _run_rally(host: SSHHost, regression: RegressionSite, label: str, staging: str, local_dir: Path) -> SuiteRun:
    """``rally verify start --load-list F --concurrency N`` with the tests the lists select, then
    ``rally verify report --type junit-xml`` of that verification, fetched over SFTP."""
    listed = run(host, ["rally", "verify", "list-verifier-tests"], cwd=regression.workdir, timeout=900,
                 log_output=False, keep_lines=1_000_000)
    ids = [line.strip() for line in listed.stdout.splitlines() if re.match(r"^[\w.]+(\[[^\]]*\])?$", line.strip())]
    tests = selected_tests(ids, *regression.test_filters())
    if not tests:
        raise NothingRan(f"the include/exclude lists select none of the {len(ids)} tests of Rally's verifier",
                         evidence=_filters_shown(regression),
                         hint="check regression.selection, areas, include and exclude ('rally verify "
                              "list-verifier-tests' shows the test ids they are matched against)")
    started = datetime.now(timezone.utc)
    stamp = f"{label}-{_stamp(started)}"
    with tempfile.TemporaryDirectory(prefix="rdoflow-rally-") as scratch:
        load_list = Path(scratch) / "load-list.txt"
        load_list.write_text("".join(f"{test}\n" for test in tests))
        put(host, load_list, f"{staging}/rally-load-list-{stamp}.txt")
    progress = _progress("rally", label, len(tests))
    result = run(host, ["rally", "verify", "start", "--load-list", f"{staging}/rally-load-list-{stamp}.txt",
                        "--concurrency", str(regression.concurrency)], cwd=regression.workdir,
                 timeout=regression.timeout, check=False, log_output=False,
                 on_line=_counting(RALLY_TEST_LINE, progress))
    _refuse_timeout(result, regression.timeout)
    verification = RALLY_UUID.findall(result.stdout + "\n" + result.stderr)
    if not verification:
        raise SuiteCrashed(f"rally verify start on {result.host} named no verification (exit status "
                           f"{result.exit_status})", evidence=result.tail(),
                           hint="read Rally's output above: is a verifier installed and configured "
                                "('rally verify list-verifiers')?")
    report = f"{staging}/rally-{stamp}.xml"
    run(host, ["rally", "verify", "report", "--uuid", verification[-1], "--type", "junit-xml", "--to", report],
        cwd=regression.workdir, timeout=600)
    local = local_dir / f"regression-{stamp}.junit.xml"
    get(host, report, local)
    progress.finish()
    return SuiteRun(kind="rally", label=label, host=result.host, workdir=regression.workdir, started_at=started,
                    duration=result.duration, expected=len(tests), exit_status=result.exit_status,
                    result_file=str(local))


def _run_rally_tasks(host: SSHHost, regression: RegressionSite, label: str, staging: str,
                     local_dir: Path) -> SuiteRun:
    """Each of ``regression.rally.tasks`` with ``rally task start`` in an environment made from the credentials
    file (sourced on the host, never read here), then one ``rally task report --json`` of them all, fetched.

    Rally's database is ``<staging>/rally.sqlite`` (its settings in ``<staging>/rally.conf``): not /tmp's,
    which other users of the host share. A task whose SLA fails is a result; a task Rally could not start
    (no task id in its output) is a crash."""
    settings = regression.rally
    home = run(host, ["pwd"], timeout=60, log_output=False).stdout.strip()  # commands start in the home
    credentials = _under_home(home, settings.credentials)
    started = datetime.now(timezone.utc)
    stamp = f"{label}-{_stamp(started)}"
    conf = f"{staging}/rally.conf"
    with tempfile.TemporaryDirectory(prefix="rdoflow-rally-") as scratch:
        local_conf = Path(scratch) / "rally.conf"
        local_conf.write_text(RALLY_CONF.format(staging=staging))
        put(host, local_conf, conf)
        shipped = [name for name in settings.tasks if "/" not in name]
        if shipped:
            run(host, ["mkdir", "-p", f"{staging}/rally-tasks"], timeout=60, log_output=False)
            for file in sorted(RALLY_TASKS.iterdir()):
                if file.suffix == ".yaml":
                    put(host, file, f"{staging}/rally-tasks/{file.name}")
    rally = ["rally", "--config-file", conf]
    run(host, ["sh", "-c", 'umask 077 && exec "$@"', "rdoflow-rally", *rally, "db", "ensure"],
        cwd=regression.workdir, timeout=600)
    env_name = f"rdoflow-{stamp}"
    created = run(host, ["bash", "-c", SOURCED, "rdoflow-rally", credentials, *rally, "env", "create",
                         "--from-sysenv", "--name", env_name, "--no-use"], cwd=regression.workdir, timeout=600,
                  check=False, log_output=False)
    if created.exit_status != 0:
        raise SuiteCrashed(f"rally env create --from-sysenv failed on {created.host} with exit status "
                           f"{created.exit_status} (credentials: {credentials})",
                           evidence=[redact(line) for line in created.tail(10)],
                           hint="check regression.rally.credentials: a file of OS_* variables for the cloud "
                                "('source' it and run 'openstack token issue'); is Rally installed (rally-openstack)?")
    task_args = {"heat_template": f"{staging}/rally-tasks/random-string.hot.yaml", **settings.task_args}
    progress = _progress("rally-task", label, len(settings.tasks))
    uuids, duration, exit_status = [], 0.0, 0
    for done, task in enumerate(settings.tasks, 1):
        file = f"{staging}/rally-tasks/{task}.yaml" if "/" not in task else _under_home(home, task)
        found: list[str] = []  # read as it comes: a long run's output keeps only its last lines
        result = run(host, [*rally, "task", "start", "--task", file, "--env", env_name, "--task-args",
                            json.dumps(task_args), "--no-use"], cwd=regression.workdir, timeout=regression.timeout,
                     check=False, log_output=False, on_line=_rally_task_lines(found))
        _refuse_timeout(result, regression.timeout)
        if not found:
            raise SuiteCrashed(f"rally task start {file} on {result.host} started no task (exit status "
                               f"{result.exit_status})", evidence=result.tail(),
                               hint="read Rally's output above: a task file that does not validate, a missing "
                                    "file, a service the environment does not have ('rally env check')")
        uuids.append(found[-1])
        duration += result.duration
        exit_status = exit_status or (result.exit_status or 0)
        progress.update(done)
    report = f"{staging}/rally-task-{stamp}.json"
    run(host, [*rally, "task", "report", *uuids, "--json", "--out", report], cwd=regression.workdir,
        timeout=600, log_output=False)
    local = local_dir / f"regression-{stamp}.rally.json"
    get(host, report, local)
    progress.finish()
    return SuiteRun(kind="rally-task", label=label, host=created.host, workdir=regression.workdir,
                    started_at=started, duration=duration, expected=len(settings.tasks), exit_status=exit_status,
                    result_file=str(local))


def _rally_task_lines(found: list[str]) -> Callable[[str, str], None]:
    """Keeps the task id 'rally task start' prints in ``found`` and logs its iteration ends; the rest of its
    output stays out of the run log."""
    def on_line(stream: str, line: str) -> None:
        if stream == "stdout" and (match := RALLY_TASK_UUID.search(line)):
            found.append(match.group(1))
            _logger().info("%s", line)
        elif RALLY_ITERATION.search(line):
            _logger().info("%s", line)
    return on_line


def _under_home(home: str, path: str) -> str:
    return path if path.startswith("/") else f"{home.rstrip('/')}/{path.removeprefix('~/')}"


def _filters_shown(regression: RegressionSite) -> list[str]:
    include, exclude = regression.test_filters()
    chosen = [f"selection: {regression.selection}"] if regression.selection else []
    chosen += [f"areas: {regression.areas}"] if regression.areas else []
    return chosen + [f"include: {include}", f"exclude: {exclude}"]


def _refuse_timeout(result: CommandResult, budget: int) -> None:
    if result.status == "timeout":
        error = RemoteCommandTimeout(
            f"the regression run ({result.command}) on {result.host} was killed after {result.duration:.0f} s "
            f"(regression.timeout: {budget} s)", evidence=result.tail(),
            hint="raise regression.timeout in the site config, or find the test that hangs in the output above")
        error.result = result
        raise error
