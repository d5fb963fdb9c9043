"""A site chooses tests of the inspection catalogue by name: checked when the file is read, merged with its own lists."""

from __future__ import annotations

import pytest

from rdoflow.config.catalogue import load_catalogue
from rdoflow.config.site import RegressionSite, load_site
from rdoflow.errors import ConfigError

SITE = "name: lab\nundercloud:\n  ssh: {host: uc.example.com}\nregression:\n"
SELECTIONS = "full, smoke, bare-metal-and-orchestration, customer-workloads"
AREAS = "identity, compute-and-volumes, networking, bare-metal, orchestration, admin"


def load(tmp_path, regression: str):
    (tmp_path / "site.yaml").write_text(SITE + regression)
    return load_site(tmp_path / "site.yaml")


def problems(tmp_path, regression: str) -> list[str]:
    with pytest.raises(ConfigError) as caught:
        load(tmp_path, regression)
    return caught.value.problems


def test_a_site_without_a_selection_runs_its_own_lists_as_before(tmp_path):
    site = load(tmp_path, "  include: ['^tempest\\.api']\n  exclude: ['slow']\n")
    assert site.regression.selection is None and site.regression.areas == []
    assert site.regression.test_filters() == (["^tempest\\.api"], ["slow"])


def test_an_unknown_selection_names_the_file_the_field_and_the_names_allowed(tmp_path):
    assert problems(tmp_path, "  selection: smokey\n") == [
        f"{tmp_path}/site.yaml: regression.selection: expected a selection of the inspection catalogue "
        f"({SELECTIONS}), got 'smokey' (line 5)"]


def test_an_unknown_area_names_the_file_the_field_and_the_areas_allowed(tmp_path):
    # 'other' is what no area matches: it has no expression to select by
    assert problems(tmp_path, "  areas: [identity, baremetal, other]\n") == [
        f"{tmp_path}/site.yaml: regression.areas: expected areas of the inspection catalogue ({AREAS}), got "
        "'baremetal', 'other' (line 5)"]


def test_the_selections_lists_come_first_and_the_sites_own_add_to_them(tmp_path):
    site = load(tmp_path, "  selection: smoke\n  include: ['^site_tests\\.']\n  exclude: ['rbac_defaults']\n")
    smoke = load_catalogue().selections["smoke"]
    assert site.regression.test_filters() == ([*smoke.include, "^site_tests\\."], ["rbac_defaults"])


def test_areas_join_the_include_list_anchored_at_the_start_of_the_id(tmp_path):
    site = load(tmp_path, "  selection: bare-metal-and-orchestration\n  areas: [identity, orchestration]\n")
    include, exclude = site.regression.test_filters()
    assert include == ["^(?:ironic_tempest_plugin\\.)", "^(?:tempest\\.api\\.baremetal\\.)",
                       "^(?:tempest\\.scenario\\.test_baremetal_)", "^(?:heat_tempest_plugin\\.)",
                       "^(?:tempest\\.api\\.orchestration\\.)", "^(?:tempest\\.api\\.identity\\.)"]
    assert exclude == []


def test_a_selection_survives_the_round_trip_of_a_flow_parameter():
    regression = RegressionSite(selection="smoke", areas=["admin"])
    assert RegressionSite.model_validate(regression.model_dump(mode="json")) == regression


def test_config_validate_names_the_selection_and_areas(tmp_path):
    from rdoflow.config.summary import describe_site

    site = load(tmp_path, "  selection: smoke\n  areas: [admin]\n  exclude: ['slow']\n")
    assert ("regression: tempest in /home/stack/tempest, selection 'smoke' and areas admin plus 0 include and "
            "1 exclude pattern(s), concurrency 4") in describe_site(site)
