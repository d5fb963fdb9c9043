"""The inspection catalogue against real test ids: every id in one area, no dead expression, selections that select."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from rdoflow.config.catalogue import OTHER, load_catalogue
from rdoflow.errors import ConfigError
from rdoflow.tasks.regression.suites import selected_tests
from rdoflow.tasks.results.model import RunMeta
from rdoflow.tasks.results.readers import read_run
from rdoflow.tasks.workload.model import VALIDATION_PREFIX, WORKLOAD_PREFIX

FIXTURES = Path(__file__).parent / "fixtures" / "tempest"
# Listed by tempest 47.0.0 with ironic-tempest-plugin 3.2.0 and heat-tempest-plugin 3.0.0 (see the file's header).
LISTED = [line for line in (FIXTURES / "tempest-47-ids.txt").read_text().splitlines()
          if line and not line.startswith("#")]
TEMPEST_47 = [re.sub(r"\[[^\]]*\]$", "", line) for line in LISTED]
# A full run of an older Tempest (fuel-ccp's), from the days of tempest.api.orchestration and .baremetal.
OLDER = read_run(FIXTURES / "fuelccp-tempest.xml", RunMeta(run_id="fuelccp"))["test_id"].tolist()
# Rows that are not Tempest's: a real Rally 5.1.1 report's scenarios and SLA criteria, and the upgrade checks' rows
# (tasks/workload: the workload watched across the upgrade, the site's validations).
RALLY = read_run(FIXTURES.parent / "rally" / "heat-ironic-sla.rally.json", RunMeta(run_id="rally"))["test_id"].tolist()
CHECKS = [WORKLOAD_PREFIX + "heat-stack", VALIDATION_PREFIX + "undercloud-services"]


@pytest.fixture(scope="module")
def catalogue():
    return load_catalogue()


def test_the_sample_is_real_and_spans_tempest_and_both_plugins():
    assert len(LISTED) == 348
    assert {test.split(".")[0] for test in TEMPEST_47} == {"tempest", "ironic_tempest_plugin", "heat_tempest_plugin"}


def test_every_real_id_matches_the_expressions_of_at_most_one_area(catalogue):
    patterns = catalogue.area_patterns()
    overlapping = {test: hits for test in TEMPEST_47 + OLDER + RALLY + CHECKS
                   if len(hits := [name for name, p in patterns.items() if p.match(test)]) > 1}
    assert overlapping == {}


def test_only_the_dashboard_of_tempest_47_falls_in_other(catalogue):
    others = [test for test in TEMPEST_47 if catalogue.area_of(test) == OTHER]
    assert others == ["tempest.scenario.test_dashboard_basic_ops.TestDashboardBasicOps.test_basic_scenario"]


def test_each_area_has_real_tests_of_tempest_47_or_rows_of_rally_and_the_upgrade_checks(catalogue):
    assert {catalogue.area_of(test) for test in TEMPEST_47} == set(catalogue.areas) - {"performance",
                                                                                       "across-the-upgrade"}
    assert {catalogue.area_of(test) for test in RALLY} == {"performance"}
    assert {catalogue.area_of(test) for test in CHECKS} == {"across-the-upgrade"}


@pytest.mark.parametrize(("test_id", "area"), [
    ("tempest.api.identity.admin.v3.test_users.UsersV3TestJSON.test_update_user_password", "identity"),
    ("tempest.api.compute.servers.test_create_server.ServersTestJSON.test_list_servers", "compute-and-volumes"),
    ("tempest.api.compute.admin.test_quotas.QuotasAdminTestJSON.test_get_default_quotas", "admin"),
    ("tempest.api.volume.admin.test_volume_types.VolumeTypesTest.test_volume_crud_with_volume_type_and_extra_specs",
     "admin"),
    ("tempest.api.image.v2.test_images.BasicOperationsImagesTest.test_delete_image", "compute-and-volumes"),
    ("tempest.api.network.test_ports.PortsTestJSON.test_create_port_in_allowed_allocation_pools", "networking"),
    ("tempest.scenario.test_network_basic_ops.TestNetworkBasicOps.test_network_basic_ops", "networking"),
    ("tempest.scenario.test_volume_boot_pattern.TestVolumeBootPattern.test_volume_boot_pattern", "compute-and-volumes"),
    ("ironic_tempest_plugin.tests.api.admin.test_nodes.TestNodes.test_create_node", "bare-metal"),
    ("ironic_tempest_plugin.tests.api.rbac_defaults.test_nodes.TestNodeSystemAdmin.test_create_node", "bare-metal"),
    ("heat_tempest_plugin.tests.functional.test_create_update_neutron_port.UpdatePortTest.test_stack_update_replace_no_ip",
     "orchestration"),
    ("tempest.api.orchestration.stacks.test_resource_types.ResourceTypesTest.test_resource_type_show", "orchestration"),
    ("tempest.serial_tests.api.compute.admin.test_aggregates.AggregatesAdminTestJSON.test_aggregate_create_delete",
     "admin"),
    ("site_tests.test_backup.BackupTest.test_nightly_backup", OTHER),
    ("rally.HeatStacks.create_and_delete_stack.sla.max_seconds_per_iteration", "performance"),
    ("workload.guest-ping", "across-the-upgrade"),
    ("validation.ceph-health", "across-the-upgrade"),
])
def test_a_test_goes_to_the_area_a_customer_reads_it_in(catalogue, test_id, area):
    assert catalogue.area_of(test_id) == area


def test_no_expression_is_dead_on_real_ids(catalogue):
    ids = TEMPEST_47 + OLDER + RALLY + CHECKS
    dead = [(name, pattern) for name, area in catalogue.areas.items() for pattern in area.tests
            if not any(re.match(pattern, test) for test in ids)]
    assert dead == []


def test_every_selection_selects_real_tests_and_full_selects_them_all(catalogue):
    for name in catalogue.selections:
        include, exclude = catalogue.filters(name, [])
        assert selected_tests(LISTED, include, exclude), name
    assert selected_tests(LISTED, *catalogue.filters("full", [])) == LISTED


def test_smoke_selects_tempests_smoke_tag_and_the_plugins_basics(catalogue):
    chosen = selected_tests(LISTED, *catalogue.filters("smoke", []))
    tagged = [line for line in LISTED if re.search(r"\[.*\bsmoke\b.*\]", line)]
    assert len(tagged) == 43 and set(tagged) < set(chosen)
    assert {line.split(".")[0] for line in set(chosen) - set(tagged)} == {"ironic_tempest_plugin",
                                                                        "heat_tempest_plugin"}


def test_an_area_selection_selects_exactly_that_areas_tests(catalogue):
    chosen = selected_tests(LISTED, *catalogue.filters("bare-metal-and-orchestration", []))
    expected = [line for line, test in zip(LISTED, TEMPEST_47)
                if catalogue.area_of(test) in ("bare-metal", "orchestration")]
    assert chosen == expected and len(chosen) > 50


def test_areas_added_to_a_selection_widen_its_include_list(catalogue):
    include, _ = catalogue.filters("smoke", ["identity"])
    chosen = selected_tests(LISTED, include, [])
    assert all(any(line.startswith(t) for t in chosen) for line in LISTED if line.startswith("tempest.api.identity."))


@pytest.mark.parametrize(("text", "message"), [
    ("areas: {a: {title: A, reads_as: x, tests: ['^a']}}\nselections: {}",
     "the last area must be 'other', with no tests"),
    ("areas: {a: {title: A, reads_as: x, tests: ['(']}, other: {title: O, reads_as: y}}\nselections: {}",
     "areas.a.tests[0]: expected a regular expression"),
    ("areas: {a: {title: A, reads_as: x, tests: ['^a']}, other: {title: O, reads_as: y}}\n"
     "selections: {s: {description: d, areas: [b]}}", "selection 's' names b: expected areas among a"),
    ("areas: {a: {title: A, reads_as: x, tests: ['^a']}, r: {title: R, reads_as: z, tests: ['^rally'], "
     "selectable: false}, other: {title: O, reads_as: y}}\nselections: {s: {description: d, areas: [r]}}",
     "selection 's' names r: expected areas among a"),
])
def test_a_broken_catalogue_is_refused_naming_the_file_and_what_is_wrong(tmp_path, text, message):
    path = tmp_path / "catalogue.yaml"
    path.write_text(text)
    with pytest.raises(ConfigError) as caught:
        load_catalogue(path)
    assert str(path) in str(caught.value) and message in str(caught.value)
