"""A package's distgit at one commit, fetched with git: what DLRN built a drop's package from.

The URL and the commit come from the drop's versions.csv (or the site's rdoinfo), so they are input:
only the protocols the site allows are used (https, http and git by default; ``file`` and ``ssh`` only when
named), the commit must be a hex hash, symlinks are checked out as plain files (a spec cannot point the
review at a file of this machine), and what is checked out is bounded in time and in size.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Sequence
from pathlib import Path
from typing import Literal
from urllib.parse import urlparse

from rdoflow.errors import ResourceFailed
from rdoflow.tasks.local import run_local

Protocol = Literal["https", "http", "git", "ssh", "file"]
DEFAULT_PROTOCOLS: tuple[Protocol, ...] = ("https", "http", "git")
MAX_CHECKOUT_BYTES = 256 << 20
GIT_OUTPUT_LIMIT = 64 << 10


class DistgitFetchFailed(ResourceFailed):
    """A distgit could not be fetched at the commit the drop names (unreachable, unknown commit, too large)."""

    reference = "distgit-fetch-failed"


class DistgitRefused(DistgitFetchFailed):
    """A distgit URL or commit that is not fetched: a protocol the site does not allow, or not a commit hash."""

    reference = "distgit-refused"


def refusal(url: str | None, protocols: Sequence[str]) -> str | None:
    """Why ``url`` is not fetched, or None."""
    if not url:
        return "the drop names no distgit for it (empty Dist Repo)"
    scheme = urlparse(url).scheme
    if not scheme or "://" not in url:
        return f"{url}: not a URL (expected one of {', '.join(p + '://' for p in protocols)})"
    if scheme not in protocols:
        return (f"{url}: the {scheme} protocol is not allowed (allowed: {', '.join(protocols)}; a site names more "
                "in drop_review.distgit_protocols)")
    return None


def _git(*args: str, cwd: Path | None, protocols: Sequence[str], timeout: float):
    """``git ARGS`` with only ``protocols`` allowed, no prompt for credentials, no symlinks checked out."""
    config = ["-c", "protocol.allow=never", *(f for p in protocols for f in ("-c", f"protocol.{p}.allow=always")),
              "-c", "core.symlinks=false", "-c", "advice.detachedHead=false", "-c", "init.defaultBranch=main"]
    env = {**os.environ, "GIT_TERMINAL_PROMPT": "0", "GIT_ASKPASS": "true", "SSH_ASKPASS": "true", "LC_ALL": "C"}
    return run_local(["git", *config, *args], cwd=cwd, env=env, timeout=timeout, output_limit=GIT_OUTPUT_LIMIT)


def checkout(url: str | None, sha: str | None, destination: Path, *, protocols: Sequence[str] = DEFAULT_PROTOCOLS,
             timeout: float = 120, max_bytes: int = MAX_CHECKOUT_BYTES) -> Path:
    """The tree of ``url`` at commit ``sha`` in ``destination`` (created; ``.git`` removed afterwards).

    Fetches only that commit (``--depth 1``); a server that will not serve a commit by its hash, or a short
    hash, gets a full fetch. DistgitRefused or DistgitFetchFailed names the URL, the commit and git's words."""
    why = refusal(url, protocols)
    if why is None and not (sha and 7 <= len(sha) <= 64 and all(c in "0123456789abcdef" for c in sha)):
        why = f"{sha!r} is not a git commit hash"
    if why is not None:
        raise DistgitRefused(f"{url or 'no distgit'} @ {sha}: refused: {why}")
    if destination.exists():
        shutil.rmtree(destination)
    destination.mkdir(parents=True)
    steps = [("init", "-q"), ("fetch", "-q", "--depth", "1", "--no-tags", "--", url, sha)]
    for step in steps:
        done = _git(*step, cwd=destination, protocols=protocols, timeout=timeout)
        if done.exit_status != 0 and step[0] == "fetch":  # the server may not serve a commit by hash: fetch all
            done = _git("fetch", "-q", "--no-tags", "--", url, "+refs/heads/*:refs/remotes/origin/*",
                        cwd=destination, protocols=protocols, timeout=timeout)
        if done.exit_status != 0:
            raise DistgitFetchFailed(f"{url} @ {sha}: git {step[0]} " + ("timed out after "
                                     f"{timeout:g} s" if done.timed_out else f"failed (exit {done.exit_status})"),
                                     evidence=done.tail(8), hint="is the distgit reachable from this worker, and "
                                                                 "does it still hold the commit DLRN built?")
    done = _git("checkout", "-q", "--detach", sha, cwd=destination, protocols=protocols, timeout=timeout)
    if done.exit_status != 0:
        raise DistgitFetchFailed(f"{url} @ {sha}: the commit is not in the repository", evidence=done.tail(8),
                                 hint="the distgit may have been rewritten since DLRN built the package")
    shutil.rmtree(destination / ".git")
    size = sum(path.stat().st_size for path in destination.rglob("*") if path.is_file())
    if size > max_bytes:
        shutil.rmtree(destination)
        raise DistgitRefused(f"{url} @ {sha}: refused: the checkout holds {size} bytes, more than {max_bytes}")
    return destination


def clone(url: str, destination: Path, *, protocols: Sequence[str] = DEFAULT_PROTOCOLS, timeout: float = 120) -> Path:
    """The default branch of ``url``, its last commit only, in ``destination`` (as ``checkout``'s rules)."""
    why = refusal(url, protocols)
    if why is not None:
        raise DistgitRefused(f"{url}: refused: {why}")
    done = _git("clone", "-q", "--depth", "1", "--", url, str(destination), cwd=None, protocols=protocols,
                timeout=timeout)
    if done.exit_status != 0:
        raise DistgitFetchFailed(f"{url}: git clone " + (f"timed out after {timeout:g} s" if done.timed_out
                                                         else f"failed (exit {done.exit_status})"),
                                 evidence=done.tail(8))
    return destination
