"""Benchmark: what the built-in static review of one real RDO package costs, step by step and whole.

Run by hand (not by the tests):  .venv/bin/python bench/package_review.py [--repeat 5]
Reviews the test fixtures' python-osc-lib 3.1.0 distgit (spec + sdist, no download) and prints
the median wall time of each sandboxed step and of the whole review.
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from rdoflow.tasks.review.packages import review_source
from rdoflow.tasks.review.sources import ReviewSettings, acquire  # noqa: E402
from rdoflow.tasks.review.static import prepare, scan_tarball  # noqa: E402

FIXTURES = Path(__file__).resolve().parent.parent / "tests" / "fixtures"


def _distgit(root: Path) -> Path:
    root.mkdir(parents=True)
    shutil.copyfile(FIXTURES / "specs" / "python-osc-lib-3.1.0.spec", root / "python-osc-lib.spec")
    shutil.copyfile(FIXTURES / "sdists" / "osc-lib-3.1.0.tar.gz", root / "osc-lib-3.1.0.tar.gz")
    return root


def _median(action, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        action()
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5)
    repeat = parser.parse_args().repeat
    settings = ReviewSettings(fetch_sources=False)
    scratch = Path(tempfile.mkdtemp(prefix="rdoflow-bench-"))
    counter = iter(range(10_000))

    def fresh():
        return acquire(str(_distgit(scratch / f"d{next(counter)}")), scratch / f"w{next(counter)}")

    source = fresh()
    space = prepare(source, settings)[0]
    print(f"layout + spec facts (sandbox) + sources: {_median(lambda: prepare(fresh(), settings), repeat):.2f} s")
    print(f"tarball scan + licensecheck (sandbox):    "
          f"{_median(lambda: scan_tarball(space.sources / 'osc-lib-3.1.0.tar.gz', space), repeat):.2f} s")
    print(f"whole static review of one package:      {_median(lambda: review_source(fresh(), settings), repeat):.2f} s")
    shutil.rmtree(scratch, ignore_errors=True)


if __name__ == "__main__":
    main()
