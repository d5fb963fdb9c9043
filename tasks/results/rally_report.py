"""Rally task results (``rally task report --json``, format 1.x) as reader rows.

Each workload (a scenario with its runner) is one row, ``rally.<Scenario.name>``: pass when every iteration
succeeded, fail otherwise with the first iterations' errors as the reason; its duration is the mean of its
successful iterations (of all of them when none succeeded), so the comparison's "slower" sees a slower
scenario. Each SLA criterion of the workload is a row of its own, ``rally.<Scenario.name>.sla.<criterion>``:
pass or fail with Rally's detail as the reason ("Maximum seconds per iteration 3.2s <= 0.5s - Failed").
A scenario run twice in the tasks is told apart by its position: ``rally.<Scenario.name>.<n>`` from the second.

The file is hostile input: its size and the number of tasks, workloads and iterations read are bounded, and
an error names the file and the field (``tasks[0].subtasks[1].workloads[0].data``), never quotes its values.
"""

from __future__ import annotations

import json
import math
import re

from rdoflow.tasks.results.model import ResultFileError, trim

MAX_BYTES = 256 * 1024 * 1024
MAX_WORKLOADS = 10_000
MAX_ITERATIONS = 1_000_000  # per workload
ERRORS_SHOWN = 3  # distinct iteration errors quoted in a failed scenario's reason
HEAD = re.compile(rb'^\s*\{\s*"info"\s*:')
NAME = re.compile(r"^[A-Za-z0-9_.@-]{1,200}$")


def is_rally_report(data: bytes) -> bool:
    """The file starts as Rally's JSON report does (``{"info": ...``), not as a script suite's JSON lines."""
    return bool(HEAD.match(data[:200]))


def read_rally_report(source: str, data: bytes) -> list[dict]:
    if len(data) > MAX_BYTES:
        raise ResultFileError(source, f"a Rally report of {len(data)} bytes: more than the {MAX_BYTES} read")
    try:
        report = json.loads(data)
    except (json.JSONDecodeError, UnicodeDecodeError, RecursionError) as exc:
        where = f"line {exc.lineno}: {exc.msg}" if isinstance(exc, json.JSONDecodeError) else type(exc).__name__
        raise ResultFileError(source, f"not a Rally JSON report: {where}") from None
    tasks = _field(source, report, "tasks", list, "")
    rows: list[dict] = []
    seen: dict[str, int] = {}
    workloads = 0
    for t, task in enumerate(tasks):
        for s, subtask in enumerate(_field(source, task, "subtasks", list, f"tasks[{t}]")):
            for w, workload in enumerate(_field(source, subtask, "workloads", list, f"tasks[{t}].subtasks[{s}]")):
                workloads += 1
                if workloads > MAX_WORKLOADS:
                    raise ResultFileError(source, f"more than {MAX_WORKLOADS} workloads: not read further")
                rows += _workload_rows(source, workload, f"tasks[{t}].subtasks[{s}].workloads[{w}]", seen)
    return rows


def _workload_rows(source: str, workload: object, where: str, seen: dict[str, int]) -> list[dict]:
    scenario = _field(source, workload, "scenario", dict, where)
    if len(scenario) != 1 or not isinstance(name := next(iter(scenario)), str) or not NAME.match(name):
        raise ResultFileError(source, f"{where}.scenario: expected one scenario name (letters, digits, '._@-')")
    seen[name] = seen.get(name, 0) + 1
    test_id = f"rally.{name}" + (f".{seen[name]}" if seen[name] > 1 else "")
    iterations = _field(source, workload, "data", list, where)
    if len(iterations) > MAX_ITERATIONS:
        raise ResultFileError(source, f"{where}.data: more than {MAX_ITERATIONS} iterations")
    durations, failed_durations, errors, failed = [], [], [], 0
    for i, iteration in enumerate(iterations):
        duration = _field(source, iteration, "duration", (int, float), f"{where}.data[{i}]")
        error = iteration.get("error") or []
        if not isinstance(error, list):
            raise ResultFileError(source, f"{where}.data[{i}].error: expected a list (type, message, traceback)")
        if error:
            failed += 1
            failed_durations.append(duration)
            text = ": ".join(str(part) for part in error[:2])
            if text not in errors and len(errors) < ERRORS_SHOWN:
                errors.append(text)
        else:
            durations.append(duration)
    if not iterations:
        status, reason = "fail", "the scenario ran no iteration"
    elif failed:
        status = "fail"
        reason = f"{failed} of {len(iterations)} iterations failed: " + "; ".join(errors)
    else:
        status, reason = "pass", ""
    measured = durations or failed_durations
    mean = sum(measured) / len(measured) if measured else None
    if mean is not None and not math.isfinite(mean):
        raise ResultFileError(source, f"{where}.data: an iteration's duration is not a finite number")
    rows = [{"raw_id": test_id, "status": status, "duration": mean, "reason": trim(reason), "worker": ""}]
    sla = _field(source, _field(source, workload, "sla_results", dict, where), "sla", list, f"{where}.sla_results")
    for c, criterion in enumerate(sla):
        at = f"{where}.sla_results.sla[{c}]"
        kind = _field(source, criterion, "criterion", str, at)
        if not NAME.match(kind):
            raise ResultFileError(source, f"{at}.criterion: expected a name (letters, digits, '._@-')")
        success = _field(source, criterion, "success", bool, at)
        detail = criterion.get("detail", "")
        rows.append({"raw_id": f"{test_id}.sla.{kind}", "status": "pass" if success else "fail", "duration": None,
                     "reason": trim(detail if isinstance(detail, str) else ""), "worker": ""})
    return rows


def _field(source: str, holder: object, key: str, kind: type | tuple[type, ...], where: str):
    at = f"{where}.{key}" if where else key
    if not isinstance(holder, dict):
        raise ResultFileError(source, f"{where or 'the report'}: expected an object")
    if key not in holder:
        raise ResultFileError(source, f"{at}: missing (is it 'rally task report --json' output?)")
    value = holder[key]
    if not isinstance(value, kind) or (kind is not bool and isinstance(value, bool)):
        names = " or ".join(k.__name__ for k in (kind if isinstance(kind, tuple) else (kind,)))
        raise ResultFileError(source, f"{at}: expected {names}, got {type(value).__name__}")
    return value
