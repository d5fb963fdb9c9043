"""config-download's playbooks after the real ``overcloud deploy --stack-only``: a STAND-IN.

The real deploy would run them on the nodes over SSH, with containers; the lab's nodes have neither.
The stand-in (``config-download`` in lab/tripleoclient_deploy.py) runs with the real client's Python,
so that the deployment status, the overcloudrc paths and the endpoint are tripleoclient's own. This
side tells it which node fails: the lab's ``faults.stack_fail`` of stage ``deploy`` (role, index, reason).
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

from .. import config as labconfig

CLIENT_PROGRAM = Path(__file__).resolve().parent.parent / "tripleoclient_deploy.py"


def run_config_download(stack: str, working_dir: Path, lab_dir: Path, client: Path, env: dict[str, str]) -> int:
    knobs = labconfig.load(lab_dir)
    failures: dict[str, dict[str, str]] = {}
    for fault in knobs.faults.stack_fail:
        if fault.stage == "deploy":
            failures.setdefault(fault.role, {})[str(fault.index)] = fault.reason
    request = {"stack": stack, "working_dir": str(working_dir), "failures": failures,
               "node_seconds": knobs.timing.node_configure}
    return subprocess.run([str(client / "bin/python"), "-P", str(CLIENT_PROGRAM), "config-download",
                           json.dumps(request)], env=env, check=False).returncode
