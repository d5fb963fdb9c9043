"""Leaving a report where people look: a Prefect Markdown artifact on the run, and the same text as a file;
a link artifact to a report kept in the results store.

Every stage's report goes through ``leave_markdown``, so each is found the same two ways: in the UI under
its artifact key, and in the run's report directory under its file name. A page too big or too rich for an
artifact (the HTML reports) is kept in the results store, and ``leave_link`` points the UI at the URL a team
opens it at (``results.public_url``; docs/results.md), not at a path on the worker's disk.
"""

from __future__ import annotations

from pathlib import Path

from prefect.artifacts import create_link_artifact, create_markdown_artifact
from prefect.context import FlowRunContext, TaskRunContext


def leave_markdown(markdown: str, *, key: str, description: str, report_dir: Path | None = None,
                   file_name: str | None = None) -> Path | None:
    """The Markdown as an artifact (inside a flow or task run) and as ``report_dir/<file_name or key>.md``.

    Returns the file written, or None when no report directory was given."""
    if FlowRunContext.get() or TaskRunContext.get():
        create_markdown_artifact(markdown, key=key, description=description)
    if report_dir is None:
        return None
    report_dir.mkdir(parents=True, exist_ok=True)
    path = report_dir / (file_name or f"{key}.md")
    path.write_text(markdown)
    return path


def leave_link(url: str, *, key: str, link_text: str, description: str) -> None:
    """A link artifact to ``url`` on the current flow or task run (none outside a run: the CLI prints it)."""
    if FlowRunContext.get() or TaskRunContext.get():
        create_link_artifact(url, link_text=link_text, key=key, description=description)
