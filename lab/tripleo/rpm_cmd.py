"""The lab host's ``rpm``: the machine's real rpm on the host's package root (lab/tripleo/packages.py), so
that ``rpm -q python3-tripleoclient`` answers with what the host has installed: the release's version after
the undercloud install, the drop's after a drop was applied.

Where the machine has no rpm or dnf (no package root was made at lab up), ``rpm -q python3-tripleoclient``
answers from the lab's record instead (the version 'undercloud install' or 'upgrade' last noted), and any
other use of rpm goes to the system's rpm when there is one."""

from __future__ import annotations

import os
import shutil
import sys

from . import packages
from .hoststate import lab_dir, read_state

PACKAGE = packages.CLIENT
SYSTEM_RPM = packages.SYSTEM_RPM


def main(argv: list[str]) -> int:
    if packages.real(lab_dir()):
        os.execv(SYSTEM_RPM, packages.rpm_argv(lab_dir(), *argv))
    if argv == ["-q", PACKAGE]:
        version = read_state().get("undercloud", {}).get("version")
        if version is None:
            print(f"package {PACKAGE} is not installed")
            return 1
        print(f"{PACKAGE}-{version}-{packages.RELEASE_TAG}.noarch")
        return 0
    if shutil.which(SYSTEM_RPM):
        os.execv(SYSTEM_RPM, [SYSTEM_RPM, *argv])
    print("rpm: not on this lab host (only 'rpm -q python3-tripleoclient' is answered)", file=sys.stderr)
    return 127


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
