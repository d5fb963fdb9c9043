"""Benchmark: compare two 100,000-test runs and write the four reports, vs subunit2csv on one of them.

Run by hand (never by the tests):  .venv/bin/python bench/compare_100k.py [--tests N] [--repeat 5]

Both streams are written with python-subunit's encoder: the pre run all passes; in the post run
1% fail with a traceback, 2% skip, 1% are much slower and 0.5% are missing. Each measured
command runs in its own process; wall time, CPU time (user + system: steadier than wall time on
a busy machine) and that process's peak RSS come from wait4(). Each figure printed is the median
of the repeats; every run's figures are printed too.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

import subunit

BIN = Path(sys.executable).parent


def write_run(path: Path, tests: int, post: bool) -> None:
    clock = datetime(2026, 11, 25, tzinfo=timezone.utc)
    with path.open("wb") as out:
        encoder = subunit.StreamResultToBytes(out)
        for i in range(tests):
            if post and i % 200 == 7:
                continue  # removed
            test_id = f"tempest.api.area{i % 40}.test_mod{i % 500}.Test{i % 97}.test_{i}[id-{i:08d},smoke]"
            encoder.status(test_id=test_id, test_status="inprogress", timestamp=clock, test_tags={f"worker-{i % 4}"})
            seconds = 0.5 + (i % 10) / 10 + (8 if post and i % 100 == 3 else 0)
            clock += timedelta(seconds=seconds)
            status = "success"
            if post and i % 100 == 5:
                status = "fail"
                encoder.status(test_id=test_id, file_name="traceback", eof=True, mime_type="text/plain",
                               file_bytes=f"Traceback (most recent call last):\nAssertionError: {i}".encode())
            elif post and i % 50 == 9:
                status = "skip"
            encoder.status(test_id=test_id, test_status=status, timestamp=clock, test_tags={f"worker-{i % 4}"})


def measure(argv: list[str], stdin: Path | None = None) -> tuple[float, float, float, int]:
    """(wall seconds, peak RSS MiB, CPU seconds, exit status) of one command in its own process."""
    started = time.perf_counter()
    with open(stdin or os.devnull, "rb") as source, open(os.devnull, "wb") as sink:
        process = subprocess.Popen(argv, stdin=source, stdout=sink, stderr=subprocess.DEVNULL)
        _, status, usage = os.wait4(process.pid, 0)
    cpu = usage.ru_utime + usage.ru_stime
    return time.perf_counter() - started, usage.ru_maxrss / 1024, cpu, os.waitstatus_to_exitcode(status)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--tests", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch:
        root = Path(scratch)
        pre, post = root / "pre.subunit", root / "post.subunit"
        write_run(pre, args.tests, post=False)
        write_run(post, args.tests, post=True)
        print(f"{args.tests} tests per run; pre {pre.stat().st_size / 2**20:.1f} MiB, "
              f"post {post.stat().st_size / 2**20:.1f} MiB")
        rows = {"rdoflow compare (read 2 runs, store, compare, 4 reports)": [],
                "subunit2csv (convert 1 run)": []}
        for attempt in range(args.repeat):
            out = root / f"out{attempt}"
            rows["rdoflow compare (read 2 runs, store, compare, 4 reports)"].append(measure(
                [BIN / "rdoflow", "compare", pre, post, "--store", out / "store", "--reports", out]))
            rows["subunit2csv (convert 1 run)"].append(measure([BIN / "subunit2csv"], stdin=post))
        medians = {}
        for name, runs in rows.items():
            wall, rss, cpu = (statistics.median(run[field] for run in runs) for field in range(3))
            medians[name] = wall, cpu
            each = ", ".join(f"{w:.2f} s/{c:.2f} s CPU/{r:.0f} MiB" for w, r, c, _ in runs)
            print(f"{name}: median of {len(runs)}: {wall:.2f} s, CPU {cpu:.2f} s, peak RSS {rss:.0f} MiB "
                  f"(exit {', '.join(str(run[3]) for run in runs)}; runs: {each})")
        (compare_wall, compare_cpu), (csv_wall, csv_cpu) = medians.values()
        print(f"ratio compare / subunit2csv (medians): wall {compare_wall / csv_wall:.2f}, "
              f"CPU {compare_cpu / csv_cpu:.2f}")


if __name__ == "__main__":
    main()
