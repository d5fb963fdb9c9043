"""The lab host's ``rally``: the three ``rally verify`` commands rdoflow uses, over the lab's Tempest suite.

- ``rally verify list-verifier-tests [--pattern P]``: the suite's test ids, one a line;
- ``rally verify start [--pattern P] [--load-list F] [--skip-list F] [--concurrency N] [--detailed]``:
  runs ``stestr run --subunit`` in ``~/tempest``, prints a line per test as Rally does, and keeps
  the verification under ``~/.rally/verifications/<uuid>.json``;
- ``rally verify report [--uuid U] --type junit-xml --to FILE``: JUnit XML as Rally's reporter writes it.

Any other command (``rally task start``, ``rally env create``, ``rally db ensure``...) is the real Rally 5.1
of the lab's Rally venv (``RDOFLOW_LAB_RALLY_VENV``, set where the lab runs Keystone), run as it is.

Rally's own options and messages are kept (``Starting verification (UUID=...)``, ``Using
verification (UUID=...) as the default verification``); a ``--skip-list`` is a YAML mapping of test
id to reason, as Rally reads it. Exit status 0 when the verification finished, 1 on an error.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import uuid
import xml.etree.ElementTree as ET
from datetime import datetime, timezone
from pathlib import Path

import subunit
import testtools

from .. import yamlfile
from .stestr_cmd import program as stestr_program

STATUS = {"success": "success", "fail": "fail", "skip": "skip", "xfail": "xfail", "uxsuccess": "uxsuccess"}


def _home() -> Path:
    return Path(os.environ["HOME"])


def _store() -> Path:
    directory = _home() / ".rally" / "verifications"
    directory.mkdir(parents=True, exist_ok=True)
    return directory


def _stestr(*argv: str) -> list[str]:
    return [str(stestr_program()), *argv]


def list_tests(pattern: str | None) -> list[str]:
    if not (_home() / "tempest" / ".stestr").is_dir():  # stestr lists only in a repository
        subprocess.run(_stestr("init"), cwd=_home() / "tempest", capture_output=True, check=True)
    listed = subprocess.run(_stestr("list", *([pattern] if pattern else [])), cwd=_home() / "tempest",
                            capture_output=True, text=True)
    if listed.returncode != 0:
        raise RuntimeError(f"stestr list failed: {listed.stderr.strip()[-500:]}")
    return [line for line in listed.stdout.splitlines() if line.strip()]


def _printer(results: list[dict]):
    def record(test: dict) -> None:
        if test["status"] not in STATUS:
            return
        start, stop = test["timestamps"]
        seconds = (stop - start).total_seconds() if start and stop else 0.0
        details = {name: content.as_text() for name, content in test["details"].items()}
        reason = details.get("traceback") or details.get("reason") or ""
        worker = next((tag for tag in test["tags"] if tag.startswith("worker-")), "worker-0")
        results.append({"name": test["id"], "status": STATUS[test["status"]], "duration": f"{seconds:.3f}",
                        "details": reason})
        print(f"{{{worker.removeprefix('worker-')}}} {test['id']} [{seconds:.3f}s] ... {STATUS[test['status']]}",
              flush=True)
    return record


def start(args: argparse.Namespace) -> int:
    verification = str(uuid.uuid4())
    print(f"Starting verification (UUID={verification}) for deployment 'undercloud' by verifier "
          f"'tempest-verifier'.", flush=True)
    argv = ["run", "--subunit", "--concurrency", str(args.concurrency)]
    if args.load_list:
        argv += ["--load-list", args.load_list]
    if args.skip_list:
        skipped = yamlfile.read(Path(args.skip_list)) or {}
        argv += ["--exclude-regex", "|".join(f"^{_escape(test)}$" for test in skipped)] if skipped else []
    if args.pattern:
        argv.append(args.pattern)
    started = datetime.now(timezone.utc)
    results: list[dict] = []
    process = subprocess.Popen(_stestr(*argv), cwd=_home() / "tempest", stdout=subprocess.PIPE)
    stream = testtools.StreamToDict(_printer(results))
    stream.startTestRun()
    subunit.ByteStreamToStreamResult(process.stdout, non_subunit_name="stdout").run(stream)
    stream.stopTestRun()
    process.wait()
    record = {"uuid": verification, "started_at": started.isoformat(),
              "finished_at": datetime.now(timezone.utc).isoformat(), "tests": results}
    (_store() / f"{verification}.json").write_text(json.dumps(record))
    (_store() / "default").write_text(verification)
    counts = {s: sum(1 for r in results if r["status"] == s) for s in STATUS}
    print(f"Verification (UUID={verification}) has been successfully finished for deployment 'undercloud'!\n")
    print(f"======\nTotals\n======\n\nRan: {len(results)} tests\n - Success: {counts['success']}\n"
          f" - Skipped: {counts['skip']}\n - Expected failures: {counts['xfail']}\n"
          f" - Unexpected success: {counts['uxsuccess']}\n - Failures: {counts['fail']}\n")
    print(f"Using verification (UUID={verification}) as the default verification for the future operations.")
    return 0


def _escape(test: str) -> str:
    return "".join(f"\\{c}" if c in ".[]()+*?^$|{}\\" else c for c in test)


def report(args: argparse.Namespace) -> int:
    if args.type != "junit-xml":
        raise RuntimeError(f"the lab's rally writes only junit-xml reports, not {args.type!r}")
    uuids = args.uuid or [(_store() / "default").read_text().strip()]
    root = ET.Element("testsuites")
    for verification in uuids:
        record = json.loads((_store() / f"{verification}.json").read_text())
        tests = record["tests"]
        suite = ET.SubElement(root, "testsuite", id=verification, timestamp=record["started_at"],
                              tests=str(len(tests)), failures=str(sum(t["status"] == "fail" for t in tests)),
                              skipped=str(sum(t["status"] == "skip" for t in tests)))
        for test in tests:
            plain = test["name"].split("[", 1)[0]
            classname, _, name = plain.rpartition(".")
            case = ET.SubElement(suite, "testcase", classname=classname,
                                 name=name + test["name"][len(plain):], time=test["duration"])
            if test["status"] in ("fail", "uxsuccess"):
                ET.SubElement(case, "failure").text = test["details"]
            elif test["status"] == "skip":
                ET.SubElement(case, "skipped").text = test["details"]
    ET.ElementTree(root).write(args.to, encoding="utf-8", xml_declaration=True)
    print(f"Report has been saved to {args.to}")
    return 0


def parser() -> argparse.ArgumentParser:
    top = argparse.ArgumentParser(prog="rally", description="The lab's rally verify.")
    verify = top.add_subparsers(dest="category", required=True).add_parser("verify")
    actions = verify.add_subparsers(dest="action", required=True)
    listing = actions.add_parser("list-verifier-tests")
    listing.add_argument("--pattern")
    run = actions.add_parser("start")
    run.add_argument("--pattern")
    run.add_argument("--load-list")
    run.add_argument("--skip-list")
    run.add_argument("--concurrency", type=int, default=0)
    run.add_argument("--detailed", action="store_true")
    rep = actions.add_parser("report")
    rep.add_argument("--uuid", nargs="+")
    rep.add_argument("--type", default="json")
    rep.add_argument("--to", required=True)
    return top


def main(argv: list[str]) -> int:
    real = os.environ.get("RDOFLOW_LAB_RALLY_VENV")
    if real and argv[:1] != ["verify"]:  # the real Rally, without the lab's PYTHONPATH (rdoflow's tree)
        program = str(Path(real) / "bin" / "rally")
        os.execve(program, [program, *argv], {k: v for k, v in os.environ.items() if k != "PYTHONPATH"})
    args = parser().parse_args(argv)
    try:
        if args.action == "list-verifier-tests":
            print("\n".join(list_tests(args.pattern)))
            return 0
        return start(args) if args.action == "start" else report(args)
    except (RuntimeError, OSError, ValueError) as exc:
        print(f"ERROR: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
