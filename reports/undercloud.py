"""The undercloud bootstrap as Markdown: verdict and error first, then preflight, undercloud.conf, install, verification."""

from __future__ import annotations

from typing import TYPE_CHECKING

from rdoflow.reports.markdown import cell, code, fenced
from rdoflow.reports.preflight import MARK

if TYPE_CHECKING:
    from rdoflow.tasks.undercloud.model import Check, UndercloudBootstrap


def _checks(checks: list[Check]) -> list[str]:
    ordered = sorted(checks, key=lambda check: check.outcome != "fail")
    return ["| check | expected | found | outcome |", "|---|---|---|---|",
            *(f"| {cell(c.name)} | {cell(c.expected)} | {cell(c.found)} | {MARK.get(c.outcome, c.outcome)} |"
              for c in ordered)]


def _error(report: UndercloudBootstrap) -> list[str]:
    error = report.error
    if error is None:
        return []
    lines = [f"**Error** (`{error.reference}`): {cell(error.message)}", ""]
    if error.evidence:
        lines += [*fenced(error.evidence, "text"), ""]
    if error.hint:
        lines += [f"**Next:** {cell(error.hint)}", ""]
    return lines


def _conf(report: UndercloudBootstrap) -> list[str]:
    conf = report.conf
    if conf is None:
        return ["Not rendered: the stage stopped before."]
    if conf.host_sha256 is None:
        compared = "The host had no undercloud.conf."
    elif conf.host_sha256 == conf.sha256:
        compared = "The host's undercloud.conf is the same."
    else:
        compared = f"The host's undercloud.conf differed (sha256 `{conf.host_sha256[:12]}…`): " + (
            cell(conf.changes.summary()) if conf.changes else "keys not compared") + "."
    return [f"sha256 `{conf.sha256}`. {compared}", "", "```ini", conf.text.rstrip("\n"), "```"]


def _install(report: UndercloudBootstrap) -> str:
    install = report.install
    if install is None:
        return "Not run: the stage stopped before." if report.error else "Not run."
    if not install.ran:
        how = "reused an earlier run's result" if install.cached else "verified instead"
        return f"**Skipped** ({how}): {cell(install.why)}."
    version = f", version {cell(install.version)}" if install.version else ""
    waited = (" It first waited for the install a dropped SSH session had left running on the host."
              if install.waited_for_earlier else "")
    return f"**Ran** because {cell(install.why)}: {install.seconds:g} s, {install.steps} step(s){version}.{waited}"


def render_bootstrap(report: UndercloudBootstrap) -> str:
    verdict = "PASS" if report.passed else "FAIL"
    drop = f"drop {code(report.drop)}" if report.drop else "no drop given"
    preflight = _checks(report.preflight.checks) if report.preflight else ["Not run."]
    verification = _checks(report.checks) if report.checks else ["Not run: the stage stopped before."]
    lines = [
        f"# Undercloud bootstrap: {verdict}", "",
        f"Site {code(report.site)}, host {code(report.address)}, {drop}; {report.seconds:g} s.", "",
        *_error(report),
        "## Preflight", "", *preflight, "",
        "## undercloud.conf", "", *_conf(report), "",
        "## Install", "", _install(report), "",
        "## Verification", "", *verification,
    ]
    return "\n".join(lines) + "\n"
