"""The undercloud preflight as Markdown: a verdict line, the failed checks first, then the facts."""

from __future__ import annotations

from typing import TYPE_CHECKING

from rdoflow.reports.markdown import cell, code

if TYPE_CHECKING:
    from rdoflow.tasks.undercloud.model import Preflight

MARK = {"pass": "✅ pass", "fail": "❌ fail", "skip": "➖ skip"}


def render_preflight(preflight: Preflight) -> str:
    facts = preflight.facts
    verdict = "PASS" if preflight.passed else f"FAIL ({len(preflight.failed)} check(s) failed)"
    ordered = sorted(preflight.checks, key=lambda check: check.outcome != "fail")
    lines = [
        f"# Undercloud preflight: {verdict}",
        "",
        f"Host {code(facts.address)} ({cell(facts.fqdn or facts.hostname)}, {cell(facts.os_release)})",
        "",
        "| check | expected | found | outcome |",
        "|---|---|---|---|",
        *(f"| {cell(c.name)} | {cell(c.expected)} | {cell(c.found)} | {MARK.get(c.outcome, c.outcome)} |"
          for c in ordered),
    ]
    if not preflight.passed:
        lines += ["", "**Next:** give the undercloud what the failed checks ask, or lower `undercloud.minimums` "
                      "in the site config if this environment is meant to be smaller."]
    return "\n".join(lines) + "\n"
