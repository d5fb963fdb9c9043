"""The lab host's ``dnf``: the machine's real dnf (Debian's python3-dnf) on the host's package root, as an
EL9 host's (lab/tripleo/packages.py). Like a real dnf it installs nothing unless run as root: the host's
``sudo`` gives the lab's account a user namespace where it is.

    RDOFLOW_LAB_DIR=DIR python -m lab.tripleo.dnf_cmd ARGS...
"""

from __future__ import annotations

import os
import sys

from . import packages
from .hoststate import lab_dir


def main(argv: list[str]) -> int:
    if not packages.real(lab_dir()):
        print("dnf: not on this lab host (the machine has no dnf or rpm: install Debian's 'dnf' and 'rpm' "
              "packages, then bring the lab up again)", file=sys.stderr)
        return 127
    sys.stdout.flush()
    os.execve(packages.SYSTEM_DNF, packages.dnf_argv(lab_dir(), *argv),
              packages.dnf_environment(lab_dir(), dict(os.environ)))
    return 127  # not reached


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
