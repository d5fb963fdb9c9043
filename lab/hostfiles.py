"""What the lab puts on its undercloud host: the commands on PATH, the templates, the test suites.

The commands are small shell scripts that run the lab's own implementations
(``lab.tripleo``) with the lab venv's Python, the host's "system" Python, so the
host side never imports rdoflow itself.
"""

from __future__ import annotations

import shlex
import shutil
from pathlib import Path

from . import config as labconfig
from .scriptsuite import install_scripts

HERE = Path(__file__).resolve().parent
TEMPLATES = "share/openstack-tripleo-heat-templates"
SUITE_DIR = "home/tempest"

COMMAND = """\
#!/bin/sh
# {what}
export PYTHONPATH={project} RDOFLOW_LAB_DIR={lab_dir} PYTHONWARNINGS=ignore
exec {program} "$@"
"""


def install_host_files(lab_dir: Path, *, venv: Path, project_root: Path, ports: dict[str, int]) -> None:
    bin_dir = lab_dir / "bin"
    bin_dir.mkdir(exist_ok=True)
    commands = {
        "openstack": ("The lab's python-tripleoclient: acts on the lab's real Ironic and Heat.",
                      f"{shlex.quote(str(venv / 'bin/python'))} -m lab.tripleo"),
        "stestr": ("stestr from the lab host's Python (under the ssh_drop fault).",
                   f"{shlex.quote(str(venv / 'bin/python'))} -m lab.tripleo.stestr_cmd"),
        "rally": ("rally verify (start, list-verifier-tests, report) over the lab's Tempest suite.",
                  f"{shlex.quote(str(venv / 'bin/python'))} -m lab.tripleo.rally_cmd"),
        "rpm": ("rpm -q python3-tripleoclient: the undercloud's installed version; otherwise the system's rpm.",
                f"{shlex.quote(str(venv / 'bin/python'))} -m lab.tripleo.rpm_cmd"),
    }
    for name, (what, program) in commands.items():
        script = bin_dir / name
        script.write_text(COMMAND.format(what=what, project=shlex.quote(str(project_root)),
                                         lab_dir=shlex.quote(str(lab_dir)), program=program))
        script.chmod(0o755)
    templates = lab_dir / TEMPLATES
    shutil.rmtree(templates, ignore_errors=True)
    shutil.copytree(HERE / "tht", templates)
    suite = lab_dir / SUITE_DIR
    shutil.rmtree(suite, ignore_errors=True)
    shutil.copytree(HERE / "suite", suite, ignore=shutil.ignore_patterns("__pycache__"))
    install_scripts(lab_dir, venv=venv, project_root=project_root, count=labconfig.load(lab_dir).suite.scripts)
    (lab_dir / "endpoints.json").write_text(
        f'{{"baremetal": "http://127.0.0.1:{ports["ironic"]}", '
        f'"orchestration": "http://127.0.0.1:{ports["heat"]}/v1/admin"}}\n'
    )
