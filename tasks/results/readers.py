"""Reading result files of any supported format into reader rows; the format is told from the content.

Formats: subunit v2 (what ``stestr last --subunit`` and ``tempest run --subunit``
write), subunit v1 (stestr repository files), JUnit XML (``subunit2junitxml``,
Rally, most CI tools; parsed with defusedxml: no entities, no DTDs), a stestr
repository directory (its latest run), and the JSON-lines results of a script
suite (``SCRIPT_RESULTS``: one object per script, see ``read_scripts``), and Rally's task report
(``rally task report --json``: a row per scenario and per SLA criterion, see ``rally_report``).
"""

from __future__ import annotations

import io
import json
from pathlib import Path

import defusedxml.ElementTree as SafeET
import pandas as pd
import subunit
import testtools
from defusedxml import DefusedXmlException
from junitparser import Error, Failure, JUnitXml, Skipped

from rdoflow.redaction import MASKED_ASSIGNMENT, SECRET_ASSIGNMENT
from rdoflow.tasks.results.model import (
    READER_FIELDS,
    STATUSES,
    ResultFileError,
    RunMeta,
    frame,
    reader_columns,
    trim,
)
from rdoflow.tasks.results.rally_report import is_rally_report, read_rally_report
from rdoflow.tasks.results.subunit_fast import NotFastPath, packets

SUBUNIT_V2 = 0xB3
SCRIPT_RESULTS = "results.jsonl"
STATUS_OF = {"success": "pass", "fail": "fail", "skip": "skip", "xfail": "xfail", "uxsuccess": "uxsuccess"}


def read_run(path: str | Path, meta: RunMeta) -> pd.DataFrame:
    """The normalized table of the run in ``path`` (a file or a stestr directory)."""
    path = Path(path)
    source = str(path)
    if path.is_dir():
        return read_run(_latest_stestr_run(path), meta)
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise ResultFileError(source, "no such file") from None
    except OSError as exc:
        raise ResultFileError(source, f"cannot be read: {exc.strerror}") from None
    if not data.strip():
        raise ResultFileError(source, "the file is empty; expected test results (an empty run is not a pass)")
    columns = reader_columns(_rows(source, data))
    del data  # the stream's bytes are not needed once parsed (a 100,000-test stream is ~20 MB)
    if not columns["raw_id"]:
        raise ResultFileError(source, "no test results in the file; a run with no tests is not a pass")
    table = frame(columns, meta)
    # The one redaction of results: before the table is stored, compared or rendered. Tempest's
    # tracebacks quote request bodies, and those carry the passwords of the users it creates.
    table["reason"] = table["reason"].str.replace(SECRET_ASSIGNMENT.pattern, MASKED_ASSIGNMENT, regex=True)
    return table


def _rows(source: str, data: bytes) -> list | dict[str, list]:
    head = data.lstrip()[:200]
    if data[0] == SUBUNIT_V2:
        return read_subunit_v2(source, data)
    if head.startswith((b"<?xml", b"<testsuite", b"<testsuites")):
        return read_junit(source, data)
    if is_rally_report(head):
        return read_rally_report(source, data)
    if head.startswith(b"{"):
        return read_scripts(source, data)
    if head.startswith((b"time:", b"test:", b"tags:", b"testing:")):
        return read_subunit_v1(source, data)
    hint = None
    if b"\xef\xbf\xbd" in data[:1000]:
        hint = "the file holds U+FFFD where subunit's 0xB3 bytes were: a binary stream went through a text pipe"
    # The file's bytes are not echoed: they may be anything (/etc/passwd, escape sequences for the terminal).
    raise ResultFileError(
        source, f"not a result file: starts with {min(len(data), 16)} bytes that are not subunit, JUnit XML or "
        f"JSON (rdoflow reads subunit v2 or v1, JUnit XML, a script suite's {SCRIPT_RESULTS} or Rally's task "
        "report)", hint=hint)


class _Folded(testtools.StreamResult):
    """Folds a stream's events by test id: the last final status wins, attachments are kept by name."""

    def __init__(self):
        super().__init__()
        self.tests: dict[str, dict] = {}
        self.order: list[dict] = []
        self.parser_errors: list[str] = []

    def status(self, test_id=None, test_status=None, test_tags=None, runnable=True, file_name=None,
               file_bytes=None, eof=False, mime_type=None, route_code=None, timestamp=None):
        if test_id is None:
            return
        if test_id == "subunit.parser":  # its "Packet data" attachment is the stream's own bytes: not kept
            if file_bytes and file_name == "Parser Error":
                self.parser_errors.append(bytes(file_bytes).decode("utf-8", "replace"))
            return
        test = self.tests.setdefault(test_id, {"files": {}, "status": None, "start": None, "stop": None,
                                               "tags": set()})
        if test_tags:
            test["tags"] |= set(test_tags)
        if timestamp is not None:
            if test_status == "inprogress" or test["start"] is None:
                test["start"] = timestamp
            test["stop"] = timestamp
        if test_status in STATUS_OF or test_status == "inprogress":
            if test["status"] is not None:  # the test runs again after a result: a retry within the run
                self.order.append(self._row(test_id, test))
                test.update(files={}, start=timestamp, status=None)
            if test_status != "inprogress":
                test["status"] = test_status
        if file_name and file_bytes:
            test["files"][file_name] = test["files"].get(file_name, b"") + bytes(file_bytes)

    def rows(self) -> list[dict]:
        for test_id, test in self.tests.items():
            self.order.append(self._row(test_id, test))
        return self.order

    @staticmethod
    def _row(test_id: str, test: dict) -> dict:
        files = {name: body.decode("utf-8", "replace") for name, body in test["files"].items()}
        status = test["status"]
        reason = files.get("traceback") or files.get("reason") or ""
        if status is None:  # inprogress at the end of the stream: the test hung or the run died
            status, reason = "fail", "the test started but never finished (in progress at the end of the stream)"
        duration = None
        if test["start"] is not None and test["stop"] is not None:
            elapsed = test["stop"] - test["start"]  # seconds (fast reader) or a timedelta (python-subunit)
            duration = elapsed.total_seconds() if hasattr(elapsed, "total_seconds") else elapsed
        worker = next((tag for tag in test["tags"] if tag.startswith("worker-")), "")
        return {"raw_id": test_id, "status": STATUS_OF.get(status, status), "duration": duration,
                "reason": trim(reason), "worker": worker}


class _CountingReader(io.RawIOBase):
    """The bytes the parser has consumed, so that an error can name its offset."""

    def __init__(self, data: bytes):
        self.stream, self.offset = io.BytesIO(data), 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        chunk = self.stream.read(len(buffer))
        buffer[: len(chunk)] = chunk
        self.offset += len(chunk)
        return len(chunk)

    def read(self, size=-1) -> bytes:
        chunk = self.stream.read(size)
        self.offset += len(chunk)
        return chunk


def read_subunit_v2(source: str, data: bytes) -> list | dict[str, list]:
    try:
        return _fold_fast(packets(data))
    except (NotFastPath, IndexError, UnicodeDecodeError):
        return read_subunit_v2_reference(source, data)  # python-subunit reads it and names the problem


def _fold_fast(events) -> dict[str, list]:
    """``_Folded``'s rules, inlined for the fast reader's plain tuples (the hot loop of a big run).

    Returns frame()'s column lists, not a tuple per row: at 100,000 tests the tuples, and the columns
    made of them, were megabytes of the reader's memory peak. A retried test's earlier attempts come first.
    """
    tests: dict[str, list] = {}  # id -> [status, start, stop, worker, files]
    workers: dict[str, str] = {}  # one string per worker, not one per test
    retries: dict[str, list] = {name: [] for name in READER_FIELDS}
    for test_id, status, tags, file_name, file_bytes, timestamp in events:
        if test_id is None or test_id == "subunit.parser":
            if test_id is not None:
                raise NotFastPath(0)
            continue
        test = tests.get(test_id)
        if test is None:
            test = tests[test_id] = [None, None, None, "", None]
        if tags and not test[3]:
            worker = next((tag for tag in tags if tag.startswith("worker-")), "")
            test[3] = workers.setdefault(worker, worker)
        if timestamp is not None:
            if status == "inprogress" or test[1] is None:
                test[1] = timestamp
            test[2] = timestamp
        if status in STATUS_OF or status == "inprogress":
            if test[0] is not None:  # ran again after a result: a retry within the run
                _add_fast_row(retries, test_id, test)
                test[0], test[1], test[4] = None, timestamp, None
            if status != "inprogress":
                test[0] = status
        if file_name and file_bytes:
            files = test[4] = test[4] or {}
            files[file_name] = files.get(file_name, b"") + bytes(file_bytes)
    columns: dict[str, list] = {name: [] for name in READER_FIELDS}
    for test_id, test in tests.items():
        _add_fast_row(columns, test_id, test)
    tests.clear()
    if retries["raw_id"]:
        columns = {name: retries[name] + columns[name] for name in READER_FIELDS}
    return columns


def _add_fast_row(columns: dict[str, list], test_id: str, test: list) -> None:
    status, start, stop, worker, files = test
    reason = ""
    if files:
        body = files.get("traceback") or files.get("reason") or b""
        reason = trim(body.decode("utf-8", "replace"))
    if status is None:
        status, reason = "fail", "the test started but never finished (in progress at the end of the stream)"
    columns["raw_id"].append(test_id)
    columns["status"].append(STATUS_OF.get(status, status))
    columns["duration"].append(stop - start if start is not None and stop is not None else None)
    columns["reason"].append(reason)
    columns["worker"].append(worker)


def read_subunit_v2_reference(source: str, data: bytes) -> list[dict]:
    """The same rows through python-subunit's own parser (what the fast path is checked against)."""
    reader = _CountingReader(data)
    folded = _Folded()
    subunit.ByteStreamToStreamResult(reader, non_subunit_name="stdout").run(folded)
    if folded.parser_errors:
        raise ResultFileError(source, f"corrupt or truncated subunit v2 stream near byte {reader.offset} of "
                              f"{len(data)}: {folded.parser_errors[0].strip()}")
    return folded.rows()


def read_subunit_v1(source: str, data: bytes) -> list[dict]:
    folded = _Folded()
    result = testtools.ExtendedToStreamDecorator(folded)
    result.startTestRun()
    try:
        subunit.ProtocolTestCase(io.BytesIO(data)).run(result)
    finally:
        result.stopTestRun()
    return folded.rows()


def read_junit(source: str, data: bytes) -> list[dict]:
    try:
        root = SafeET.fromstring(data)
    except DefusedXmlException as exc:
        raise ResultFileError(source, f"refused: the XML declares {type(exc).__name__.replace('Forbidden', '')} "
                              "(entities and DTDs are not read, to avoid expansion attacks)") from None
    except SafeET.ParseError as exc:
        raise ResultFileError(source, f"not well-formed XML: {exc}") from None
    if root.tag not in ("testsuite", "testsuites"):
        raise ResultFileError(source, f"XML, but not JUnit: the root element is <{root.tag}>, "
                              "expected <testsuite> or <testsuites>")
    suites = JUnitXml.fromroot(root)
    rows = []
    for case in (case for suite in _suites(suites) for case in suite):
        name = case.name or ""
        raw = f"{case.classname}.{name}" if case.classname and not name.startswith(case.classname) else name
        results = case.result
        status, reason = "pass", ""
        for result in results:
            text = result.text or result.message or ""
            if isinstance(result, (Failure, Error)):
                status, reason = "fail", text
            elif isinstance(result, Skipped):
                status, reason = "skip", result.message or result.text or ""
        rows.append({"raw_id": raw, "status": status, "duration": case.time if case.time else None,
                     "reason": trim(reason), "worker": ""})
    return rows


def _suites(xml):
    return [xml] if xml._tag == "testsuite" else list(xml)


def read_scripts(source: str, data: bytes) -> list[dict]:
    """A script suite's results: one JSON object per line, ``{"script": name, "status": "pass"|"fail"|"skip",
    "exit_status": int, "duration": seconds, "output": last lines}`` (written by the regression stage)."""
    rows = []
    for number, line in enumerate(data.decode("utf-8", "replace").splitlines(), 1):
        if not line.strip():
            continue
        try:
            entry = json.loads(line)
        except json.JSONDecodeError as exc:
            raise ResultFileError(source, f"line {number}: not JSON: {exc.msg}") from None
        if not isinstance(entry, dict) or not isinstance(entry.get("script"), str) or entry.get("status") not in STATUSES:
            raise ResultFileError(source, f"line {number}: expected an object with 'script' (text) and 'status' "
                                  f"(one of {', '.join(STATUSES)}), got {_shape(entry)}")
        rows.append({"raw_id": f"scripts.{entry['script']}", "status": entry["status"],
                     "duration": entry.get("duration"), "reason": trim(entry.get("output", "")), "worker": ""})
    return rows


def _shape(entry: object) -> str:
    """What a JSON line holds, said without its values (they come from the file)."""
    if not isinstance(entry, dict):
        kinds = {list: "an array", str: "a string", bool: "true or false", int: "a number", float: "a number"}
        return f"JSON {kinds.get(type(entry), 'null')}"
    if not isinstance(entry.get("script"), str):
        return "an object without a text 'script'"
    return "an object whose 'status' is none of those"


def _latest_stestr_run(directory: Path) -> Path:
    repo = directory / ".stestr" if (directory / ".stestr").is_dir() else directory
    if not (repo / "next-stream").exists():
        raise ResultFileError(str(directory), "a directory, but not a stestr repository (no .stestr/next-stream); "
                              "expected a result file or a directory where 'stestr run' ran")
    runs = sorted((int(p.name), p) for p in repo.iterdir() if p.name.isdigit())
    if not runs:
        raise ResultFileError(str(directory), "the stestr repository holds no run yet")
    return runs[-1][1]
