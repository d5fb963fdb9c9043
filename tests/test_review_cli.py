"""``rdoflow review`` without a Prefect server: the review's plain functions in the command's own process, no
temporary Prefect server, and a cache of past reviews. (With PREFECT_API_URL set the command runs the
package-review flow: tests/test_package_review_flow.py.)"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

FIXTURES = Path(__file__).parent / "fixtures"
RDOFLOW = str(Path(sys.executable).with_name("rdoflow"))


def _distgit(root: Path) -> Path:
    root.mkdir(parents=True)
    shutil.copyfile(FIXTURES / "specs" / "python-osc-lib-3.1.0.spec", root / "python-osc-lib.spec")
    shutil.copyfile(FIXTURES / "sdists" / "osc-lib-3.1.0.tar.gz", root / "osc-lib-3.1.0.tar.gz")
    return root


def _review(tmp_path: Path, *args: str) -> subprocess.CompletedProcess:
    """``rdoflow review ARGS`` with no Prefect setting from this machine's environment, in a Prefect home of
    its own (so that no profile names a server either)."""
    env = {key: value for key, value in os.environ.items() if not key.startswith("PREFECT_")}
    env["PREFECT_HOME"] = str(tmp_path / "prefect-home")
    return subprocess.run([RDOFLOW, "review", *args, "--reports", str(tmp_path / "reports")], env=env,
                          cwd=tmp_path, capture_output=True, text=True, timeout=300)


def test_without_a_prefect_server_the_review_runs_here_and_starts_none(tmp_path):
    _distgit(tmp_path / "osc-lib")
    done = _review(tmp_path, "osc-lib", "--no-fetch", "--no-cache")  # as given: relative to the cwd
    assert done.returncode == 0, done.stderr
    assert "| osc-lib | python-osc-lib-3.1.0-1.el9 | 23 | 0 |" in done.stdout
    assert done.stderr.splitlines() == ["osc-lib: reviewing (static)"]
    # Prefect's temporary server would have made its database in the Prefect home.
    assert not list((tmp_path / "prefect-home").rglob("*.db"))
    [run] = (tmp_path / "reports").iterdir()
    assert (run / "package-review-python-osc-lib.md").read_text().startswith(
        "# Package review: python-osc-lib-3.1.0-1.el9: PASS")
    assert not (tmp_path / ".rdoflow" / "review-cache").exists()  # --no-cache keeps nothing


def test_an_unchanged_package_is_answered_from_the_review_cache(tmp_path):
    distgit, cache = _distgit(tmp_path / "osc-lib"), tmp_path / "cache"  # given as "osc-lib", from the cwd
    first = _review(tmp_path, "osc-lib", "--no-fetch", "--cache", str(cache))
    [kept] = cache.glob("package-review-*.json")
    review = json.loads(kept.read_text())
    review["nevr"] = "python-osc-lib-3.1.0-1.cached"  # what only the cache could answer
    kept.write_text(json.dumps(review))
    again = _review(tmp_path, "osc-lib", "--no-fetch", "--cache", str(cache))
    assert (first.returncode, again.returncode) == (0, 0), again.stderr
    assert again.stderr.startswith("osc-lib: unchanged since its review of ")
    assert "| osc-lib | python-osc-lib-3.1.0-1.cached |" in again.stdout
    (distgit / "python-osc-lib.spec").write_text((distgit / "python-osc-lib.spec").read_text() + "\n")
    changed = _review(tmp_path, "osc-lib", "--no-fetch", "--cache", str(cache))
    assert changed.stderr.splitlines() == ["osc-lib: reviewing (static)"]  # the spec changed: reviewed again
    assert "| osc-lib | python-osc-lib-3.1.0-1.el9 |" in changed.stdout


def test_a_failing_package_exits_1_with_its_reasons(tmp_path):
    done = _review(tmp_path, str(FIXTURES / "specs" / "python-stevedore-3.5.2.spec"), "--no-fetch", "--no-cache")
    assert done.returncode == 1
    assert "error[package-review-failed]: 1 of 1 package(s) failed review" in done.stderr
    assert "CheckLicenseTag: License: ASL 2.0" in done.stderr
    assert "| python-stevedore-3.5.2-1.el9 |" in done.stdout and "| fail |" in done.stdout


def _server_configured(tmp_path: Path) -> tuple[bool, bool]:
    """``server_configured()`` in a fresh process run in ``tmp_path``, with the Prefect home there: what it
    answered, and whether it had to import Prefect to answer."""
    env = {key: value for key, value in os.environ.items() if not key.startswith("PREFECT_")}
    env["PREFECT_HOME"] = str(tmp_path / "prefect-home")
    code = ("import sys; from rdoflow.cli.prefect_api import server_configured; "
            "print(server_configured(), 'prefect' in sys.modules)")
    done = subprocess.run([sys.executable, "-c", code], env=env, cwd=tmp_path, capture_output=True, text=True,
                          timeout=120, check=True)
    answered, imported = done.stdout.split()
    return answered == "True", imported == "True"


def test_prefect_is_asked_only_when_its_settings_could_name_a_server(tmp_path):
    assert _server_configured(tmp_path) == (False, False)
    (tmp_path / "prefect-home").mkdir()
    (tmp_path / "prefect-home" / "profiles.toml").write_text(
        'active = "team"\n[profiles.team]\nPREFECT_API_URL = "http://127.0.0.1:9/api"\n')
    assert _server_configured(tmp_path) == (True, True)  # the active profile names a server
    (tmp_path / "prefect-home" / "profiles.toml").write_text(
        'active = "team"\n[profiles.team]\nPREFECT_LOGGING_LEVEL = "ERROR"\n')
    assert _server_configured(tmp_path) == (False, False)
    (tmp_path / "prefect.toml").write_text('[api]\nurl = "http://127.0.0.1:9/api"\n')
    assert _server_configured(tmp_path) == (True, True)
