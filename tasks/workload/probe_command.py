"""The 'command' workload: the site's own probe, a command on the undercloud that runs throughout the upgrade.

Its output is read as it arrives (``output: lines``: one line per probe, ``ok ...`` or ``fail ...``;
``output: ping``: iputils' reply lines, a missing ``icmp_seq`` a probe that got no answer). The command is
started under ``sh -c 'echo PID; exec "$@"'`` so that rdoflow knows its process on the host and stops it
with SIGINT (ping then prints its summary), SIGKILL if it outlives the grace period.
"""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Sequence

from rdoflow.blocks.ssh import SSHHost
from rdoflow.outcome import CommandResult
from rdoflow.tasks.ssh.remote import run
from rdoflow.tasks.workload.model import Probe

PID_MARK = "rdoflow-probe-pid "
STARTER = f'echo "{PID_MARK}$$"; exec "$@"'
PING_REPLY = re.compile(r"bytes from .*icmp_seq=(\d+)")
PING_SENT = re.compile(r"^(\d+) packets transmitted")
LINE_PROBE = re.compile(r"^(ok|fail)\b\s*(.*)$", re.IGNORECASE)
STOP_GRACE = 10.0


class CommandProbe:
    """The probe's command running in a thread of its own; its probes timed as their lines arrive."""

    def __init__(self, host: SSHHost, argv: Sequence[str], output: str, budget: float):
        self.host, self.argv, self.output, self.budget = host, list(argv), output, budget
        self.probes: list[Probe] = []
        self.lines: list[str] = []
        self.pid: int | None = None
        self.result: CommandResult | None = None
        self.error: BaseException | None = None
        self.started = time.monotonic()
        self._thread = threading.Thread(target=self._run, name="rdoflow-workload-probe", daemon=True)

    def start(self) -> None:
        self.started = time.monotonic()
        self._thread.start()

    def _run(self) -> None:
        try:
            self.result = run(self.host, ["sh", "-c", STARTER, "rdoflow-probe", *self.argv], timeout=self.budget,
                              check=False, log_output=False, on_line=self._line, keep_lines=50)
        except BaseException as exc:  # noqa: BLE001 - kept for the watch to report (a dropped connection)
            self.error = exc

    def _line(self, stream: str, line: str) -> None:
        if stream != "stdout":
            return
        if self.pid is None and line.startswith(PID_MARK):
            self.pid = int(line[len(PID_MARK):])
            return
        now = time.monotonic() - self.started
        self.lines = [*self.lines[-49:], line]
        if self.output == "lines" and (match := LINE_PROBE.match(line)):
            self.probes.append(Probe(at=now, ok=match.group(1).lower() == "ok", detail=match.group(2)[:300]))
        elif self.output == "ping" and PING_REPLY.search(line):
            self.probes.append(Probe(at=now, ok=True, detail=line[:300]))

    @property
    def alive(self) -> bool:
        return self._thread.is_alive()

    def stop(self) -> None:
        """SIGINT to the command, then SIGKILL after the grace period; waits for the thread."""
        for signal_name in ("INT", "KILL"):
            if not self.alive:
                break
            if self.pid is not None:
                run(self.host, ["kill", f"-{signal_name}", str(self.pid)], timeout=60, check=False,
                    log_output=False)
            self._thread.join(STOP_GRACE)

    def timeline(self) -> list[Probe]:
        """The probes in order; for ping, a failed probe in the place of each icmp_seq that got no reply."""
        if self.output != "ping":
            return list(self.probes)
        return ping_timeline(self.probes, ping_interval(self.argv), _sent(self.lines))


def ping_interval(argv: Sequence[str]) -> float:
    """ping's -i (seconds between packets), 1 when not given."""
    for index, arg in enumerate(argv):
        if arg == "-i" and index + 1 < len(argv):
            return float(argv[index + 1])
        if arg.startswith("-i") and len(arg) > 2 and arg[2:].replace(".", "", 1).isdigit():
            return float(arg[2:])
    return 1.0


def _sent(lines: Sequence[str]) -> int | None:
    return next((int(m.group(1)) for line in lines if (m := PING_SENT.match(line))), None)


def ping_timeline(replies: Sequence[Probe], interval: float, sent: int | None) -> list[Probe]:
    """Replies by icmp_seq, and a failed probe for each sequence number between them (and after the last,
    up to the packets ping says it sent) that got none, timed back from the next reply by the interval."""
    by_seq = sorted((int(PING_REPLY.search(p.detail).group(1)), p) for p in replies)
    timeline: list[Probe] = []
    previous = None
    for seq, reply in by_seq:
        if previous is not None:
            timeline += [Probe(at=reply.at - (seq - missing) * interval, ok=False,
                               detail=f"no reply to icmp_seq={missing}") for missing in range(previous + 1, seq)]
        timeline.append(reply)
        previous = seq
    if previous is not None and sent is not None:
        last = by_seq[-1][1].at
        first_seq = by_seq[0][0]
        timeline += [Probe(at=last + (missing - previous) * interval, ok=False,
                           detail=f"no reply to icmp_seq={missing}")
                     for missing in range(previous + 1, first_seq + sent)]
    return timeline
