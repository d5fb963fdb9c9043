"""The lab's bare-metal nodes, as one daemon: their inspection ramdisk and their configuration agent.

Started by ``lab up`` with the lab venv's Python and stopped by ``lab down`` by PID::

    python -m lab.nodes --lab-dir DIR --ironic URL --heat URL [--inspector URL]
"""

from __future__ import annotations

import argparse
import logging
import time
from pathlib import Path

from .config_agent import ConfigAgent
from .ramdisk import Ramdisk

ROUND_SECONDS = 0.3
# A round that finds nothing to do (no node in 'inspect wait', no stack in progress) doubles the wait before the
# next, up to IDLE_SECONDS: a lab that waits for its tests costs its Ironic and Heat a list call each every 1.2 s,
# not every 0.3 s (several labs share CI's two cores). A node or stack is then seen at most 1.2 s late.
IDLE_SECONDS = 1.2
log = logging.getLogger("lab.nodes")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lab-dir", type=Path, required=True)
    parser.add_argument("--ironic", required=True)
    parser.add_argument("--heat", required=True)
    parser.add_argument("--inspector", help="ironic-inspector's API: inspections are bridged to it too")
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    workers = [Ramdisk(args.lab_dir, args.ironic, args.inspector), ConfigAgent(args.lab_dir, args.heat)]
    log.info("nodes answer inspection at %s%s and report configuration to %s", args.ironic,
             f" and {args.inspector}" if args.inspector else "", args.heat)
    pause = ROUND_SECONDS
    while True:  # a daemon: it runs until 'lab down' stops it by PID
        busy = False
        for worker in workers:
            try:
                busy |= bool(worker.round())
            except Exception as exc:  # a service restarting must not end the daemon; the log says why
                log.warning("%s: %s", type(worker).__name__, exc)
                busy = True
        pause = ROUND_SECONDS if busy else min(IDLE_SECONDS, pause * 2)
        time.sleep(pause)


if __name__ == "__main__":
    main()
