"""The lab host's ``rpm``: ``rpm -q python3-tripleoclient`` answers with the undercloud's version as the
lab last installed or upgraded it, as the package's version does on a real undercloud; any other use of
rpm goes to the system's rpm when there is one."""

from __future__ import annotations

import os
import shutil
import sys

from .hoststate import read_state

PACKAGE = "python3-tripleoclient"
SYSTEM_RPM = "/usr/bin/rpm"


def main(argv: list[str]) -> int:
    if argv == ["-q", PACKAGE]:
        version = read_state().get("undercloud", {}).get("version")
        if version is None:
            print(f"package {PACKAGE} is not installed")
            return 1
        print(f"{PACKAGE}-{version}-1.el9.noarch")
        return 0
    if shutil.which(SYSTEM_RPM):
        os.execv(SYSTEM_RPM, [SYSTEM_RPM, *argv])
    print("rpm: not on this lab host (only 'rpm -q python3-tripleoclient' is answered)", file=sys.stderr)
    return 127


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
