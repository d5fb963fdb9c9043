"""sushy-tools' Redfish emulator, its fake systems applying a power action after the lab's delay.

Run by ``lab up`` with the sushy-tools venv's Python (it imports nothing of rdoflow)::

    python -m lab.sushy_emulator --power-seconds N --config FILE

The fake driver applies each power action a random 1 to 11 s after it was asked,
as a real BMC takes a while; the lab's systems take ``timing.bmc_power`` whole
seconds instead, so that a rehearsal stays quick and its timings repeat. All else
is the emulator as shipped.
"""

from __future__ import annotations

import argparse
import sys
import types

from sushy_tools.emulator.main import main as emulator_main
from sushy_tools.emulator.resources.systems import fakedriver


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--power-seconds", type=int, required=True)
    args, emulator_args = parser.parse_known_args()
    # The driver's only use of `random`: apply_time = int(time.time()) + random.randint(1, 11).
    fakedriver.random = types.SimpleNamespace(randint=lambda low, high: args.power_seconds)
    sys.argv = [sys.argv[0], *emulator_args]
    return emulator_main()


if __name__ == "__main__":
    sys.exit(main())
