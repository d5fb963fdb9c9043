"""The static items of the Fedora review checklist, decided from spec facts, the SRPM and the tarball.

Each check is a small function returning one ReviewItem with its evidence; check names follow
fedora-review's where one exists, so that both backends' reports line up. What cannot be
decided without a binary build is "not_applicable", what only a person can judge "needs_human".
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from license_expression import ExpressionError, get_spdx_licensing

from rdoflow.outcome import CommandResult
from rdoflow.tasks.review.model import ItemStatus, ReviewItem

SYSTEM_DIRS = {"/", "/etc", "/usr", "/usr/bin", "/usr/sbin", "/usr/lib", "/usr/lib64", "/usr/share",
               "/usr/share/doc", "/usr/share/licenses", "/usr/share/man", "/usr/include", "/usr/libexec",
               "/var", "/var/lib", "/var/log", "/run", "/opt", "/srv",
               "/usr/lib/python3.9/site-packages", "/usr/lib64/python3.9/site-packages",
               "/usr/lib/systemd/system", "/etc/systemd/system"}
LICENSE_FILE = re.compile(r"(^|/)(LICEN[CS]E|COPYING|COPYRIGHT|NOTICE)[^/]*$", re.I)
DEPENDENCY = re.compile(r"^(\S+)( (=|<|>|<=|>=) \S+)?$")
# What makes a spec a Python package's (python_evidence), whatever its name.
PYTHON_BUILD_REQUIRES = re.compile(r"^(python3\d*-(devel|setuptools|pbr|wheel)|pyproject-rpm-macros|python3\d*dist\()")
PYTHON_BUILD_MACROS = re.compile(r"%\{?(py3_build|py3_install|pyproject_wheel|pyproject_install)\b")
PYTHON_SITE = re.compile(r"/usr/lib(64)?/python3[.\d]*/site-packages/")
# rpmlint's exit statuses when it checked everything (lint.py: 64 errors, 65 all of them promoted, 66 badness
# over the threshold); any other (4: its configuration did not load) means it did not.
RPMLINT_COMPLETED = (0, 64, 65, 66)
RPMLINT_SUMMARY = re.compile(r"\d+ packages and \d+ specfiles checked;")
NEEDS_BUILD = {
    "CheckBuild": "Package builds into binary RPMs (needs a mock build: fedora-review backend).",
    "CheckPackageInstalls": "Package installs properly (needs the binary RPMs).",
    "CheckRpmlintInstalled": "rpmlint on the installed packages (needs the binary RPMs).",
    "CheckFilePermissions": "Permissions on installed files are set properly (needs the binary RPMs).",
}
HUMAN_ONLY = {
    "CheckApprovedLicense": "The license is approved for RDO/Fedora and the code meets the legal requirements.",
    "CheckSpecLegibility": "Spec file is legible and written in American English.",
    "CheckLatestVersionIsPackaged": "The latest upstream version is packaged (or the spec says why not).",
    "CheckNoNameConflict": "No other package in RDO or Fedora already uses this name.",
}


@dataclass
class SpecFacts:
    """What the sandboxed parser (tasks/specfacts.py) found, plus the spec's text."""

    data: dict[str, Any]
    text: str
    rpm_messages: list[str] = field(default_factory=list)
    original_name: str = ""
    dlrn_template: bool = False

    def __getattr__(self, name: str) -> Any:
        if name in ("error", "name", "version", "release", "license", "url", "summary", "nevr"):
            return self.data.get(name)
        if name in ("sources", "patches", "build_requires", "packages", "changelog"):
            return self.data.get(name, [])
        if name == "sections":
            return self.data.get("sections", {})
        raise AttributeError(name)


@dataclass
class Tarball:
    """What Source0 holds, read without running anything in it."""

    name: str
    names: list[str] = field(default_factory=list)
    binaries: list[str] = field(default_factory=list)
    licenses: list[str] = field(default_factory=list)
    error: str | None = None


@dataclass
class UpstreamComparison:
    location: str
    packaged_sha256: str
    upstream_sha256: str | None
    note: str


def _item(check: str, text: str, status: ItemStatus, *evidence: str, severity: str = "MUST",
          group: str = "Generic") -> ReviewItem:
    return ReviewItem(check=check, text=text, status=status, evidence=[e for e in evidence if e],
                      severity=severity, group=group)


def _spec_lines(facts: SpecFacts, pattern: str) -> list[str]:
    return [f"line {n}: {line.strip()}" for n, line in enumerate(facts.text.splitlines(), 1)
            if re.search(pattern, line)]


def check_parses(facts: SpecFacts) -> ReviewItem:
    if facts.error:
        return _item("CheckSpecParses", "rpm parses the spec file.", "fail", facts.error, *facts.rpm_messages[:8])
    return _item("CheckSpecParses", "rpm parses the spec file.", "pass", *facts.rpm_messages[-5:])


def check_parse_time_code(facts: SpecFacts) -> ReviewItem:
    found = _spec_lines(facts, r"%\(|%\{lua:|%\[")
    text = "No shell or Lua runs when the spec is parsed (it ran only in rdoflow's sandbox)."
    if found:
        return _item("CheckParseTimeCode", text, "needs_human", *found[:10], severity="SHOULD")
    return _item("CheckParseTimeCode", text, "pass", severity="SHOULD")


def check_tags(facts: SpecFacts) -> list[ReviewItem]:
    name_ok = bool(facts.name) and re.fullmatch(r"[A-Za-z0-9._+-]+", facts.name) is not None
    items = [
        _item("CheckNameCharset", "Package is named using only allowed ASCII characters.",
              "pass" if name_ok else "fail", f"Name: {facts.name}"),
        _item("CheckSpecName", "Spec file name must match the spec package %{name}, as %{name}.spec.",
              "pass" if facts.original_name == f"{facts.name}.spec" else "fail",
              f"spec file {facts.original_name}, Name {facts.name}"),
        _item("CheckVersion", "Version is present and holds no '-'.",
              "pass" if facts.version and "-" not in facts.version else "fail", f"Version: {facts.version}"),
        _item("CheckDistTag", "Dist tag is present.",
              "pass" if _spec_lines(facts, r"^Release:.*%\{\?dist\}") else "fail",
              *(_spec_lines(facts, r"^Release:") or ["no Release line"])),
        _item("CheckSummary", "Summary is present and does not end with a period.",
              "pass" if facts.summary and not facts.summary.endswith(".") else "fail", f"Summary: {facts.summary}",
              severity="SHOULD"),
        _item("CheckURL", "URL is present and points to the upstream project (http or https).",
              "pass" if re.match(r"https?://", facts.url or "") else "fail", f"URL: {facts.url}"),
        _item("CheckBuildroot", "Buildroot is not present.",
              "fail" if _spec_lines(facts, r"^BuildRoot:") else "pass", *_spec_lines(facts, r"^BuildRoot:"),
              severity="SHOULD"),
        _item("CheckClean", "Package has no %clean section.", "fail" if "clean" in facts.sections else "pass",
              severity="SHOULD"),
        _item("CheckIllegalSpecTags", "Packager, Vendor, PreReq, Copyright tags are not in the spec file.",
              "fail" if _spec_lines(facts, r"^(Packager|Vendor|PreReq|Copyright):") else "pass",
              *_spec_lines(facts, r"^(Packager|Vendor|PreReq|Copyright):"), severity="SHOULD"),
    ]
    defines = [line for line in _spec_lines(facts, r"^%define ") if "upstream_version" not in line]
    items.append(_item("CheckUseGlobal", "Spec uses %global instead of %define unless justified.",
                       "needs_human" if defines else "pass", *defines, severity="SHOULD"))
    return items


def check_license(facts: SpecFacts, tarball: Tarball | None) -> list[ReviewItem]:
    licensing = get_spdx_licensing()
    declared = facts.license or ""
    try:
        parsed = licensing.validate(declared, strict=True)
        unknown = parsed.invalid_symbols or parsed.errors
    except ExpressionError as exc:
        unknown = [str(exc)]
    valid = bool(declared) and not unknown
    items = [_item("CheckLicenseTag", "License is a valid SPDX expression.", "pass" if valid else "fail",
                   f"License: {declared or '(missing)'}", *(f"not SPDX: {u}" for u in unknown))]
    if tarball is None:
        items.append(_item("CheckLicensInDoc", "License files of the source are included in %license.",
                           "not_applicable", "no Source0 tarball to look into"))
        return items
    shipped = sorted({Path(n).name for n in tarball.names if LICENSE_FILE.search(n) and n.count("/") <= 1})
    packaged = {Path(f.split()[-1]).name for p in facts.packages for f in p["files"] if f.startswith("%license")}
    missing = [name for name in shipped if name not in packaged]
    items.append(_item("CheckLicensInDoc", "License files of the source are included in %license.",
                       "fail" if missing else ("pass" if shipped else "needs_human"),
                       f"license files in {tarball.name}: {', '.join(shipped) or 'none'}",
                       f"marked %license: {', '.join(sorted(packaged)) or 'none'}"))
    items.append(_item("CheckLicenseField", "License field matches the actual license.", "needs_human",
                       f"licensecheck found: {', '.join(tarball.licenses) or 'nothing'}", f"License: {declared}"))
    return items


def check_changelog(facts: SpecFacts) -> ReviewItem:
    text = "%changelog has an entry for this version-release."
    if facts.dlrn_template:
        return _item("CheckChangelogFormat", text, "not_applicable", "DLRN template: DLRN writes the changelog")
    if not facts.changelog:
        return _item("CheckChangelogFormat", text, "fail", "no %changelog entry")
    latest = facts.changelog[-1]
    wanted = f"{facts.version}-{facts.release}"
    ok = latest["evr"] is not None and latest["evr"].split(":")[-1] == wanted
    return _item("CheckChangelogFormat", text, "pass" if ok else "fail", f"latest entry: {latest['header']}",
                 f"expected EVR {wanted}")


def check_sources(facts: SpecFacts, upstream: UpstreamComparison | None, fetch_problems: list[str]) -> list[ReviewItem]:
    items = [_item("CheckSourceUrl", "Source0 is a working URL.",
                   "fail" if fetch_problems else ("pass" if facts.sources else "fail"),
                   *(fetch_problems or [f"Source{s['number']}: {s['location']}" for s in facts.sources]
                     or ["no Source0"]), severity="SHOULD")]
    text = "Sources used to build the package match the upstream source (sha256)."
    if upstream is None:
        items.append(_item("CheckSourceMD5", text, "not_applicable", "no Source0 file"))
    elif upstream.upstream_sha256 is None:
        items.append(_item("CheckSourceMD5", text, "needs_human", upstream.note,
                           f"packaged sha256 {upstream.packaged_sha256}"))
    else:
        same = upstream.packaged_sha256 == upstream.upstream_sha256
        items.append(_item("CheckSourceMD5", text, "pass" if same else "fail", upstream.note,
                           f"packaged sha256 {upstream.packaged_sha256}", f"upstream sha256 {upstream.upstream_sha256}",
                           f"upstream {upstream.location}"))
    return items


def check_tarball(tarball: Tarball | None) -> ReviewItem:
    text = "The source tarball bundles no prebuilt binaries (ELF, .so, .jar, .whl, .pyc, .egg...)."
    if tarball is None:
        return _item("CheckBundledBinaries", text, "not_applicable", "no Source0 tarball")
    if tarball.error:
        return _item("CheckBundledBinaries", text, "error", tarball.error)
    return _item("CheckBundledBinaries", text, "fail" if tarball.binaries else "pass",
                 *tarball.binaries[:20], f"{len(tarball.names)} entries in {tarball.name}")


def check_dependencies(facts: SpecFacts) -> list[ReviewItem]:
    declared = [("BuildRequires", d) for d in facts.build_requires]
    declared += [(f"Requires({p['name']})", d) for p in facts.packages for d in p["requires"]]
    malformed = [f"{kind}: {dep}" for kind, dep in declared if not DEPENDENCY.match(dep) or "%" in dep]
    python2 = [f"{kind}: {dep}" for kind, dep in declared if re.match(r"python-(?!rpm-macros)", dep)]
    return [
        _item("CheckRequiresWellFormed", "Requires and BuildRequires are well formed (name [op version]).",
              "fail" if malformed else "pass", *malformed, f"{len(declared)} dependencies declared"),
        _item("CheckPythonRequires", "No unversioned python- (Python 2) dependencies.",
              "fail" if python2 else "pass", *python2),
    ]


def check_files(facts: SpecFacts) -> ReviewItem:
    owned = [f"{p['name']}: {entry}" for p in facts.packages for entry in p["files"]
             if entry.split()[-1].rstrip("/") in SYSTEM_DIRS or entry.split()[-1] == "/"]
    return _item("CheckOwnOther", "%files does not own system directories.", "fail" if owned else "pass", *owned)


def python_evidence(facts: SpecFacts) -> list[str]:
    """Why the package is a Python one, or nothing: its name, a Python BuildRequires, the Python build
    macros in %build/%install, or files in Python's site-packages. Many RDO services (openstack-ironic,
    openstack-nova) are Python packages without the python- prefix."""
    found = [f"Name: {facts.name}"] if re.match(r"python\d*-", facts.name or "") else []
    found += [f"BuildRequires: {dep}" for dep in facts.build_requires if PYTHON_BUILD_REQUIRES.match(dep)][:2]
    build = facts.sections.get("build", "") + facts.sections.get("install", "")
    found += sorted({f"%{macro} in %build/%install" for macro in PYTHON_BUILD_MACROS.findall(build)})
    sitelib = [f"%files: {entry}" for p in facts.packages for entry in p["files"] if PYTHON_SITE.search(entry)]
    return found + sitelib[:1]


def check_python_macros(facts: SpecFacts) -> ReviewItem:
    text = "Python packages build with the Python packaging macros."
    why = python_evidence(facts)
    if not why:
        return _item("CheckPythonMacros", text, "not_applicable", "not a Python package: no python- name, Python "
                     "BuildRequires, Python build macro or site-packages file", group="Python")
    build = facts.sections.get("build", "") + facts.sections.get("install", "")
    if re.search(r"%\{?pyproject_(wheel|install)", build):
        return _item("CheckPythonMacros", text, "pass", "%pyproject_wheel / %pyproject_install", *why,
                     group="Python")
    if re.search(r"%\{?py3_(build|install)", build):
        return _item("CheckPythonMacros", text, "needs_human", "legacy %py3_build / %py3_install (deprecated "
                     "in Fedora; still used by older RDO releases)", *why, group="Python")
    return _item("CheckPythonMacros", text, "fail", "no %pyproject_* or %py3_* macro in %build/%install", *why,
                 group="Python")


def check_rpmlint(ran: CommandResult) -> ReviewItem:
    """rpmlint ran to its end: a configuration it cannot read (exit 4), a crash or a timeout prints no
    finding at all, which must not read as a clean package."""
    text = "rpmlint checked the package with rdoflow's configuration."
    summary = [line.strip(" =") for line in ran.stdout.splitlines() if RPMLINT_SUMMARY.search(line)]
    if ran.exit_status in RPMLINT_COMPLETED and summary:
        return _item("CheckRpmlint", text, "pass", summary[-1])
    ended = "timed out" if ran.exit_status is None else f"exited {ran.exit_status}"
    return _item("CheckRpmlint", text, "error", f"rpmlint {ended} without checking the package",
                 *ran.tail(5))


def check_tests(facts: SpecFacts) -> ReviewItem:
    if "check" in facts.sections:
        return _item("CheckTestSuites", "%check is present and all tests pass.", "needs_human",
                     "%check present; whether it passes needs a build", severity="SHOULD")
    return _item("CheckTestSuites", "%check is present and all tests pass.", "fail", "no %check section",
                 severity="SHOULD")


def evaluate(facts: SpecFacts, tarball: Tarball | None, upstream: UpstreamComparison | None,
             fetch_problems: list[str], *, built: Any) -> list[ReviewItem]:
    """Every static checklist item for one package; a spec that does not parse gets that item only."""
    if facts.error:
        return [check_parses(facts), check_parse_time_code(facts)]
    items = [check_parses(facts), check_parse_time_code(facts), *check_tags(facts),
             *check_license(facts, tarball), check_changelog(facts), *check_sources(facts, upstream, fetch_problems),
             check_tarball(tarball), *check_dependencies(facts), check_files(facts), check_python_macros(facts),
             check_tests(facts)]
    if built is not None and not isinstance(built, Path):
        items += built.items
    elif built is not None:
        items.append(_item("CheckBuildSRPM", "The SRPM builds with rpmbuild -bs.", "pass", built.name))
    items += [_item(check, text, "not_applicable", "needs a binary build") for check, text in NEEDS_BUILD.items()]
    items += [_item(check, text, "needs_human") for check, text in HUMAN_ONLY.items()]
    return items
