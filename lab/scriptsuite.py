"""The lab's script suite: ``~/scripts`` on the lab host, one executable per test, outcomes from lab.yaml.

The "500-script regression" some sites run instead of Tempest: each script is
one test, exit 0 passes, 77 skips, anything else fails. The lab writes
``suite.scripts`` of them at ``lab up``; each one, when it runs, reads the
knobs (``failing_scripts``, ``skipped_scripts``, ``hanging_scripts``,
``seconds``, ``faults.fail_after_upgrade``) to decide what it does, so a test
can change them while the lab runs. Only PyYAML is imported: a script starts
in a few tens of milliseconds.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import sys
import time
from pathlib import Path

from . import yamlfile

SCRIPTS_DIR = "home/scripts"
AREAS = (("compute", ("boot_server", "resize_server", "live_migrate")),
         ("network", ("create_network", "attach_port", "floating_ip")),
         ("volume", ("create_volume", "attach_volume", "snapshot_volume")),
         ("image", ("upload_image", "share_image", "delete_image")),
         ("identity", ("issue_token", "create_project", "assign_role")),
         ("baremetal", ("list_nodes", "power_cycle", "inspect_node")))
SKIP, HANG_SECONDS = 77, 3600

SCRIPT = """\
#!/bin/sh
# Lab regression script {index}: what it does comes from lab.yaml when it runs.
export PYTHONPATH={project} RDOFLOW_LAB_DIR={lab_dir} PYTHONWARNINGS=ignore
exec {python} -m lab.scriptsuite {name}
"""


def script_name(index: int) -> str:
    area, verbs = AREAS[index % len(AREAS)]
    return f"{index:04d}-{area}-{verbs[(index // len(AREAS)) % len(verbs)]}"


def install_scripts(lab_dir: Path, *, venv: Path, project_root: Path, count: int) -> Path:
    """Write ``count`` scripts into the lab host's ``~/scripts`` (replacing what was there)."""
    directory = lab_dir / SCRIPTS_DIR
    shutil.rmtree(directory, ignore_errors=True)
    directory.mkdir(parents=True)
    quoted = {"project": shlex.quote(str(project_root)), "lab_dir": shlex.quote(str(lab_dir)),
              "python": shlex.quote(str(venv / "bin/python"))}
    for index in range(count):
        script = directory / script_name(index)
        script.write_text(SCRIPT.format(index=index, name=script_name(index), **quoted))
        script.chmod(0o755)
    (directory / "README").write_text("The lab's script suite: each executable here is one test "
                                      "(exit 0 pass, 77 skip, anything else fail).\n")
    return directory


def _spread(count: int, total: int) -> set[int]:
    """``count`` indices spread evenly over ``range(total)`` (as the generated Tempest suite does)."""
    return {round(k * total / count) for k in range(count)} if count and total else set()


def outcome(index: int, name: str, knobs: dict, upgraded: bool) -> str:
    """pass, fail, skip or hang for script ``index`` under these knobs."""
    suite = knobs.get("suite") or {}
    total = suite.get("scripts", 20)
    failing = _spread(min(suite.get("failing_scripts", 0), total), total)
    others = [i for i in range(total) if i not in failing]
    skipped = {others[j] for j in _spread(min(suite.get("skipped_scripts", 2), len(others)), len(others))}
    rest = [i for i in others if i not in skipped]
    hanging = {rest[j] for j in _spread(min(suite.get("hanging_scripts", 0), len(rest)), len(rest))}
    after_upgrade = ((knobs.get("faults") or {}).get("fail_after_upgrade") or []) if upgraded else []
    if index in failing or any(re.search(pattern, name) for pattern in after_upgrade):
        return "fail"
    return "skip" if index in skipped else "hang" if index in hanging else "pass"


def _lab_dir() -> Path:
    return Path(os.environ.get("RDOFLOW_LAB_DIR", "."))


def _upgraded(lab_dir: Path) -> bool:
    path = lab_dir / "host-state.json"
    state = json.loads(path.read_text()) if path.exists() else {}
    return any(stack.get("upgraded") for stack in state.get("overcloud", {}).values())


def main(argv: list[str]) -> int:
    name = argv[0]
    lab_dir = _lab_dir()
    config = lab_dir / "lab.yaml"
    knobs = (yamlfile.read(config) or {}) if config.exists() else {}
    result = outcome(int(name.split("-", 1)[0]), name, knobs, _upgraded(lab_dir))
    time.sleep((knobs.get("suite") or {}).get("seconds", 0.0))
    # "[name] message", not "name: message": a name ending in _token or _password followed by a colon is
    # the shape of a secret, and rdoflow masks the word after it.
    print(f"[{name}] checking {name.split('-', 2)[-1].replace('_', ' ')}", flush=True)
    if result == "hang":
        print(f"[{name}] waiting for a server that never answers", flush=True)
        time.sleep(HANG_SECONDS)
    if result == "skip":
        print(f"SKIP [{name}] feature not enabled in this deployment")
        return SKIP
    if result == "fail":
        print(f"FAIL [{name}] 'ACTIVE' != 'ERROR': the resource failed to reach ACTIVE", file=sys.stderr)
        return 1
    print(f"ok: {name}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
