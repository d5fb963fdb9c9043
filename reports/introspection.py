"""Node introspection as Markdown and table rows: the verdict per role, failed nodes first, each node's hardware."""

from __future__ import annotations

from typing import TYPE_CHECKING

from rdoflow.outcome import Outcome
from rdoflow.reports.markdown import cell, code

if TYPE_CHECKING:
    from rdoflow.tasks.baremetal.model import Introspection, NodeResult

MARK = {Outcome.PASS: "✅ available", Outcome.FAIL: "❌ failed", Outcome.TIMEOUT: "⏱ timed out"}


def node_row(node: NodeResult) -> dict[str, str]:
    """One node as a table row (the table artifact and the Markdown report share it)."""
    hardware = node.hardware
    return {
        "name": node.name or "",
        "uuid": node.uuid,
        "profile": node.profile or "",
        "state": node.state or "",
        "outcome": node.outcome,
        "cpus": str(hardware.cpus) if hardware and hardware.cpus is not None else "",
        "ram": f"{hardware.memory_mb / 1024:g} GiB" if hardware and hardware.memory_mb else "",
        "disks": ", ".join(f"{d.name} {d.size_gb:g} GiB" for d in hardware.disks) if hardware else "",
        "nics": ", ".join(f"{n.name} {n.mac}" for n in hardware.nics) if hardware else "",
        "last_error": node.last_error or "",
    }


def node_rows(introspection: Introspection) -> list[dict[str, str]]:
    order = {Outcome.FAIL: 0, Outcome.TIMEOUT: 1, Outcome.PASS: 2}
    nodes = sorted(introspection.nodes, key=lambda node: (order[node.outcome], node.name or node.uuid))
    return [node_row(node) for node in nodes]


def render_introspection(result: Introspection) -> str:
    shortfall = result.shortfall
    verdict = "PASS" if result.passed else "FAIL (" + ", ".join(
        f"{profile}: {have} of {need} required" for profile, (have, need) in shortfall.items()) + ")"
    have = result.available_by_profile
    enrolled = result.enrollment
    lines = [
        f"# Node introspection: {verdict}",
        "",
        f"Inventory {code(result.source)}: {len(result.nodes)} node(s); {len(result.succeeded)} available, "
        f"{len(result.failed)} failed, {len(result.timed_out)} timed out. Enrolled: {len(enrolled.created)} "
        f"created, {len(enrolled.updated)} updated, {len(enrolled.unchanged)} unchanged, "
        f"{enrolled.ports_created} port(s) created. {result.requests} API request(s) in {result.seconds:.1f} s.",
        "",
        "| profile | available | required |",
        "|---|---|---|",
        *(f"| {cell(profile)} | {have[profile]} | {result.required.get(profile, '-')} |"
          for profile in sorted({*have, *result.required}, key=str)),
    ]
    problems = [*result.failed.values(), *result.timed_out.values()]
    if problems:
        lines += ["", "## Nodes that did not become available", ""]
        lines += [f"- **{cell(node.label)}** ({MARK[node.outcome]}, state {code(node.state)}, "
                  f"{node.attempts} inspection(s)): {cell(node.last_error)}" for node in problems]
    if result.warnings:
        lines += ["", "## Warnings", "", *(f"- {cell(warning)}" for warning in result.warnings)]
    if enrolled.warnings:
        lines += ["", "## Enrollment warnings", "", *(f"- {cell(warning)}" for warning in enrolled.warnings)]
    lines += ["", "## Nodes", "", "| name | uuid | profile | state | CPUs | RAM | disks | NICs | last error |",
              "|---|---|---|---|---|---|---|---|---|"]
    lines += [f"| {cell(r['name'])} | {r['uuid']} | {cell(r['profile'])} | {cell(r['state'])} | {r['cpus']} | "
              f"{r['ram']} | {cell(r['disks'])} | {cell(r['nics'])} | {cell(r['last_error'])} |"
              for r in node_rows(result)]
    if not result.passed:
        lines += ["", "**Next:** read each failed node's last error (BMC credentials, the inspection ramdisk, "
                      "the node's network), fix it and re-run; or lower `inventory.min_available` if fewer nodes will do."]
    return "\n".join(lines) + "\n"
