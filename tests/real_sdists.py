"""Real upstream sdists too large to keep as test fixtures (tests/fixtures/SOURCES.md says which), downloaded
once from PyPI by pip (``pip download --no-deps --no-binary :all: --require-hashes``) into rdoflow's cache
directory, where later runs find them. Each is the file the RDO spec's Source0 names, checked by sha256.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from rdoflow.lab.venv import built_once, cache_root

# file name: (requirement, sha256 of the sdist on PyPI, the same bytes tarballs.openstack.org publishes)
LARGE_SDISTS = {
    "ironic-24.1.0.tar.gz": ("ironic==24.1.0", "d302f81f1e3b87ea9eb3b936a79a066226799004ed915b3054feab23655f5801"),
    "stevedore-5.2.0.tar.gz": ("stevedore==5.2.0",
                               "46b93ca40e1114cea93d738a6c1e365396981bb6bb78c27045b7587c9473544d"),
}


def large_sdists() -> Path:
    """The directory holding every sdist of LARGE_SDISTS (downloaded the first time; an AssertionError with
    pip's last lines when PyPI cannot be reached)."""
    import hashlib

    key = hashlib.sha256(repr(sorted(LARGE_SDISTS.items())).encode()).hexdigest()[:12]
    target = cache_root() / f"review-sdists-{key}"

    def download() -> None:
        target.mkdir(parents=True, exist_ok=True)
        requirements = target / "requirements.txt"
        requirements.write_text("".join(f"{req} --hash=sha256:{sha}\n" for req, sha in LARGE_SDISTS.values()))
        done = subprocess.run([sys.executable, "-m", "pip", "download", "--quiet", "--no-deps", "--no-binary",
                               ":all:", "--require-hashes", "-r", str(requirements), "-d", str(target)],
                              capture_output=True, text=True, timeout=900)
        missing = [name for name in LARGE_SDISTS if not (target / name).exists()]
        assert done.returncode == 0 and not missing, (
            f"pip download of the review's real sdists failed (exit {done.returncode}, missing {missing}): "
            + " | ".join((done.stderr or done.stdout).splitlines()[-5:]))
        (target / ".complete").write_text("\n".join(LARGE_SDISTS) + "\n")

    return built_once(target, download)
