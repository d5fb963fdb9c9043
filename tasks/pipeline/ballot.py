"""The nightly's vote on the drop it tested: DLRN hears success when the stages inside pass, failure when the
cloud failed in them, and nothing when rdoflow could not test.

"The cloud failed" is what the CLI calls it (exit 1): a failed check, resource, remote command or stage timeout,
a red verdict. Bad input or a host that never answered (exit 2 and 3) says nothing about the drop: voting
failure then would block a good drop on rdoflow's own trouble, so no vote is cast and the log says why.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from rdoflow.config.site import SiteConfig
from rdoflow.errors import RemoteCommandFailed, ResourceFailed, StageTimeout
from rdoflow.tasks.pipeline.record import Pipeline
from rdoflow.tasks.prerelease.vote import Vote, vote_for_drop

CLOUD_FAILED = (ResourceFailed, StageTimeout, RemoteCommandFailed)
NOTES_LIMIT = 400  # DLRN keeps notes in a text column; a line or two is what its pages show


@dataclass
class Ballot:
    """What the stages inside tell the vote: the report a voter opens (set by the flow once it has one)."""

    info_url: str = ""
    vote: Vote | None = None
    skipped: str = field(default="")


def _fallback_url(report_dir: Path | None) -> str:
    """Where the run's reports are when no report made it to the results store: its UI page, else its directory."""
    from prefect.runtime import flow_run

    return flow_run.ui_url or (report_dir.resolve().as_uri() if report_dir else "")


@contextmanager
def ballot(pipeline: Pipeline, site: SiteConfig, drop: str | None, report_dir: Path | None) -> Iterator[Ballot]:
    """Run the block, then vote its outcome on ``drop`` when the site votes (``drop.vote`` and ``drop.base_url``
    set) as a stage of its own, 'vote'. On failure the error of the block is raised again, whatever the vote's."""
    ballot_ = Ballot()
    options = site.drop.vote
    if not drop or options is None or site.drop.base_url is None:
        ballot_.skipped = "no drop" if not drop else "the site does not vote (drop.vote, drop.base_url)"
        try:
            yield ballot_
        finally:  # recorded after the stages inside, so that the summary lists the stages in the order they ran
            pipeline.skip("vote", ballot_.skipped)
        return
    try:
        yield ballot_
    except CLOUD_FAILED as exc:
        urls = getattr(exc, "report_urls", None) or {}
        stage = getattr(exc, "stage", None) or "the pipeline"
        try:
            with pipeline.stage("vote"):
                ballot_.vote = vote_for_drop(options, site.drop.base_url, drop, success=False,
                                             info_url=urls.get("html") or ballot_.info_url
                                             or _fallback_url(report_dir),
                                             notes=f"{stage}: {exc.message}"[:NOTES_LIMIT])
        except Exception:  # noqa: BLE001 - recorded as the vote stage's failure; the cloud's error is the answer
            pass
        raise
    except BaseException:
        pipeline.skip("vote", "not voted: rdoflow could not test (the drop was not judged)")
        raise
    with pipeline.stage("vote"):
        ballot_.vote = vote_for_drop(options, site.drop.base_url, drop, success=True,
                                     info_url=ballot_.info_url or _fallback_url(report_dir), notes="every stage passed")
