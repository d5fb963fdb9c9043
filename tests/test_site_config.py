"""The site config file: what a good one gives the pipelines, and the exact words a broken one gets."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from rdoflow.config.site import SiteConfig, load_site
from rdoflow.errors import ConfigError

SITES = Path(__file__).parent / "sites"
GOOD = SITES / "good.yaml"
MINIMAL = "name: lab\nundercloud:\n  ssh: {host: uc.example.com}\n"

NO_FILE = object()
A_DIRECTORY = object()
SSH_FIELDS = "host, port, username, private_key_file, known_hosts, host_key_policy, connect_timeout, block"
SITE_FIELDS = "name, undercloud, cloud, inventory, overcloud, regression, upgrade, policy, results, drop, drop_review"

# Each broken file, written as site.yaml in a fresh directory and named so on the
# command line, and every line it must get; {dir} is that directory.
BROKEN_SITES = [
    pytest.param(
        "name: lab\nundercloud:\n  ssh: {host: uc, port: ssh}\n",
        ["site.yaml: undercloud.ssh.port: expected an integer, got 'ssh' (line 3)"],
        id="port-not-an-integer",
    ),
    pytest.param(
        "name: lab\nundercloud: {ssh: {host: uc, port: 70000}}\n",
        ["site.yaml: undercloud.ssh.port: expected a value <= 65535, got 70000 (line 2)"],
        id="port-out-of-range",
    ),
    pytest.param(
        "name: lab\nundercloud:\n  ssh:\n    host: uc\n    prot: 22\n",
        [f"site.yaml: undercloud.ssh.prot: unknown field; expected one of: {SSH_FIELDS} (did you mean 'port'?) "
         "(line 5)"],
        id="typo-gets-did-you-mean",
    ),
    pytest.param(
        "name: lab\nundercloud: {ssh: {host: uc}}\nnightly: true\n",
        [f"site.yaml: nightly: unknown field; expected one of: {SITE_FIELDS} (line 3)"],
        id="unknown-key",
    ),
    pytest.param(
        "name: lab\n",
        ["site.yaml: undercloud: required field is missing"],
        id="undercloud-missing",
    ),
    pytest.param(
        "name: lab\nundercloud: {ssh: {port: 22}}\n",
        ["site.yaml: undercloud.ssh: set either 'host' or 'block' (line 2)"],
        id="ssh-without-host-or-block",
    ),
    pytest.param(
        "name: lab\nundercloud: {ssh: {host: uc, host_key_policy: accept-new}}\n",
        ["site.yaml: undercloud.ssh.host_key_policy: expected one of 'verify', 'trust-on-first-use', "
         "got 'accept-new' (line 2)"],
        id="host-key-policy-not-a-choice",
    ),
    pytest.param(
        "name: lab\nundercloud: uc.example.com\n",
        ["site.yaml: undercloud: expected a mapping, got 'uc.example.com' (line 2)"],
        id="section-not-a-mapping",
    ),
    pytest.param(
        "name: lab\nundercloud: {ssh: {host: uc}}\novercloud:\n  environment_files: network-environment.yaml\n",
        ["site.yaml: overcloud.environment_files: expected a list, got 'network-environment.yaml' (line 4)"],
        id="list-expected",
    ),
    pytest.param(
        "name: lab\nundercloud: {ssh: {host: uc}}\novercloud: {stack: 2024}\n",
        ["site.yaml: overcloud.stack: expected a string, got 2024 (quote it to keep it as text) (line 3)"],
        id="number-where-text-expected",
    ),
    pytest.param(
        "name: lab\nundercloud: {ssh: {host: uc}}\nupgrade: {undercloud: maybe}\n",
        ["site.yaml: upgrade.undercloud: expected true or false, got 'maybe' (line 3)"],
        id="bool-expected",
    ),
    pytest.param(
        "name: lab\nundercloud: {ssh: {host: uc}}\ninventory:\n  concurrency:\n",
        ["site.yaml: inventory.concurrency: expected an integer, got an empty value (line 4)"],
        id="empty-value",
    ),
    pytest.param(
        "name: lab\nundercloud:\n  ssh: {host: uc, port: .inf}\n",
        ["site.yaml: undercloud.ssh.port: expected a finite number, got inf (line 3)"],
        id="port-infinite",
    ),
    pytest.param(
        "name: lab\nundercloud:\n  ssh: {host: uc, connect_timeout: 1e999}\n",
        ["site.yaml: undercloud.ssh.connect_timeout: expected a finite number, got '1e999' (line 3)"],
        id="timeout-past-the-largest-float",
    ),
    pytest.param(
        "name: lab\nundercloud:\n  ssh: {host: uc, connect_timeout: .inf}\n",
        ["site.yaml: undercloud.ssh.connect_timeout: expected a finite number, got inf (line 3)"],
        id="timeout-infinite",
    ),
    pytest.param(
        "name: lab\nundercloud:\n  ssh: {host: uc}\n  minimums: {ram_gb: .inf}\n",
        ["site.yaml: undercloud.minimums.ram_gb: expected a finite number, got inf (line 4)"],
        id="minimum-infinite",
    ),
    pytest.param(
        "name: lab\nundercloud: {ssh: {host: uc}}\npolicy: {slower_seconds: .nan}\n",
        ["site.yaml: policy.slower_seconds: expected a finite number, got nan (line 3)"],
        id="not-a-number",
    ),
    pytest.param(
        "name: lab\nundercloud:\n  ssh: {host: uc}\n  conf: {DEFAULT: {local_mtu: .inf}}\n",
        ["site.yaml: undercloud.conf.DEFAULT.local_mtu: expected a finite number, got inf (line 4)"],
        id="undercloud-conf-infinite",
    ),
    pytest.param(
        "name: lab\nundercloud: {ssh: {host: uc}}\npolicy: {slower_ratio: 1}\n",
        ["site.yaml: policy.slower_ratio: expected a value > 1, got 1 (line 3)"],
        id="ratio-not-above-one",
    ),
    pytest.param(
        "name: lab\nundercloud:\n  ssh: {host: 'uc; touch x'}\n",
        ["site.yaml: undercloud.ssh.host: expected a host name or an IP address, got 'uc; touch x' (line 3)"],
        id="host-with-a-shell-command",
    ),
    pytest.param(
        "name: lab\nundercloud:\n  ssh: {host: -oProxyCommand=id}\n",
        ["site.yaml: undercloud.ssh.host: expected a host name or an IP address, got '-oProxyCommand=id' (line 3)"],
        id="host-that-is-an-option",
    ),
    pytest.param(
        "name: lab\nundercloud:\n  ssh: {host: uc, username: $(id)}\n",
        ["site.yaml: undercloud.ssh.username: expected an account name of letters, digits, '_', '.' and '-', "
         "got '$(id)' (line 3)"],
        id="username-with-a-shell-command",
    ),
    pytest.param(
        "name: Prod East\nundercloud: {ssh: {host: uc}}\n",
        ["site.yaml: name: expected a short lowercase name of letters, digits and '-' (like 'lab' or "
         "'prod-east'), got 'Prod East' (line 1)"],
        id="name-not-a-slug",
    ),
    pytest.param(
        "name: lab\nundercloud: {ssh: {host: uc}}\nregression:\n  exclude:\n    - smoke\n    - slow\n    - '('\n",
        ["site.yaml: regression.exclude[2]: expected a regular expression, got '(' "
         "(missing ), unterminated subpattern at position 0) (line 7)"],
        id="bad-regex",
    ),
    pytest.param(
        "name: lab\nundercloud: {ssh: {host: uc}}\npolicy:\n  known_failures:\n"
        "    - {test: tempest.api.image, reason: no glance v1}\n    - test: tempest.scenario\n      lp: 1798516\n",
        ["site.yaml: policy.known_failures[1].reason: required field is missing (line 6)"],
        id="known-failure-without-reason",
    ),
    pytest.param(
        "name: lab\nundercloud:\n  ssh: {host: uc}\n  conf:\n    auth: {undercloud_admin_password: hunter2}\n",
        ["site.yaml: undercloud.conf.auth.undercloud_admin_password: secrets do not belong in the site config "
         "(the Prefect UI shows it in clear); leave them out and TripleO generates them into "
         "undercloud-passwords.conf (line 5)"],
        id="password-in-undercloud-conf",
    ),
    pytest.param(
        "name: lab\nundercloud:\n  ssh:\n    host: uc\n    port: 22\n    port: 2222\n",
        ["site.yaml: undercloud.ssh.port: duplicate key; it is already set at line 5 (line 6)"],
        id="duplicate-key",
    ),
    pytest.param(
        "name: lab\nundercloud:\n  ssh: {host: uc, private_key_file: keys/id_rsa}\n",
        ["site.yaml: undercloud.ssh.private_key_file: no such file: {dir}/keys/id_rsa (line 3)"],
        id="key-file-missing",
    ),
    pytest.param(
        "name: lab\nundercloud: {ssh: {host: uc}}\ninventory: {file: ../instackenv.json}\n",
        ["site.yaml: inventory.file: no such file: {parent}/instackenv.json (line 3)"],
        id="inventory-file-missing",
    ),
    pytest.param(
        "name: lab\nundercloud: {ssh: {host: uc}}\ncloud: {clouds_yaml: .}\n",
        ["site.yaml: cloud.clouds_yaml: is a directory, expected a file: {dir} (line 3)"],
        id="clouds-yaml-is-a-directory",
    ),
    pytest.param(
        "name: lab\nundercloud: {ssh: {host: uc}}\nregression:\n  setup:\n    overrides:\n"
        "      auth: {admin_password: hunter2}\n",
        ["site.yaml: regression.setup.overrides: auth.admin_password: a secret does not belong in the site config "
         "(the Prefect UI shows it in clear); write env:NAME to take it from the credentials file's variable NAME "
         "on the undercloud, e.g. env:OS_PASSWORD (line 5)"],
        id="secret-in-tempest-overrides",
    ),
    pytest.param(
        "name: lab\nundercloud: {ssh: {host: uc}}\ncloud: {block: uc-cloud, from_undercloud: true}\n",
        ["site.yaml: cloud: from_undercloud and block both name where the cloud comes from: keep one (line 3)"],
        id="cloud-from-two-places",
    ),
    pytest.param(
        "name: lab\nundercloud: {ssh: {host: uc}}\ndrop:\n  apply: sideways\n  update_commands: [[]]\n",
        ["site.yaml: drop.apply: expected one of 'update', 'upgrade', got 'sideways' (line 4)",
         "site.yaml: drop.update_commands[0]: expected at least 1 items (line 5)"],
        id="drop-apply-not-a-choice-and-an-empty-command",
    ),
    pytest.param(
        "name: lab\nundercloud:\n  ssh:\n    host: uc\n   port: 22\n",
        ["site.yaml:5:4: not valid YAML: expected <block end>, but found '<block mapping start>' "
         "(while parsing a block mapping, which starts at line 3)"],
        id="bad-indentation",
    ),
    pytest.param(
        "name: lab\nundercloud: {ssh: {host: uc}\n",
        ["site.yaml:3:1: not valid YAML: expected ',' or '}', but got '<stream end>' "
         "(while parsing a flow mapping, which starts at line 2)"],
        id="unclosed-brace",
    ),
    pytest.param(
        "name: lab\n---\nname: other\n",
        ["site.yaml:2:1: not valid YAML: expected a single document in the stream, but found another document"],
        id="two-documents",
    ),
    pytest.param(
        b"name: lab\nundercloud:\n  ssh: {host: caf\xe9}\n",
        ["site.yaml: not UTF-8 text: byte 0xe9 cannot be decoded; save the file as UTF-8 (line 3)"],
        id="latin-1-bytes",
    ),
    pytest.param(
        "",
        ["site.yaml: the file is empty; expected a mapping with at least 'name' and 'undercloud'"],
        id="empty-file",
    ),
    pytest.param(
        "# nothing here yet\n",
        ["site.yaml: the file is empty; expected a mapping with at least 'name' and 'undercloud'"],
        id="only-comments",
    ),
    pytest.param(
        "- name: lab\n",
        ["site.yaml: expected a mapping at the top level, got a list"],
        id="top-level-list",
    ),
    pytest.param(NO_FILE, ["site.yaml: no such file"], id="file-does-not-exist"),
    pytest.param(A_DIRECTORY, ["site.yaml: is a directory, expected a YAML file"], id="file-is-a-directory"),
]


def write_site(directory: Path, content: object) -> None:
    if isinstance(content, bytes):
        (directory / "site.yaml").write_bytes(content)
    elif isinstance(content, str):
        (directory / "site.yaml").write_text(content)
    elif content is A_DIRECTORY:
        (directory / "site.yaml").mkdir()


@pytest.mark.parametrize("content, expected", BROKEN_SITES)
def test_a_broken_site_file_gets_exactly_these_messages(tmp_path, monkeypatch, content, expected):
    monkeypatch.chdir(tmp_path)
    write_site(tmp_path, content)
    with pytest.raises(ConfigError) as caught:
        load_site("site.yaml")
    places = {"{dir}": str(tmp_path), "{parent}": str(tmp_path.parent)}
    for placeholder, value in places.items():
        expected = [line.replace(placeholder, value) for line in expected]
    assert caught.value.problems == expected


def test_the_file_is_named_as_the_user_gave_it(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path.parent)
    (tmp_path / "east.yaml").write_text("name: lab\n")
    given = f"{tmp_path.name}/east.yaml"
    with pytest.raises(ConfigError) as caught:
        load_site(given)
    assert caught.value.problems == [f"{given}: undercloud: required field is missing"]


def test_an_unreadable_file_says_so(tmp_path, monkeypatch):
    """Stands in for a file chmod 0 cannot deny: CI runs as root, who reads every file; the
    PermissionError it raises is the one the kernel gives any other user."""
    site = tmp_path / "site.yaml"
    site.write_text(MINIMAL)

    def refused(path: Path) -> bytes:  # as chmod 0 would, even for root, who reads any file
        raise PermissionError(13, "Permission denied", str(path))

    monkeypatch.setattr(Path, "read_bytes", refused)
    with pytest.raises(ConfigError) as caught:
        load_site(site)
    assert caught.value.problems == [f"{site}: cannot read the file: permission denied"]


def test_every_problem_in_a_file_is_reported_in_the_order_of_the_file(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "site.yaml").write_text(
        "name: lab\n"
        "undercloud:\n"
        "  ssh:\n"
        "    host: uc\n"
        "    port: ssh\n"
        "    private_key_file: nokey\n"
        "  minimums: {cpus: 0}\n"
        "inventory:\n"
        "  concurrency: 4\n"
        "  concurrency: 8\n"
        "policy:\n"
        "  flaky: ['[']\n"
        "  known_failures: [{test: tempest.api}]\n"
    )
    with pytest.raises(ConfigError) as caught:
        load_site("site.yaml")
    assert caught.value.problems == [
        "site.yaml: undercloud.ssh.port: expected an integer, got 'ssh' (line 5)",
        f"site.yaml: undercloud.ssh.private_key_file: no such file: {tmp_path}/nokey (line 6)",
        "site.yaml: undercloud.minimums.cpus: expected a value >= 1, got 0 (line 7)",
        "site.yaml: inventory.concurrency: duplicate key; it is already set at line 9 (line 10)",
        "site.yaml: policy.flaky[0]: expected a regular expression, got '[' "
        "(unterminated character set at position 0) (line 12)",
        "site.yaml: policy.known_failures[0].reason: required field is missing (line 13)",
    ]
    assert str(caught.value) == "site.yaml: 6 problems"


def test_the_good_example_loads_every_section():
    site = load_site(GOOD)
    assert site.name == "rdo-lab-east"
    assert site.undercloud.ssh.host == "undercloud.lab.example.com"
    assert site.undercloud.ssh.port == 2222
    assert site.undercloud.minimums.cpus == 12
    assert site.undercloud.conf["ctlplane-subnet"]["cidr"] == "192.168.24.0/24"
    assert site.undercloud.conf["DEFAULT"]["enable_ironic_inspector"] is True
    assert site.inventory.min_available == {"control": 1, "compute": 2}
    assert site.overcloud.roles == {"Controller": 1, "Compute": 2}
    assert site.overcloud.extra_args == ["--ntp-server", "pool.ntp.org"]
    assert site.regression.exclude == [r"\[.*\bslow\b.*\]"]
    assert site.upgrade.roles_order == ["Controller", "Compute"]
    assert site.policy.known_failures[0].bug == "1798516"
    assert site.results.location == "s3://ci-results/rdo-lab-east"
    assert site.drop.apply == "update" and site.drop.repos_dir == "/etc/yum.repos.d"
    assert site.drop.containers.set["namespace"] == "quay.io/tripleozedcentos9"


def test_relative_paths_are_read_from_the_site_files_directory_not_the_working_one(tmp_path, monkeypatch):
    monkeypatch.chdir(SITES.parent)
    site = load_site("sites/good.yaml")
    assert site.undercloud.ssh.private_key_file == SITES / "keys" / "undercloud_key"
    assert site.undercloud.ssh.known_hosts == SITES / "keys" / "known_hosts"
    assert site.inventory.file == SITES / "instackenv.json"
    assert site.cloud.clouds_yaml == SITES / "clouds.yaml"
    monkeypatch.chdir(tmp_path)
    assert load_site(GOOD) == site


def test_home_and_absolute_paths_are_kept_as_written(tmp_path, monkeypatch):
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    (tmp_path / "home" / ".ssh").mkdir(parents=True)
    (tmp_path / "home" / ".ssh" / "id_ed25519").write_text("not a key")
    (tmp_path / "instackenv.json").write_text('{"nodes": []}')
    site_file = tmp_path / "sites" / "site.yaml"
    site_file.parent.mkdir()
    site_file.write_text(
        "name: lab\n"
        "undercloud:\n"
        "  ssh: {host: uc, private_key_file: ~/.ssh/id_ed25519}\n"
        f"inventory: {{file: {tmp_path}/instackenv.json}}\n"
    )
    site = load_site(site_file)
    assert site.undercloud.ssh.private_key_file == tmp_path / "home" / ".ssh" / "id_ed25519"
    assert site.inventory.file == tmp_path / "instackenv.json"


def test_a_relative_results_directory_is_read_from_the_site_file_and_a_url_is_kept(tmp_path):
    site_file = tmp_path / "site.yaml"
    site_file.write_text(MINIMAL + "results: {location: results}\n")
    assert load_site(site_file).results.location == str(tmp_path / "results")
    site_file.write_text(MINIMAL + "results: {location: 's3://ci/results'}\n")
    assert load_site(site_file).results.location == "s3://ci/results"


def test_the_results_public_url_is_a_base_a_browser_opens(tmp_path):
    site_file = tmp_path / "site.yaml"
    site_file.write_text(MINIMAL + "results: {location: 's3://ci/results', public_url: 'https://ci.example/rdoflow'}\n")
    assert load_site(site_file).results.public_url == "https://ci.example/rdoflow/"


@pytest.mark.parametrize(("url", "problem"), [
    ("https://bob:hunter2@ci.example/r/", "expected a URL without a user or password"),
    ("https://ci.example/r/?X-Amz-Signature=hunter2", "expected a base URL the reports' paths are appended to, "
                                                      "without a query, a fragment or a space"),
    ("javascript:alert(1)", "expected an http://, https:// or file:// URL a browser opens, got 'javascript:alert(1)'"),
    ("s3://bucket/results", "expected an http://, https:// or file:// URL a browser opens"),
])
def test_a_public_url_a_browser_cannot_open_or_that_holds_a_secret_names_the_field(tmp_path, url, problem):
    site_file = tmp_path / "site.yaml"
    site_file.write_text(MINIMAL + f"results: {{public_url: '{url}'}}\n")
    with pytest.raises(ConfigError) as caught:
        load_site(site_file)
    [line] = caught.value.problems
    assert line.startswith(f"{site_file}: results.public_url: {problem}") and line.endswith("(line 4)")
    assert "hunter2" not in line


def test_known_hosts_may_be_missing_when_the_first_contact_records_it(tmp_path):
    site_file = tmp_path / "site.yaml"
    site_file.write_text(
        "name: lab\nundercloud:\n  ssh: {host: uc, known_hosts: kh, host_key_policy: trust-on-first-use}\n"
    )
    assert load_site(site_file).undercloud.ssh.known_hosts == tmp_path / "kh"


def test_a_minimal_site_gets_the_defaults(tmp_path):
    site_file = tmp_path / "site.yaml"
    site_file.write_text(MINIMAL)
    site = load_site(site_file)
    assert site.undercloud.ssh.username == "stack"
    assert site.undercloud.ssh.host_key_policy == "verify"
    assert site.undercloud.minimums.model_dump() == {"ram_gb": 24, "cpus": 8, "disk_gb": 100, "disk_path": "/"}
    assert site.undercloud.conf == {"DEFAULT": {}}
    assert site.cloud.cloud == "undercloud"
    assert (site.inventory.file, site.inventory.concurrency, site.inventory.retries) == (None, 10, 1)
    assert site.overcloud.stack == "overcloud"
    assert site.overcloud.templates == "/usr/share/openstack-tripleo-heat-templates"
    assert site.regression.kind == "tempest"
    assert site.upgrade.roles_order == ["Controller", "Compute"]
    assert (site.policy.slower_ratio, site.policy.slower_seconds, site.policy.history_runs) == (1.5, 5.0, 10)
    assert site.results.location == ".rdoflow/results"


def test_paths_given_as_flow_parameters_are_taken_as_they_are():
    site = SiteConfig.model_validate({"name": "lab", "undercloud": {"ssh": {"host": "uc", "private_key_file": "id"}}})
    assert site.undercloud.ssh.private_key_file == Path("id")


def test_a_merge_key_may_be_overridden_without_being_a_duplicate(tmp_path):
    site_file = tmp_path / "site.yaml"
    site_file.write_text("name: lab\nundercloud:\n  ssh:\n    <<: &uc {host: uc, port: 22}\n    port: 2222\n")
    assert load_site(site_file).undercloud.ssh.port == 2222


def test_a_site_survives_the_round_trip_of_a_flow_parameter():
    site = load_site(GOOD)
    assert SiteConfig.model_validate(json.loads(json.dumps(site.model_dump(mode="json")))) == site


def test_every_field_has_a_description_for_the_ui_form():
    schema = SiteConfig.model_json_schema()
    models = {"SiteConfig": schema, **schema["$defs"]}
    undescribed = [
        f"{model}.{name}"
        for model, definition in models.items()
        for name, field in definition.get("properties", {}).items()
        if not field.get("description")
    ]
    assert undescribed == []
    assert set(schema["$defs"]) >= {"UndercloudSite", "ComparisonPolicy", "KnownFailure", "SSHTarget"}


def test_min_available_may_still_be_spelled_required_as_sites_first_wrote_it(tmp_path):
    for key in ("min_available", "required"):
        (tmp_path / "site.yaml").write_text(f"name: east\nundercloud: {{ssh: {{host: uc}}}}\n"
                                            f"inventory: {{{key}: {{control: 3}}}}\n")
        assert load_site(tmp_path / "site.yaml").inventory.min_available == {"control": 3}
