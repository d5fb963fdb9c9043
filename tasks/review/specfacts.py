"""What a spec file declares, as JSON on stdout: run only inside the review sandbox (tasks/review/sandbox.py).

    python tasks/specfacts.py SPEC SOURCEDIR

The spec is parsed with packit's ``specfile`` (``sanitize=True`` blanks shell and impure Lua
expansions) over the system's RPM bindings; macros come from ``$HOME/.rpmmacros``, which the
review writes into the sandbox. A spec that does not parse prints ``{"error": ...}`` and exits 1.
This file imports nothing of rdoflow, so that the sandbox needs only the venv.
"""

from __future__ import annotations

import json
import sys


def _strings(ds) -> list[str]:
    return [entry.DNEVR()[2:] for entry in ds]


def _sections(spec) -> dict[str, str]:
    with spec.sections() as sections:
        return {section.id: "\n".join(section) for section in sections}


def _changelog(spec) -> list[dict]:
    with spec.changelog() as changelog:
        return [{"header": entry.header, "evr": str(entry.evr) if entry.evr else None, "content": "\n".join(entry.content)}
                for entry in changelog]


def _packages(spec) -> list[dict]:
    import rpm

    packages = []
    for package in spec.rpm_spec.packages:
        header = package.header
        packages.append({
            "name": header[rpm.RPMTAG_NAME],
            "nevr": header[rpm.RPMTAG_NEVR],
            "license": header[rpm.RPMTAG_LICENSE],
            "requires": _strings(rpm.ds(header, "requires")),
            "provides": _strings(rpm.ds(header, "provides")),
            "files": [line for line in (package.fileList or "").splitlines() if line.strip()],
        })
    return packages


def _numbered(sources, kind: int) -> list[dict]:
    """The active Sources (or Patches) by number, Source0 first: rpm lists them last declared first, so
    ``sources[0]`` was the spec's highest-numbered Source (a .service file, for openstack-ironic)."""
    found = [{"number": number, "location": location} for location, number, flags in sources if flags == kind]
    return sorted(found, key=lambda source: source["number"])


def facts(spec_path: str, sourcedir: str) -> dict:
    """The spec's tags, sources, dependencies, sections and changelog, expanded by rpm."""
    import rpm
    from specfile import Specfile

    spec = Specfile(spec_path, sourcedir=sourcedir, sanitize=True, force_parse=True)
    parsed = spec.rpm_spec
    source_header = parsed.sourceHeader
    return {
        "name": spec.expanded_name,
        "version": spec.expanded_version,
        "release": spec.expanded_release,
        "license": spec.expanded_license,
        "url": spec.expanded_url,
        "summary": spec.expanded_summary,
        "nevr": parsed.packages[0].header[rpm.RPMTAG_NEVR],
        "sources": _numbered(parsed.sources, rpm.RPMBUILD_ISSOURCE),
        "patches": _numbered(parsed.sources, rpm.RPMBUILD_ISPATCH),
        "build_requires": _strings(rpm.ds(source_header, "requires")),
        "packages": _packages(spec),
        "sections": _sections(spec),
        "changelog": _changelog(spec),
    }


def main(argv: list[str]) -> int:
    try:
        found = facts(argv[0], argv[1])
    except Exception as exc:  # any parse failure is reported, the review decides what it means
        # specfile's RPMException keeps all of rpm's stderr; its message is only the first error.
        messages = [line.decode(errors="replace").strip() for line in getattr(exc, "stderr", None) or []]
        print(json.dumps({"error": f"{type(exc).__name__}: {exc}".strip(),
                          "messages": [line for line in messages if line.startswith(("error:", "warning:"))]}))
        return 1
    print(json.dumps(found))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
