"""Resuming a failed pipeline: a stage's result is reused only while the state it left still holds.

A cache key made from what a stage *observes* can never match on the next run, because the stage
changed what it observed (nodes went from absent to available). So each resumable stage is cached
on its inputs (the rendered undercloud.conf, the inventory's content, the drop), and the flow first
observes whether the stage's outcome still holds (the same config is installed; every node is
still available). When it does not, or when the user asks for ``refresh``, the task runs and
rewrites its cache entry.
"""

from __future__ import annotations

import hashlib
import json
from datetime import timedelta
from typing import Any

# How long a stage's success may be reused: a nightly re-run the next morning resumes, last week's does not.
STAGE_CACHE_EXPIRATION = timedelta(hours=24)


def digest(*parts: Any) -> str:
    """A stable sha256 of JSON-able parts (pydantic models are dumped first)."""
    dumped = [part.model_dump(mode="json") if hasattr(part, "model_dump") else part for part in parts]
    return hashlib.sha256(json.dumps(dumped, sort_keys=True, default=str).encode()).hexdigest()


def resumable(stage_task: Any, *, settled: bool, refresh: bool) -> Any:
    """``stage_task`` that reuses its cached result only if the stage's outcome still ``settled``
    (as observed now) and no ``refresh`` was asked for; otherwise it runs and replaces the entry."""
    return stage_task.with_options(refresh_cache=refresh or not settled)
