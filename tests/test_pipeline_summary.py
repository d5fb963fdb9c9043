"""A pipeline's summary explains a red run in one screen: the failed stage, its error, evidence, next step."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import pytest

from rdoflow.errors import ResourceFailed, StageTimeout
from rdoflow.tasks.pipeline import record
from rdoflow.tasks.pipeline.record import Pipeline

STAGES = ["bootstrap", "deploy", "compare"]


def test_the_failed_stage_is_named_with_its_error_evidence_and_hint_and_later_stages_are_not_run(tmp_path):
    with pytest.raises(ResourceFailed) as raised:
        with Pipeline("nightly", "lab", stages=STAGES, drop="abc123", report_dir=tmp_path) as pipeline:
            with pipeline.stage("bootstrap"):
                pass
            with pipeline.stage("deploy"):
                raise ResourceFailed("stack overcloud CREATE_FAILED: Compute.0.Config failed",
                                     evidence=["Compute.0.Config: CREATE_FAILED: disk not found"],
                                     hint="fix the node, then re-run")
    assert raised.value.stage == "deploy"
    summary = (tmp_path / "nightly.md").read_text()
    assert summary.startswith("# nightly on lab, drop `abc123`: FAIL")
    assert "**Failed stage:** `deploy`" in summary
    assert "`[resource-failed]`: stack overcloud CREATE_FAILED: Compute.0.Config failed" in summary
    assert "Compute.0.Config: CREATE_FAILED: disk not found" in summary
    assert "**Next:** fix the node, then re-run" in summary
    assert "| compare | ➖ skipped |" in summary and "not run: an earlier stage failed" in summary
    assert pipeline.summary.verdict == "fail"
    assert [s.outcome for s in pipeline.summary.stages] == ["pass", "fail", "skip"]


def test_a_stage_failing_inside_a_nested_pipeline_keeps_the_inner_stage_name(tmp_path):
    with pytest.raises(StageTimeout) as raised:
        with Pipeline("nightly", "lab", stages=["upgrade-regression"], report_dir=tmp_path) as outer:
            with outer.stage("upgrade-regression"):
                with Pipeline("upgrade-regression", "lab", stages=["upgrade"], report_dir=tmp_path) as inner:
                    with inner.stage("upgrade"):
                        raise StageTimeout("stack overcloud did not become UPDATE_COMPLETE within 60 s")
    assert raised.value.stage == "upgrade"
    assert "(failed in upgrade)" in (tmp_path / "nightly.md").read_text()
    assert "**Failed stage:** `upgrade`" in (tmp_path / "upgrade-regression.md").read_text()


def test_an_unexpected_exception_is_recorded_as_such_and_passes_through_unchanged(tmp_path):
    with pytest.raises(KeyError) as raised:
        with Pipeline("nightly", "lab", stages=["deploy"], report_dir=tmp_path) as pipeline:
            with pipeline.stage("deploy"):
                raise KeyError("stack_status")
    failed = pipeline.summary.failed
    assert failed.reference == "unexpected-error" and "KeyError" in failed.error
    assert raised.value.stage == "deploy"  # the CLI names the stage, and exits 1 as for any failed stage


@pytest.mark.parametrize("status, hint", [(503, "failed on its side"), (409, "refused the request")])
def test_an_openstack_api_error_is_shown_with_its_status_and_request(tmp_path, status, hint):
    import requests
    from openstack import exceptions as sdk_exc

    from tests.loopback_http import answering

    with answering(status) as url, pytest.raises(sdk_exc.HttpException):
        with Pipeline("nightly", "lab", stages=["node-introspection"], report_dir=tmp_path) as pipeline:
            with pipeline.stage("node-introspection"):
                sdk_exc.raise_from_response(requests.get(f"{url}/v1/nodes", timeout=10))
    failed = pipeline.summary.failed
    assert failed.reference == "openstack-api-error" and failed.evidence[0] == f"HTTP {status}"
    assert any(line.endswith("/v1/nodes") for line in failed.evidence) and hint in failed.hint
    assert f"HTTP {status}" in (tmp_path / "nightly.md").read_text()


def test_a_green_run_lists_every_stage_with_its_time(tmp_path, monkeypatch):
    """The record's clock is a stand-in (``time.monotonic`` of the record module only): stages that really
    took 2.5 s and 61 s would make the test a minute long, and a real clock's times are never exact."""
    clock = iter([100.0, 102.5, 200.0, 200.04, 300.0, 361.0])  # each stage's start and end (time.monotonic)
    monkeypatch.setattr(record, "time", SimpleNamespace(monotonic=lambda: next(clock)))
    with Pipeline("nightly", "lab", stages=STAGES, report_dir=tmp_path) as pipeline:
        for name in STAGES:
            with pipeline.stage(name) as stage:
                stage.summary = f"{name} done"
    summary = (tmp_path / "nightly.md").read_text()
    assert summary.startswith("# nightly on lab: PASS") and "Failed stage" not in summary
    assert [(s.stage, s.seconds) for s in pipeline.summary.stages] == [("bootstrap", 2.5), ("deploy", 0.0),
                                                                         ("compare", 61.0)]
    assert "| bootstrap | ✅ pass | 2.5 | bootstrap done |" in summary
    assert "| deploy | ✅ pass | 0 | deploy done |" in summary and "| compare | ✅ pass | 61 | compare done |" in summary


def test_a_stage_runs_its_subflows_without_heartbeats_of_their_own_and_restores_the_setting():
    from prefect.settings import (
        PREFECT_FLOWS_HEARTBEAT_FREQUENCY,
        get_current_settings,
        temporary_settings,
    )

    with temporary_settings({PREFECT_FLOWS_HEARTBEAT_FREQUENCY: 60}):  # the pipeline's own flow run's
        with Pipeline("nightly", "lab", stages=["a"]).stage("a"):
            assert get_current_settings().flows.heartbeat_frequency is None
        assert get_current_settings().flows.heartbeat_frequency == 60


@pytest.mark.parametrize("drop", [None, "abc123de_f0e1d2c3"])
def test_a_run_that_does_not_vote_says_why_after_the_stages_it_ran(tmp_path, drop):
    from rdoflow.config.site import load_site
    from rdoflow.tasks.pipeline.ballot import ballot

    site = load_site(Path(__file__).parent / "sites" / "good.yaml")
    site = site.model_copy(update={"drop": site.drop.model_copy(update={"vote": None})})
    with Pipeline("nightly", "lab", stages=["deploy", "vote"], drop=drop, report_dir=tmp_path) as pipeline:
        with ballot(pipeline, site, drop, tmp_path):
            with pipeline.stage("deploy"):
                pass
    assert [(s.stage, s.outcome) for s in pipeline.summary.stages] == [("deploy", "pass"), ("vote", "skip")]
    assert pipeline.summary.stages[-1].summary == ("no drop" if drop is None else
                                                   "the site does not vote (drop.vote, drop.base_url)")
