"""YAML input costs what the file costs: aliases are bounded (a "billion laughs" is refused at its alias,
exit 2), shared blocks still read, and lines are recorded only for what the file writes."""

from __future__ import annotations

import pytest

from rdoflow.config.site import load_site
from rdoflow.config.yamlsource import read_yaml
from rdoflow.errors import ConfigError
from tests.yaml_bombs import billion_laughs, run_capped

MINIMAL = "name: lab\nundercloud:\n  ssh: {host: uc.example.com}\n"


def test_a_billion_laughs_is_refused_at_its_alias_and_exits_2(tmp_path):
    (tmp_path / "site.yaml").write_text(billion_laughs(9, head=MINIMAL))  # l0 on line 4: l3's aliases pass 1000
    result = run_capped(["-m", "rdoflow.cli.main", "config", "validate", "site.yaml"], cwd=tmp_path)
    assert result.stderr.splitlines() == [
        "site.yaml: too many aliases: with this one they would repeat more than 1000 values (line 7)"
    ], result.stderr[-800:]
    assert result.returncode == 2


# The other readers of YAML input, each a statement run in a capped child whose directory holds the
# bomb as bomb.yaml and as lab/lab.yaml.
OTHER_READERS = [
    pytest.param("from rdoflow.tasks.baremetal.inventory import read_inventory; read_inventory('bomb.yaml')",
                 id="inventory"),
    pytest.param("from rdoflow.tasks.results.runs import load_policy; load_policy(Path('bomb.yaml'))",
                 id="policy"),
    pytest.param("from rdoflow.lab.config import load; load(Path('lab'))", id="lab-knobs"),
]


@pytest.mark.parametrize("reader", OTHER_READERS)
def test_no_other_reader_expands_a_billion_laughs(tmp_path, reader):
    (tmp_path / "bomb.yaml").write_text(billion_laughs(9))
    (tmp_path / "lab").mkdir()
    (tmp_path / "lab" / "lab.yaml").write_text(billion_laughs(9))
    program = f"from pathlib import Path\ntry:\n    {reader}\nexcept Exception as exc:\n    print(exc)\n"
    result = run_capped(["-c", program], cwd=tmp_path)
    assert "too many aliases" in result.stdout and "line 4" in result.stdout, result.stdout + result.stderr[-800:]


def test_a_block_shared_through_aliases_still_validates(tmp_path):
    site_file = tmp_path / "site.yaml"
    site_file.write_text(
        "name: lab\n"
        "undercloud:\n"
        "  ssh: {host: uc.example.com, port: 2222}\n"
        "inventory:\n"
        "  min_available: &roles {Controller: 1, Compute: 2}\n"
        "overcloud:\n"
        "  roles: *roles\n"
        "regression:\n"
        "  exclude: &slow ['\\[.*\\bslow\\b.*\\]']\n"
        "policy:\n"
        "  flaky: *slow\n"
    )
    site = load_site(site_file)
    assert site.overcloud.roles == site.inventory.min_available == {"Controller": 1, "Compute": 2}
    assert site.policy.flaky == site.regression.exclude == [r"\[.*\bslow\b.*\]"]


def test_aliases_add_no_lines_only_the_keys_and_items_written_have_one(tmp_path):
    site_file = tmp_path / "site.yaml"
    site_file.write_text(billion_laughs(2, head=MINIMAL))
    document = read_yaml(site_file)
    assert document.data["l1"] == [["lol"] * 9] * 9
    written = 4 + 2 + 2 * 9  # name, undercloud, ssh, host; l0 and l1; the nine items of each
    assert len(document.lines) == written


def test_a_fault_reached_through_an_alias_is_reported_at_the_alias(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "site.yaml").write_text(
        "name: lab\nundercloud: {ssh: {host: uc}}\nregression:\n  exclude: &skips ['(']\npolicy:\n  flaky: *skips\n"
    )
    with pytest.raises(ConfigError) as caught:
        load_site("site.yaml")
    unterminated = "expected a regular expression, got '(' (missing ), unterminated subpattern at position 0)"
    assert caught.value.problems == [f"site.yaml: regression.exclude[0]: {unterminated} (line 4)",
                                     f"site.yaml: policy.flaky[0]: {unterminated} (line 6)"]
