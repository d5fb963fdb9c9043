#!/usr/bin/env python3
"""rdoflow's script-suite runner, uploaded to the host: run each executable of a directory as one test.

Exit 0 passes, 77 skips, anything else fails; a script that outlives --timeout is
killed with its process group and fails. Scripts run --concurrency at a time.
Each result is appended to --results as one JSON line, as soon as it is known:
{"script", "status", "exit_status", "duration", "output"} (the output's end).
Progress goes to stdout: "rdoflow-scripts total N", then one "rdoflow-scripts
done K/N STATUS NAME SECONDS" line per finished script.

Python 3.6+ standard library only (what an undercloud has). Exit status: 0 when
scripts ran (whatever their results), 3 when no script matched, 2 on bad usage.
"""

import argparse
import json
import os
import re
import signal
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor

SKIP = 77
OUTPUT_CHARS = 4000
NOTHING_MATCHED = 3
# Each script runs in a process group of its own (so that its timeout kills what it started);
# when the runner itself is stopped, it kills those groups too.
RUNNING = set()
RUNNING_LOCK = threading.Lock()


def patterns(path):
    if not path:
        return []
    with open(path) as handle:
        lines = [line.strip() for line in handle]
    return [re.compile(line) for line in lines if line and not line.startswith("#")]


def selected(directory, include, exclude):
    """Executable regular files, hidden ones left out, sorted; filtered by name like stestr filters ids."""
    names = []
    for name in sorted(os.listdir(directory)):
        path = os.path.join(directory, name)
        if name.startswith(".") or not os.path.isfile(path) or not os.access(path, os.X_OK):
            continue
        if include and not any(p.search(name) for p in include):
            continue
        if any(p.search(name) for p in exclude):
            continue
        names.append(name)
    return names


def run_one(directory, name, timeout):
    started = time.monotonic()
    process = subprocess.Popen([os.path.join(directory, name)], cwd=directory, stdin=subprocess.DEVNULL,
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT, start_new_session=True)
    with RUNNING_LOCK:
        RUNNING.add(process.pid)
    try:
        output, _ = process.communicate(timeout=timeout)
        timed_out = False
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        output, _ = process.communicate()
        timed_out = True
    finally:
        with RUNNING_LOCK:
            RUNNING.discard(process.pid)
    duration = time.monotonic() - started
    text = output.decode("utf-8", "replace")[-OUTPUT_CHARS:]
    if timed_out:
        return {"script": name, "status": "fail", "exit_status": None, "duration": round(duration, 3),
                "output": "timed out after {:g} s (killed); its output:\n{}".format(timeout, text)}
    status = "pass" if process.returncode == 0 else "skip" if process.returncode == SKIP else "fail"
    if status == "fail" and process.returncode < 0:
        text = "killed by signal {}\n{}".format(-process.returncode, text)
    elif status == "fail":
        text = "exit status {}\n{}".format(process.returncode, text)
    return {"script": name, "status": status, "exit_status": process.returncode,
            "duration": round(duration, 3), "output": text}


def stop(signum, frame):
    """Stopped (the run's timeout, a cancelled flow): kill every running script's group, then exit."""
    with RUNNING_LOCK:
        for pid in RUNNING:
            try:
                os.killpg(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
    os._exit(128 + signum)


def main(argv=None):
    for signum in (signal.SIGTERM, signal.SIGHUP, signal.SIGINT):
        signal.signal(signum, stop)
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dir", required=True, help="Directory of the scripts.")
    parser.add_argument("--results", required=True, help="JSON-lines file the results are written to.")
    parser.add_argument("--concurrency", type=int, default=4)
    parser.add_argument("--timeout", type=float, default=900.0, help="Seconds one script may take.")
    parser.add_argument("--include-list", help="File of regular expressions: run only matching names.")
    parser.add_argument("--exclude-list", help="File of regular expressions: leave matching names out.")
    args = parser.parse_args(argv)
    if not os.path.isdir(args.dir):
        parser.error("no such directory: {}".format(args.dir))
    names = selected(args.dir, patterns(args.include_list), patterns(args.exclude_list))
    print("rdoflow-scripts total {}".format(len(names)), flush=True)
    if not names:
        print("no executable script in {} matched the include/exclude lists".format(args.dir), file=sys.stderr)
        return NOTHING_MATCHED
    lock, done = threading.Lock(), [0]
    with open(args.results, "w") as results:
        def record(name):
            result = run_one(args.dir, name, args.timeout)
            with lock:
                results.write(json.dumps(result) + "\n")
                results.flush()
                done[0] += 1
                print("rdoflow-scripts done {}/{} {} {} {:.2f}".format(
                    done[0], len(names), result["status"], name, result["duration"]), flush=True)

        with ThreadPoolExecutor(max(1, args.concurrency)) as pool:
            for future in [pool.submit(record, name) for name in names]:
                future.result()
    return 0


if __name__ == "__main__":
    sys.exit(main())
